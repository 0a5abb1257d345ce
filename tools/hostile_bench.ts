/**
 * Figures for hostile and broken peers (run by `deno task bench`), on loopback:
 * - the cost of spot checks: wall time of a master and a slave (each pinned to a core, one llvmpipe thread)
 *   rendering with --verify 0, 0.02 and 0.25, alternated, the best of each;
 * - a master's memory with 100 idle connections (they send nothing; the handshake gate holds a few).
 * The fuzzer's frames/s come from `deno task fuzz`. Prints figures; asserts nothing. Options: --runs N,
 * --json FILE.
 * @module
 */
import { parseArgs } from "node:util";
import { generateKey, writeKeyFile } from "../mod/net/key.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { runs: { type: "string", default: "3" }, json: { type: "string" } },
  strict: true,
});
const root = new URL("..", import.meta.url).pathname;
const runs = Number(values.runs);
const dir = await Deno.makeTempDir({ prefix: "octane-hostilebench-" });
await writeKeyFile(`${dir}/key`, generateKey());
const cores = navigator.hardwareConcurrency;
const figures: Record<string, unknown> = { cores };
const octane = (core: number, args: string[]) =>
  new Deno.Command("taskset", {
    args: ["-c", String(core % cores), `${root}octane`, ...args, "--key-file", `${dir}/key`],
    env: { LP_NUM_THREADS: "1" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();

/** Reads stdout until `pattern` matches; the match. */
async function waitFor(child: Deno.ChildProcess, pattern: RegExp): Promise<RegExpMatchArray> {
  const reader = child.stdout.getReader();
  let text = "";
  for (;;) {
    const m = text.match(pattern);
    if (m) {
      reader.releaseLock();
      return m;
    }
    const { value, done } = await reader.read();
    if (done) throw new Error(`exited before printing ${pattern}`);
    text += new TextDecoder().decode(value);
  }
}

async function finish(child: Deno.ChildProcess): Promise<void> {
  await Promise.all([
    child.status,
    child.stdout.cancel().catch(() => {}),
    child.stderr.cancel().catch(() => {}),
  ]);
}

/** Seconds a master (core 0) and a slave (core 1) take to render with --verify `fraction`. */
async function renderWith(fraction: number): Promise<{ seconds: number; checks: number }> {
  const master = octane(0, [
    "master",
    "--bind",
    "127.0.0.1",
    "--port",
    "27800",
    "--auto-port",
    "--wait-slaves",
    "1",
    "--spp",
    "128",
    "--width",
    "128",
    "--height",
    "128",
    "--verify",
    String(fraction),
    "-o",
    `${dir}/v.png`,
    "--report",
    `${dir}/v.json`,
    "--quiet",
  ]);
  const port = (await waitFor(master, /listening on [\d.]+:(\d+)/))[1];
  const slave = octane(1, ["slave", "--master", `127.0.0.1:${port}`]);
  await Promise.all([finish(master), finish(slave)]);
  const report = JSON.parse(await Deno.readTextFile(`${dir}/v.json`));
  return { seconds: report.wallSeconds, checks: report.verification.checks };
}

console.log(`hostile-peer benchmark: ${cores} cores`);
// spot checks re-render units of the slave's on the master's GPU: 2 % of them costs little; 25 % shows the slope
const fractions = [0, 0.02, 0.25];
const seconds = new Map(fractions.map((f) => [f, [] as number[]]));
const checked = new Map(fractions.map((f) => [f, 0]));
for (let i = 0; i < runs; i++) {
  for (const f of fractions) {
    const r = await renderWith(f);
    seconds.get(f)!.push(r.seconds);
    checked.set(f, checked.get(f)! + r.checks);
  }
}
const best = (f: number) => Math.min(...seconds.get(f)!);
figures.verify = Object.fromEntries(
  fractions.map((f) => [f, { seconds: seconds.get(f), checks: checked.get(f) }]),
);
for (const f of fractions.slice(1)) {
  console.log(
    `  --verify ${f} (${checked.get(f)} checks in ${runs} renders): ${best(f).toFixed(2)} s against ${
      best(0).toFixed(2)
    } s with --verify 0 = ${
      ((best(f) / best(0) - 1) * 100).toFixed(1)
    } % of wall time (best of ${runs}; 128x128, 128 spp, master + 1 slave)`,
  );
}

// a master's memory with 100 idle connections
const master = octane(0, [
  "master",
  "--bind",
  "127.0.0.1",
  "--port",
  "27900",
  "--auto-port",
  "--no-local-render",
  "--wait-slaves",
  "1",
  "--spp",
  "1",
  "-o",
  `${dir}/idle.png`,
  "--quiet",
]);
const port = Number((await waitFor(master, /listening on [\d.]+:(\d+)/))[1]);
const rss = async () =>
  Number(/VmRSS:\s+(\d+)/.exec(await Deno.readTextFile(`/proc/${master.pid}/status`))![1]) / 1024;
await new Promise((r) => setTimeout(r, 500));
const idleBefore = await rss();
const conns = await Promise.all(
  Array.from({ length: 100 }, () => Deno.connect({ hostname: "127.0.0.1", port })),
);
await new Promise((r) => setTimeout(r, 1000));
const idleDuring = await rss();
for (const c of conns) c.close();
master.kill("SIGTERM");
await finish(master);
figures.idleConnections = { count: 100, rssBeforeMiB: idleBefore, rssWithMiB: idleDuring };
console.log(
  `  master RSS: ${idleBefore.toFixed(0)} MiB, with 100 idle connections ${idleDuring.toFixed(0)} MiB (+${
    (idleDuring - idleBefore).toFixed(1)
  } MiB)`,
);
if (values.json) await Deno.writeTextFile(values.json, JSON.stringify(figures, null, 2) + "\n");
await Deno.remove(dir, { recursive: true });
