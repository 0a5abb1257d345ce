/**
 * Daemon figures (run by `deno task bench`), on loopback only:
 * - time for a master to scan 127.0.0.0/24 for daemons on the daemon port, with two daemons on
 *   127.0.0.2 and 127.0.0.3 (every other address refuses at once: loopback cannot show a LAN's silent hosts);
 * - time from the start request a master sends to a daemon to the first merged sample of the slave that
 *   daemon starts (slave process start, Deno and GPU start-up, handshake, render data, first unit).
 * Every link is sealed with a throwaway farm key. Prints figures; asserts nothing. Options: --runs N, --json FILE.
 * @module
 */
import { parseArgs } from "node:util";
import { DaemonPool, parseSubnet, scanDaemons, scanTargets } from "../mod/net/discovery/mod.ts";
import { generateKey, writeKeyFile } from "../mod/net/key.ts";
import { Master } from "../mod/net/master/mod.ts";
import { loadRenderData } from "../mod/render_data/mod.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { runs: { type: "string", default: "5" }, json: { type: "string" } },
  strict: true,
});
const runs = Number(values.runs);
const root = new URL("..", import.meta.url).pathname;
const DAEMONS = ["127.0.0.2", "127.0.0.3"];
const port = 12000 + Math.floor(Math.random() * 200);
const figures: Record<string, unknown> = { daemonPort: port };
// every link sealed with a farm key, as on a studio's LAN
const keyDir = await Deno.makeTempDir({ prefix: "octane-daemonbench-" });
const key = generateKey();
await writeKeyFile(`${keyDir}/key`, key);

const daemons = DAEMONS.map((address) => {
  const child = new Deno.Command(`${root}octane`, {
    args: ["daemon", "--bind", address, "--port", String(port), "--key-file", `${keyDir}/key`],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  return { address, child, ready: waitForLine(child.stdout, /Daemon listening on/) };
});

function waitForLine(stream: ReadableStream<Uint8Array>, pattern: RegExp): Promise<void> {
  return (async () => {
    const decoder = new TextDecoder();
    let text = "";
    for await (const chunk of stream) {
      text += decoder.decode(chunk, { stream: true });
      if (pattern.test(text)) break;
    }
    if (!pattern.test(text)) throw new Error(`a daemon exited without printing ${pattern}`);
  })();
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

try {
  await Promise.all(daemons.map((d) => d.ready));
  console.log(`daemon benchmark: daemons on ${DAEMONS.join(" and ")}, port ${port}`);

  // a /24 scan as the master does it: 128 probes at once, 1 s timeouts
  const targets = scanTargets([parseSubnet("127.0.0.0/24")]);
  const probe = { daemonPort: port, masterPort: 1, timeoutMs: 1000, concurrency: 128, key };
  const scans: number[] = [];
  let found = 0;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    found = (await scanDaemons(targets, probe)).filter((r) => r.kind === "daemon").length;
    scans.push(performance.now() - t0);
  }
  figures.scan24 = { addresses: targets.length, found, ms: scans };
  console.log(
    `  scan of 127.0.0.0/24 (${targets.length} addresses, ${found} daemons found): median ${
      median(scans).toFixed(1)
    } ms, min ${Math.min(...scans).toFixed(1)} ms over ${runs} scans`,
  );

  // enable -> first merged sample, alternating daemons so that each has released its last slave
  const data = await loadRenderData("cornell", {});
  const toFirst: number[] = [];
  for (let i = 0; i < runs; i++) {
    const address = DAEMONS[i % DAEMONS.length]!;
    const master = Master.start(data, {
      spp: 1 << 20,
      width: 128,
      height: 128,
      seed: 1,
      maxDepth: 8,
      port: 23500,
      autoPort: true,
      bind: "127.0.0.1",
      localRender: false,
      key,
    });
    const running = master.run().catch(() => undefined);
    const pool = new DaemonPool({
      subnets: [parseSubnet(`${address}/32`)],
      daemonPort: port,
      masterPort: master.port,
      masterAddress: "127.0.0.1",
      timeoutMs: 1000,
      concurrency: 1,
      interval: 60,
      enable: "all",
      key,
    });
    await pool.scanOnce();
    const entry = pool.daemons.find((e) => e.enabled);
    if (!entry?.enabledAt) throw new Error(`daemon ${address} was not enabled: is it still busy?`);
    const deadline = performance.now() + 120_000;
    let first: number | undefined;
    while (first === undefined && performance.now() < deadline) {
      first = master.progress.nodes.find((n) => n.pid !== undefined && entry.pids.includes(n.pid))
        ?.firstSampleAt;
      if (first === undefined) await new Promise((r) => setTimeout(r, 5));
    }
    if (first === undefined) throw new Error("no merged sample within 120 s");
    // the start request went out just before the daemon's answer set enabledAt; the answer is immediate
    toFirst.push(first - entry.enabledAt);
    await pool.close();
    master.close();
    await running;
    // let the daemon stop that slave before it is asked again
    await new Promise((r) => setTimeout(r, 1500));
  }
  figures.enableToFirstSampleMs = toFirst;
  console.log(
    `  daemon enabled -> first merged sample of its slave: median ${median(toFirst).toFixed(0)} ms, min ${
      Math.min(...toFirst).toFixed(0)
    } ms over ${runs} runs`,
  );
} finally {
  for (const d of daemons) {
    try {
      d.child.kill("SIGTERM");
    } catch {
      // exited
    }
  }
  await Promise.allSettled(daemons.map((d) => d.child.status));
  await Deno.remove(keyDir, { recursive: true });
}
if (values.json) await Deno.writeTextFile(values.json, JSON.stringify(figures, null, 2));
