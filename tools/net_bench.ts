/**
 * Network figures (run by `deno task bench` after tools/bench.ts), on loopback:
 * - parallel efficiency: samples/s of a master and its slaves, each process pinned to its own core with
 *   one llvmpipe thread, over the sum of each node's samples/s rendering alone on that core;
 * - render-data transfer in MB/s through a sealed link (Noise_NNpsk0, ChaCha20-Poly1305) against a raw
 *   Deno TCP copy of the same bytes;
 * - handshake time (TCP connect, preamble, Noise handshake) and time from a slave connecting to its first
 *   merged sample;
 * - bytes per merged sample on the wire, compressed and uncompressed.
 * Prints figures; asserts nothing. Options: --spp N, --size N (image side), --json FILE.
 * @module
 */
import { parseArgs } from "node:util";
import { Master } from "../mod/net/master/mod.ts";
import { toHex } from "../mod/bytes.ts";
import { generateKey, writeKeyFile } from "../mod/net/key.ts";
import { Link } from "../mod/net/protocol/mod.ts";
import { CipherState } from "../mod/net/protocol/noise.ts";
import { compileScene, renderDataSections } from "../mod/render_data/mod.ts";
import { bumpySphereBox } from "../mod/scene/mod.ts";
import { formatRate } from "../mod/status/mod.ts";
import { peerCommand } from "./_peer.ts";

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
// every link sealed with a farm key, as on a studio's LAN
const key = generateKey();
await writeKeyFile(`${dir}/key`, key);
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
  "--key-file",
  `${dir}/key`,
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
  (_, k) => pinned(k + 1, ["slave", "--master", `127.0.0.1:${port}`, "--key-file", `${dir}/key`]).spawn(),
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

// the cipher's own ceiling on one core: ChaCha20-Poly1305 (node:crypto) over 64 KiB transport messages
{
  const tx = new CipherState(), rx = new CipherState();
  tx.initializeKey(key), rx.initializeKey(key);
  const message = new Uint8Array(65519).map((_, i) => i & 255), none = new Uint8Array(0);
  const count = 1500;
  const sealed: Uint8Array[] = [];
  let c0 = performance.now();
  for (let i = 0; i < count; i++) sealed.push(tx.encryptWithAd(none, message));
  const sealMBps = (count * message.length) / 1e6 / ((performance.now() - c0) / 1000);
  c0 = performance.now();
  for (const m of sealed) rx.decryptWithAd(none, m);
  const openMBps = (count * message.length) / 1e6 / ((performance.now() - c0) / 1000);
  figures.cipher = { sealMBps, openMBps };
  console.log(
    `ChaCha20-Poly1305 on one core, 64 KiB messages: seal ${sealMBps.toFixed(0)} MB/s, open ${
      openMBps.toFixed(0)
    } MB/s`,
  );
}

// render-data transfer: a sealed link against a raw TCP copy of the same bytes; the receiver is a process of
// its own on the other core (as a slave is on its own machine), this process the sender on the first
await new Deno.Command("taskset", {
  args: ["-a", "-cp", "0", String(Deno.pid)],
  stdout: "null",
  stderr: "null",
})
  .output().catch(() => {});
const receiver = (args: string[]) =>
  new Deno.Command("taskset", {
    args: [
      "-c",
      String(Math.min(1, cores - 1)),
      ...peerCommand("./transfer_peer.ts"),
      ...args,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output().then((out) => {
    if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
    return JSON.parse(new TextDecoder().decode(out.stdout)) as { bytes: number; first: number; best: number };
  });
const hex = toHex(key);
const data = compileScene(bumpySphereBox(520_000));
const sameBytes = renderDataSections(data);
const total = sameBytes.reduce((n, s) => n + s.bytes.length, 0);
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
  key,
  // the same bytes as the raw copy: this figure is the sealed link's own cost (tools/upload_bench.ts measures
  // compression)
  compressSections: false,
});
const running = m.run().catch(() => {});
// handshake: TCP connect, both preambles, the Noise round trip (the mean of 20)
const rounds = 20;
const h0 = performance.now();
for (let i = 0; i < rounds; i++) {
  (await Link.connect("127.0.0.1", m.port, { service: "render", key })).close();
}
const handshakeMs = (performance.now() - h0) / rounds;
figures.handshakeMs = handshakeMs;
console.log(`handshake (connect, both preambles, Noise_NNpsk0 round trip): ${handshakeMs.toFixed(2)} ms`);

/** A raw copy: the same sections in 1 MiB writes each time the receiver says go. */
async function rawRun(): Promise<{ bytes: number; first: number; best: number }> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const got = receiver(["raw", "127.0.0.1", String((listener.addr as Deno.NetAddr).port), String(total)]);
  const c = await listener.accept();
  for (let round = 0; round < 3; round++) {
    await c.read(new Uint8Array(1));
    for (const s of sameBytes) {
      for (let at = 0; at < s.bytes.length; at += 1 << 20) {
        const chunk = s.bytes.subarray(at, Math.min(s.bytes.length, at + (1 << 20)));
        let k = 0;
        while (k < chunk.length) k += await c.write(chunk.subarray(k));
      }
    }
  }
  const result = await got;
  c.close();
  listener.close();
  return result;
}
// alternate, three receiver processes of each kind; per kind the best first transfer (fresh buffers, as a
// slave joining) and the best warm one
const runs = {
  sealed: [] as { first: number; best: number }[],
  raw: [] as { first: number; best: number }[],
};
for (let i = 0; i < 3; i++) {
  const sealed = await receiver(["sealed", "127.0.0.1", String(m.port), hex]);
  if (sealed.bytes !== total) throw new Error(`the sealed receiver got ${sealed.bytes} of ${total} bytes`);
  runs.sealed.push(sealed);
  runs.raw.push(await rawRun());
}
m.close();
await running;
const mbps = (kind: "sealed" | "raw", which: "first" | "best") =>
  total / 1e6 / Math.min(...runs[kind].map((r) => r[which]));
const transfer = {
  bytes: total,
  fresh: { sealedMBps: mbps("sealed", "first"), rawMBps: mbps("raw", "first") },
  warm: { sealedMBps: mbps("sealed", "best"), rawMBps: mbps("raw", "best") },
};
figures.transfer = transfer;
console.log(
  `render-data transfer, ${(total / 1e6).toFixed(1)} MB, sender and receiver each on a core of its own:`,
);
for (
  const [what, f] of [["into fresh buffers (a slave joining)", transfer.fresh], [
    "into warm buffers",
    transfer.warm,
  ]] as const
) {
  console.log(
    `  ${what}: ${f.sealedMBps.toFixed(0)} MB/s sealed, ${f.rawMBps.toFixed(0)} MB/s raw TCP = ${
      (f.sealedMBps / f.rawMBps).toFixed(2)
    } of raw; ${(f.sealedMBps / 125).toFixed(1)}x a 1 GbE link, ${(f.sealedMBps / 1250).toFixed(2)}x 10 GbE`,
  );
}
if (values.json) await Deno.writeTextFile(values.json, JSON.stringify(figures, null, 2) + "\n");
await Deno.remove(dir, { recursive: true });
