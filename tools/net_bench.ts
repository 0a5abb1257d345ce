/**
 * Network figures (run by `deno task bench` after tools/bench.ts), on loopback:
 * - parallel efficiency: samples/s of a master and its slaves, each process pinned to its own core with
 *   one llvmpipe thread, over the sum of each node's samples/s rendering alone on that core;
 * - render-data transfer in MB/s through the protocol against a raw Deno TCP copy of the same bytes;
 * - time from a slave connecting to its first merged sample;
 * - bytes per merged sample on the wire, compressed and uncompressed.
 * Prints figures; asserts nothing. Options: --spp N, --size N (image side), --json FILE.
 * @module
 */
import { parseArgs } from "node:util";
import { Master } from "../mod/net/master/mod.ts";
import { nonce, parseJson, parseSectionHead, Peer } from "../mod/net/protocol/mod.ts";
import { compileScene } from "../mod/render_data/mod.ts";
import { bumpySphereBox } from "../mod/scene/mod.ts";
import { formatRate } from "../mod/status/mod.ts";
import { PROTOCOL_VERSION, VERSION } from "../mod/version.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    spp: { type: "string", default: "96" },
    size: { type: "string", default: "96" },
    json: { type: "string" },
  },
  strict: true,
});
const root = new URL("..", import.meta.url).pathname;
const spp = Number(values.spp), size = String(values.size);
const cores = navigator.hardwareConcurrency;
const slaves = Math.max(0, Math.min(2, cores - 1));
const figures: Record<string, unknown> = { cores, slaves };
const dir = await Deno.makeTempDir({ prefix: "octane-netbench-" });
const pinned = (core: number, args: string[]) =>
  new Deno.Command("taskset", {
    args: ["-c", String(core), `${root}octane`, ...args],
    env: { LP_NUM_THREADS: "1" },
    stdout: "piped",
    stderr: "piped",
  });
const image = ["--spp", String(spp), "--width", size, "--height", size, "--seed", "1"];

console.log(
  `network benchmark: ${cores} cores, master + ${slaves} slave(s), each pinned to a core with one llvmpipe thread`,
);
if (cores < 3) {
  console.log("  (3 nodes need 3 cores: on this machine only master + 1 slave can each have one)");
}

// each node alone, on its core
const solo: number[] = [];
for (let core = 0; core <= slaves; core++) {
  const out = await pinned(core, [
    "render",
    "--quiet",
    ...image,
    "-o",
    `${dir}/solo.png`,
    "--report",
    `${dir}/solo.json`,
  ]).output();
  if (out.code !== 0) throw new Error(new TextDecoder().decode(out.stderr));
  solo.push(JSON.parse(await Deno.readTextFile(`${dir}/solo.json`)).samplesPerSecond);
}
// master + slaves together
const master = pinned(0, [
  "master",
  "--bind",
  "127.0.0.1",
  "--port",
  "27500",
  "--auto-port",
  "--wait-slaves",
  String(slaves),
  ...image,
  "-o",
  `${dir}/net.png`,
  "--report",
  `${dir}/net.json`,
  "--quiet",
]).spawn();
const reader = master.stdout.getReader();
let text = "";
while (!/listening on [\d.]+:(\d+)/.test(text)) {
  const { value, done } = await reader.read();
  if (done) throw new Error("the master exited before listening");
  text += new TextDecoder().decode(value);
}
const port = /listening on [\d.]+:(\d+)/.exec(text)![1];
const children = Array.from(
  { length: slaves },
  (_, k) => pinned(k + 1, ["slave", "--master", `127.0.0.1:${port}`]).spawn(),
);
const status = await master.status;
await Promise.all(children.map((c) => c.status));
reader.releaseLock();
await Promise.all([
  master.stdout.cancel(),
  master.stderr.cancel(),
  ...children.flatMap((c) => [c.stdout.cancel(), c.stderr.cancel()]),
]);
if (!status.success) throw new Error("the master failed");
const report = JSON.parse(await Deno.readTextFile(`${dir}/net.json`));
const together = report.samplesPerSecond;
const efficiency = together / solo.reduce((a, b) => a + b, 0);
figures.parallel = { solo, together, efficiency };
console.log(
  `parallel efficiency: ${formatRate(together)}samples/s together over ${
    solo.map((s) => formatRate(s) + "samples/s").join(" + ")
  } alone = ${efficiency.toFixed(3)}`,
);
for (const n of report.nodes.filter((n: { role: string }) => n.role === "slave")) {
  console.log(
    `slave ${n.address}: first merged sample ${n.firstSampleMs?.toFixed(0)} ms after connecting; results ${
      (n.resultBytes / n.samples).toFixed(3)
    } bytes/sample compressed, ${(n.resultBytesUncompressed / n.samples).toFixed(3)} uncompressed (${
      (n.resultBytesUncompressed / n.resultBytes).toFixed(2)
    }x)`,
  );
}
figures.slaves = report.nodes.filter((n: { role: string }) => n.role === "slave");

// render-data transfer: the protocol against a raw TCP copy of the same bytes
const data = compileScene(bumpySphereBox(520_000));
const m = Master.start(data, {
  spp: 1,
  width: 8,
  height: 8,
  seed: 1,
  maxDepth: 1,
  bind: "127.0.0.1",
  port: 27600,
  autoPort: true,
  localRender: false,
  waitSlaves: 1,
});
const running = m.run().catch(() => {});
const conn = await Deno.connect({ hostname: "127.0.0.1", port: m.port });
const peer = new Peer(conn);
await peer.send("hello", {
  role: "slave",
  version: VERSION,
  protocol: PROTOCOL_VERSION,
  host: "bench",
  gpus: [],
  nonce: nonce(),
});
await peer.receive(); // welcome
const scene = parseJson((await peer.receive())!.payload, "scene");
const sections = scene.sections as { hash: string; length: number }[];
const total = sections.reduce((n, s) => n + s.length, 0);
let t0 = performance.now();
await peer.send("need", { hashes: sections.map((s) => s.hash) });
// as a slave does: each section read straight into a buffer of its own
const kept = new Map(sections.map((s) => [s.hash, new Uint8Array(s.length)]));
peer.sink = {
  type: "section",
  headBytes: 40,
  target: (head, rest) => {
    const { hash, offset } = parseSectionHead(head);
    return kept.get(hash)?.subarray(offset, offset + rest);
  },
};
let received = 0;
while (received < total) {
  const f = await peer.receive();
  if (!f) throw new Error("the master closed the connection");
  if (f.type === "section") received += f.directBytes ?? 0;
}
const protocolSeconds = (performance.now() - t0) / 1000;
peer.close();
m.close();
await running;

const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
const sink = (async () => {
  // a raw copy: the receiver keeps the bytes, reading them straight into one buffer of their size
  const c = await listener.accept();
  const copy = new Uint8Array(total);
  let n = 0;
  while (n < total) {
    const k = await c.read(copy.subarray(n));
    if (k === null) break;
    n += k;
  }
  c.close();
  return n;
})();
const sender = await Deno.connect({ hostname: "127.0.0.1", port: (listener.addr as Deno.NetAddr).port });
// the same bytes: every section of the render data, in 1 MiB writes
const { renderDataSections } = await import("../mod/render_data/mod.ts");
const sameBytes = renderDataSections(data);
t0 = performance.now();
for (const s of sameBytes) {
  for (let at = 0; at < s.bytes.length; at += 1 << 20) {
    const chunk = s.bytes.subarray(at, Math.min(s.bytes.length, at + (1 << 20)));
    let k = 0;
    while (k < chunk.length) k += await sender.write(chunk.subarray(k));
  }
}
await sink;
const rawSeconds = (performance.now() - t0) / 1000;
sender.close();
listener.close();
const mb = total / 1e6;
figures.transfer = {
  bytes: total,
  protocolMBps: mb / protocolSeconds,
  rawMBps: mb / rawSeconds,
  ratio: rawSeconds / protocolSeconds,
};
console.log(
  `render-data transfer (${mb.toFixed(1)} MB): ${
    (mb / protocolSeconds).toFixed(0)
  } MB/s through the protocol, ${(mb / rawSeconds).toFixed(0)} MB/s raw TCP = ${
    (rawSeconds / protocolSeconds).toFixed(2)
  } of raw`,
);
if (values.json) await Deno.writeTextFile(values.json, JSON.stringify(figures, null, 2) + "\n");
await Deno.remove(dir, { recursive: true });
