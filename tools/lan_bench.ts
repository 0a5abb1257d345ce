/**
 * LAN figures (`deno task bench:lan`, root and Linux only) on a namespace LAN built by mod/lan: every node
 * runs inside a host of its own, links shaped with tc tbf where a rate is named.
 * - /24 scan time with 64 daemons on the LAN and 189 silent addresses (no host: each probe waits out its
 *   deadline), at the master's probe timeout and concurrency;
 * - master CPU time with 16 slaves (of those daemons) and no local render: its share of one core;
 * - render-data transfer rate against the link rate at 100 Mbit/s and 1 Gbit/s (the largest shared scene,
 *   sealed, as a slave downloads it);
 * - join -> first merged sample at 1 Gbit/s mid-render: a slave's connect to its render data, to its first
 *   merged sample, while the master's own GPU renders;
 * - parallel efficiency of a master without local render and two slaves, each pinned to a core with one
 *   llvmpipe thread (taskset), over the sum of each slave rendering alone on its core.
 * Prints figures; asserts nothing. Options: --json FILE, --daemons N (64), --slaves N (16), --only
 * scan|transfer|parallel (one part: scan also measures the master with the slaves).
 * @module
 */
import { parseArgs } from "node:util";
import { Lan, type LanHost, lanUnavailable, parseRate } from "../mod/lan/mod.ts";
import { toHex } from "../mod/bytes.ts";
import { generateKey, writeKeyFile } from "../mod/net/key.ts";
import { formatRate } from "../mod/status/mod.ts";
import { peerCommand } from "./_peer.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    json: { type: "string" },
    daemons: { type: "string", default: "64" },
    slaves: { type: "string", default: "16" },
    only: { type: "string" },
  },
  strict: true,
});
const why = lanUnavailable();
if (why) {
  console.error(`octane: ${why}`);
  Deno.exit(1);
}
const parts = ["scan", "transfer", "parallel"];
if (values.only !== undefined && !parts.includes(values.only)) {
  console.error(`octane: Invalid --only "${values.only}": expected ${parts.join(", ")}`);
  Deno.exit(2);
}
const want = (part: string) => values.only === undefined || values.only === part;
const root = new URL("..", import.meta.url).pathname;
const daemonCount = Number(values.daemons), slaveCount = Math.min(Number(values.slaves), daemonCount);
const SCENE = `${root}../shared/scenes/water-bottle/WaterBottle.gltf`;
const figures: Record<string, unknown> = { cores: navigator.hardwareConcurrency };
const dir = await Deno.makeTempDir({ prefix: "octane-lanbench-" });
const key = generateKey();
await writeKeyFile(`${dir}/key`, key);
const decoder = new TextDecoder();

/** A process inside a LAN host whose output is collected as it comes. */
interface Proc {
  readonly out: () => string;
  waitFor(pattern: RegExp, ms: number, since?: number): Promise<RegExpMatchArray>;
  readonly child: Deno.ChildProcess;
}

function spawn(lan: Lan, host: LanHost, argv: string[], env: Record<string, string> = {}): Proc {
  const [command, ...args] = lan.command(host, argv);
  const child = new Deno.Command(command!, {
    args,
    env: { OCTANE_KEY_FILE: `${dir}/key`, ...env },
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  let text = "";
  let exited = false;
  const pump = async (s: ReadableStream<Uint8Array>) => {
    for await (const c of s) text += decoder.decode(c, { stream: true });
  };
  Promise.all([pump(child.stdout), pump(child.stderr)]).then(() => child.status).then(() => (exited = true));
  return {
    out: () => text,
    child,
    async waitFor(pattern, ms, since = 0) {
      const end = performance.now() + ms;
      while (performance.now() < end) {
        const m = text.slice(since).match(pattern);
        if (m) return m;
        if (exited) throw new Error(`exited without printing ${pattern}:\n${text}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`no ${pattern} within ${ms} ms:\n${text}`);
    },
  };
}

const octane = (args: string[]) => [`${root}octane`, ...args];
const stop = async (p: Proc) => {
  try {
    p.child.kill("SIGKILL");
  } catch {
    // exited
  }
  await p.child.status;
};
/** Seconds of a log line's "HH:MM:SS.mmm" stamp. */
const stamp = (line: string) => {
  const [h, m, s] = line.slice(0, 12).split(":").map(Number);
  return h! * 3600 + m! * 60 + s!;
};
/** CPU seconds (user + system) process `pid` has used, from /proc (read through cat). */
const cpuSeconds = (pid: number) => {
  const out = new Deno.Command("cat", { args: [`/proc/${pid}/stat`], stdout: "piped" }).outputSync();
  const f = decoder.decode(out.stdout).split(") ")[1]!.split(" ");
  return (Number(f[11]) + Number(f[12])) / 100;
};

const load = Deno.loadavg()[0]!;
figures.loadAverage = load;
console.log(
  `LAN benchmark: ${figures.cores} cores (load average ${
    load.toFixed(1)
  } at the start: other work on them lowers every figure), every node in a network namespace of its own`,
);

// 1 + 2: a /24 with the daemons on it; scan time, then 16 of them enabled and the master's CPU
if (want("scan")) {
  await using lan = await Lan.create(1 + daemonCount);
  const [m, ...hosts] = lan.hosts;
  const daemons: Proc[] = [];
  for (let i = 0; i < hosts.length; i += 8) {
    const batch = hosts.slice(i, i + 8).map((h) =>
      spawn(lan, h, octane(["daemon"]), { LP_NUM_THREADS: "1" })
    );
    for (const d of batch) await d.waitFor(/Daemon listening on/, 120_000);
    daemons.push(...batch);
  }
  const scan = await new Deno.Command(lan.command(m!, [])[0]!, {
    args: [
      ...lan.command(m!, []).slice(1),
      ...peerCommand("./scan_peer.ts"),
      lan.subnet,
      "48000",
      toHex(key),
      "3",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!scan.success) throw new Error(decoder.decode(scan.stderr));
  const s = JSON.parse(decoder.decode(scan.stdout)) as { addresses: number; found: number; ms: number[] };
  figures.scan = s;
  console.log(
    `/24 scan, ${s.found} daemons and ${s.addresses - s.found - 1} silent addresses: ${
      s.ms.map((x) => (x / 1000).toFixed(2)).join(", ")
    } s (3 scans)`,
  );

  const enabled = hosts.slice(0, slaveCount).map((h) => h.address);
  const master = spawn(
    lan,
    m!,
    octane([
      "master",
      "--net",
      "--no-local-render",
      "--enable",
      enabled.join(","),
      "--wait-slaves",
      String(slaveCount),
      "--scan-interval",
      "5",
      "--spp",
      "512",
      "--width",
      "96",
      "--height",
      "96",
      "--report",
      `${dir}/scale.json`,
      "-o",
      `${dir}/scale.png`,
    ]),
  );
  await master.waitFor(/Master listening/, 60_000);
  const start = await master.waitFor(/^(\S+) INFO master: Slave \S+ has the render data/m, 120_000);
  const cpu0 = cpuSeconds(master.child.pid), t0 = performance.now();
  await master.waitFor(/^Rendered /m, 300_000);
  const cpu = cpuSeconds(master.child.pid) - cpu0, wall = (performance.now() - t0) / 1000;
  const report = JSON.parse(await Deno.readTextFile(`${dir}/scale.json`));
  figures.scale = {
    slaves: slaveCount,
    masterCpuSeconds: cpu,
    wallSeconds: wall,
    samplesPerSecond: report.samplesPerSecond,
  };
  console.log(
    `master with ${slaveCount} slaves, no local render: ${cpu.toFixed(2)} CPU s in ${wall.toFixed(2)} s = ${
      (100 * cpu / wall).toFixed(1)
    }% of one core (${formatRate(report.samplesPerSecond)}samples/s, from the first slave ready at ${
      start[1]
    })`,
  );
  await stop(master);
  await Promise.all(daemons.map(stop));
}

// 3 + 4: render-data transfer at link rates, and a slave's join at 1 Gbit/s
if (want("transfer")) {
  await using lan = await Lan.create(2);
  const [m, s] = lan.hosts;
  const master = spawn(
    lan,
    m!,
    octane([
      "master",
      SCENE,
      "--no-local-render",
      "--spp",
      "4",
      "--width",
      "64",
      "--height",
      "64",
      "--verbose",
      "-o",
      `${dir}/join.png`,
      "--report",
      `${dir}/join.json`,
    ]),
  );
  const port = (await master.waitFor(/Master listening on [\d.]+:(\d+)/, 120_000))[1]!;
  const transfers: Record<string, unknown> = {};
  for (const rate of ["100mbit", "1gbit"]) {
    for (const h of [m!, s!]) await lan.setRate(h, rate);
    const peer = await new Deno.Command(lan.command(s!, [])[0]!, {
      args: [
        ...lan.command(s!, []).slice(1),
        ...peerCommand("./transfer_peer.ts"),
        "sealed",
        m!.address,
        port,
        toHex(key),
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!peer.success) throw new Error(decoder.decode(peer.stderr));
    const r = JSON.parse(decoder.decode(peer.stdout)) as {
      bytes: number;
      wireBytes: number;
      first: number;
      best: number;
    };
    const link = parseRate(rate) / 8;
    transfers[rate] = { ...r, linkBytesPerSecond: link };
    // the link carries the wire bytes (zstd where it pays); the raw rate is what a slave gets out of it
    console.log(
      `render data ${(r.bytes / 1e6).toFixed(1)} MB (${
        (r.wireBytes / 1e6).toFixed(1)
      } MB on the wire) at ${rate}: ` +
        `first ${(r.wireBytes / r.first / 1e6).toFixed(1)} MB/s = ${
          (r.wireBytes / r.first / link).toFixed(2)
        } of ` +
        `the link, best ${(r.wireBytes / r.best / 1e6).toFixed(1)} MB/s = ${
          (r.wireBytes / r.best / link).toFixed(2)
        }; raw data at ${(r.bytes / r.best / 1e6).toFixed(1)} MB/s`,
    );
  }
  figures.transfer = transfers;
  await stop(master);
  // a real slave joins at 1 Gbit/s mid-render (the master's own GPU renders): render data, then its first unit
  const busy = spawn(
    lan,
    m!,
    octane([
      "master",
      SCENE,
      "--spp",
      "100000",
      "--width",
      "64",
      "--height",
      "64",
      "--verbose",
      "-o",
      `${dir}/join.png`,
    ]),
  );
  const busyPort = (await busy.waitFor(/Master listening on [\d.]+:(\d+)/, 120_000))[1]!;
  await busy.waitFor(/\d+\.\d\/100000 spp/, 120_000);
  const mark = busy.out().length;
  const slave = spawn(lan, s!, octane(["slave", "--master", `${m!.address}:${busyPort}`]));
  const sent = await busy.waitFor(/^(\S+) INFO master: Sending .* to (\S+)$/m, 60_000, mark);
  const ready = await busy.waitFor(/^(\S+) INFO master: Slave \S+ has the render data/m, 60_000, mark);
  const first = await busy.waitFor(
    /First samples from slave \S+ merged (\d+) ms after it connected/,
    120_000,
    mark,
  );
  const joined = await busy.waitFor(/^(\S+) INFO master: Slave \S+ \(\S+\) joined/m, 1000, mark);
  const dataMs = (stamp(ready[0]) - stamp(joined[0])) * 1000;
  const firstMs = Number(first[1]);
  figures.join = { transferMs: (stamp(ready[0]) - stamp(sent[0])) * 1000, dataMs, firstSampleMs: firstMs };
  console.log(
    `slave joining mid-render at 1gbit: render data after ${
      dataMs.toFixed(0)
    } ms, first merged sample after ${firstMs} ms (${
      (firstMs - dataMs).toFixed(0)
    } ms after its data: GPU upload, first unit, result)`,
  );
  await stop(slave);
  await stop(busy);
}

// 5: parallel efficiency, master without local render + 2 slaves each on a core of its own, at 1 Gbit/s
if (want("parallel")) {
  const cores = navigator.hardwareConcurrency;
  const image = ["--spp", "128", "--width", "128", "--height", "128", "--seed", "1"];
  const pin = (core: number, argv: string[]) => ["taskset", "-c", String(core % cores), ...argv];
  await using lan = await Lan.create(3, { rate: "1gbit" });
  const [m, a, b] = lan.hosts;
  const solo: number[] = [];
  for (const [i, h] of [a!, b!].entries()) {
    const p = spawn(
      lan,
      h,
      pin(
        i,
        octane(["render", "--quiet", ...image, "-o", `${dir}/solo.png`, "--report", `${dir}/solo.json`]),
      ),
      {
        LP_NUM_THREADS: "1",
      },
    );
    if (!(await p.child.status).success) throw new Error(p.out());
    solo.push(JSON.parse(await Deno.readTextFile(`${dir}/solo.json`)).samplesPerSecond);
  }
  const master = spawn(
    lan,
    m!,
    octane([
      "master",
      "--no-local-render",
      "--wait-slaves",
      "2",
      ...image,
      "-o",
      `${dir}/par.png`,
      "--report",
      `${dir}/par.json`,
    ]),
  );
  const port = (await master.waitFor(/Master listening on [\d.]+:(\d+)/, 120_000))[1]!;
  const slaves = [a!, b!].map((h, i) =>
    spawn(lan, h, pin(i, octane(["slave", "--master", `${m!.address}:${port}`])), { LP_NUM_THREADS: "1" })
  );
  await master.waitFor(/^Rendered /m, 300_000);
  const par = JSON.parse(await Deno.readTextFile(`${dir}/par.json`));
  const together = par.samplesPerSecond;
  for (const n of par.nodes.filter((n: { role: string }) => n.role === "slave")) {
    console.log(
      `  slave ${n.address}: ${formatRate(n.samples / par.wallSeconds)}samples/s over the render's ${
        par.wallSeconds.toFixed(1)
      } s, first merged sample ${n.firstSampleMs?.toFixed(0)} ms after it connected`,
    );
  }
  const efficiency = together / (solo[0]! + solo[1]!);
  figures.parallel = { solo, together, efficiency };
  console.log(
    `parallel efficiency, master (no local render) + 2 slaves pinned to a core each, 1gbit: ${
      formatRate(together)
    }samples/s together over ${solo.map((x) => formatRate(x) + "samples/s").join(" + ")} alone = ${
      efficiency.toFixed(3)
    }`,
  );
  await stop(master);
  await Promise.all(slaves.map(stop));
}

if (values.json) await Deno.writeTextFile(values.json, JSON.stringify(figures, null, 2) + "\n");
await Deno.remove(dir, { recursive: true });
