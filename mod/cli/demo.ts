import { onStopSignals } from "../session/mod.ts";
import { parseFlags, UsageError } from "./args.ts";
import { DEMO, DEMO_DAEMON_PORT } from "./commands.ts";
import { DAEMON_PORT } from "../net/defaults.ts";
import { printHelp } from "./flags.ts";
import { masterCommand } from "./master.ts";
import { selfCommand } from "./self.ts";
import { generateKey, writeKeyFile } from "../net/key.ts";
import { Lan, lanUnavailable } from "../lan/mod.ts";

const DAEMONS = ["127.0.0.2", "127.0.0.3"];

interface DemoDaemon {
  address: string;
  child: Deno.ChildProcess;
  out: string;
  exited: Promise<Deno.CommandStatus>;
}

/** `octane demo`: two daemons and a master on loopback render the Cornell box together. */
export async function demoCommand(args: string[]): Promise<number> {
  const parsed = parseFlags(args, DEMO);
  if (parsed.help) return printHelp(DEMO);
  const { values } = parsed;
  const { spp, width, height, output, report, verbose } = values;
  const render = { spp, width, height, output, report, verbose };
  const port = values["daemon-port"] ?? freePort(DEMO_DAEMON_PORT);
  if (values.lan !== undefined) {
    const why = lanUnavailable();
    if (!why) return lanDemo(values.lan, { ...render, port: values["daemon-port"] ?? DAEMON_PORT });
    console.error(`Demo: ${why}; running on loopback instead`);
  }
  return await loopbackDemo({ ...render, port }, values.ui);
}

/** What a demo renders and writes, and the daemons' port. */
interface DemoRender {
  spp: number;
  width: number;
  height: number;
  output: string;
  report: string;
  verbose: boolean;
  port: number;
}

/** The loopback demo: daemons on 127.0.0.2 and .3, this process the master; `ui`: keep it open after. */
async function loopbackDemo(o: DemoRender, ui: boolean): Promise<number> {
  const key = await throwawayKey();
  console.error(
    `Demo: starting daemons on ${
      DAEMONS.map((a) => `${a}:${o.port}`).join(" and ")
    } with a throwaway farm key`,
  );
  const daemons = DAEMONS.map((address) => startDaemon(address, { ...o, keyFile: key.file }));
  // Ctrl-C ends the master at once: the daemons are told to stop (and stop their slaves) first
  const removeSignals = onStopSignals(() => {
    for (const d of daemons) signal(d.child, "SIGTERM");
  });
  try {
    await daemonsUp(daemons);
    console.error(`Demo: master on 127.0.0.1 scans 127.0.0.0/29 and enables ${DAEMONS.join(" and ")}`);
    const code = await masterCommand([
      "cornell",
      ...["--bind", "127.0.0.1", "--port", "21000", "--auto-port", "--subnet", "127.0.0.0/29"],
      ...["--enable", DAEMONS.join(",")],
      ...masterFlags(o, key.file, DAEMONS.length),
      ...(ui ? ["--keep-open"] : []),
    ]);
    if (code !== 0) return code;
    console.error(`Demo: wrote ${o.output} and ${o.report}; stopping the daemons`);
  } finally {
    removeSignals();
    await stopDaemons(daemons);
    await key.remove();
  }
  return 0;
}

/**
 * `octane demo --lan N`: a LAN of network namespaces on this machine (root, Linux): a master host and N
 * daemon hosts on one bridge, in a private /24 with no default route. The master runs inside its host with
 * `--net`, so it scans its own interface's subnet as on a real LAN. Everything is removed at the end.
 */
async function lanDemo(count: number, o: DemoRender): Promise<number> {
  const key = await throwawayKey();
  // the demo stops its processes in order on Ctrl-C, then removes the LAN itself
  const lan = await Lan.create(count + 1, { signals: false });
  const [host, ...daemonHosts] = lan.hosts;
  const daemons: DemoDaemon[] = [];
  let master: Deno.ChildProcess | undefined;
  let stops = 0;
  // the master and daemons run in sessions of their own (setsid): Ctrl-C reaches the master once, from here
  const removeSignals = onStopSignals(() => {
    if (++stops === 1 && master) return signal(master, "SIGINT");
    lan.close();
    Deno.exit(130);
  });
  try {
    console.error(
      `Demo: built a LAN of ${count + 1} network namespaces (${
        host!.namespace.replace(/-h1$/, "-h*")
      }) on ${lan.subnet}, one bridge in a namespace of its own, no default route: nothing leaves this machine`,
    );
    console.error(
      `Demo: starting daemons on ${daemonHosts.map((h) => h.address).join(", ")} with a throwaway farm key`,
    );
    for (const h of daemonHosts) {
      daemons.push(startDaemon(h.address, { ...o, keyFile: key.file, wrap: lan.command(h, ["setsid"]) }));
    }
    await daemonsUp(daemons);
    console.error(
      `Demo: master on ${host!.address} scans its own ${lan.subnet} (--net) and enables every daemon`,
    );
    const [exe, ...args] = lan.command(host!, ["setsid", ...selfCommand()]);
    master = new Deno.Command(exe!, {
      args: [...args, "master", "cornell", "--net", ...masterFlags(o, key.file, count)],
      stdin: "null",
    }).spawn();
    const code = (await master.status).code;
    if (code !== 0) return code;
    console.error(`Demo: wrote ${o.output} and ${o.report}; stopping the daemons and removing the LAN`);
  } finally {
    removeSignals();
    await stopDaemons(daemons);
    await lan.close();
    await key.remove();
  }
  return 0;
}

/** The master's flags of both demos: the daemons' port, the key, waiting for their slaves, the image. */
function masterFlags(o: DemoRender, keyFile: string, slaves: number): string[] {
  return [
    ...["--daemon-port", String(o.port), "--scan-interval", "2", "--key-file", keyFile],
    ...["--wait-slaves", String(slaves), "--wait-timeout", "90"],
    ...["--spp", String(o.spp), "--width", String(o.width), "--height", String(o.height)],
    ...["-o", o.output, "--report", o.report],
  ];
}

/**
 * A throwaway farm key in a temporary folder: every link of the demo is sealed and authenticated, as on a
 * studio's LAN.
 */
async function throwawayKey(): Promise<{ file: string; remove(): Promise<void> }> {
  const dir = await Deno.makeTempDir({ prefix: "octane-demo-" });
  const file = `${dir}/key`;
  await writeKeyFile(file, generateKey());
  return { file, remove: () => Deno.remove(dir, { recursive: true }).catch(() => {}) };
}

/** Waits for every daemon to say its version and that it listens, and shows each. */
async function daemonsUp(daemons: DemoDaemon[]): Promise<void> {
  await Promise.all(daemons.map(async (d) => {
    const m = await waitForLine(d, /^octane daemon .*$/m, 120_000);
    await waitForLine(d, /^Daemon listening on /m, 10_000);
    console.error(`  daemon ${d.address}: ${m[0].replace(/^octane daemon /, "octane ")}`);
  }));
}

/** The first port from `from` that is free on every demo address. */
function freePort(from: number): number {
  for (let port = from; port < from + 100; port++) {
    const listeners: Deno.Listener[] = [];
    try {
      for (const hostname of DAEMONS) listeners.push(Deno.listen({ hostname, port }));
      return port;
    } catch {
      // taken on one of them: try the next
    } finally {
      for (const l of listeners) l.close();
    }
  }
  throw new UsageError(
    `No free port from ${from} to ${from + 99} on ${DAEMONS.join(" and ")}: pass --daemon-port`,
  );
}

/** How the demo starts a daemon: its port, the farm key, its logs shown, the command it runs under. */
interface DaemonStart {
  port: number;
  keyFile: string;
  verbose: boolean;
  /** A command that execs the daemon (`ip netns exec HOST setsid`), or none. */
  wrap?: string[];
}

function startDaemon(address: string, { port, keyFile, verbose, wrap = [] }: DaemonStart): DemoDaemon {
  const [exe, ...prefix] = [...wrap, ...selfCommand()];
  const child = new Deno.Command(exe!, {
    args: [
      ...prefix,
      "daemon",
      "--bind",
      address,
      "--port",
      String(port),
      "--heartbeat-timeout",
      "5",
      "--key-file",
      keyFile,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const d: DemoDaemon = { address, child, out: "", exited: child.status };
  const pump = async (stream: ReadableStream<Uint8Array>, log: boolean) => {
    const decoder = new TextDecoder();
    let rest = "";
    for await (const chunk of stream) {
      const text = decoder.decode(chunk, { stream: true });
      d.out += text;
      if (!log) continue;
      rest += text;
      const lines = rest.split("\n");
      rest = lines.pop()!;
      for (const line of lines) console.error(`  [daemon ${address}] ${line}`);
    }
  };
  pump(child.stdout, false).catch(() => {});
  pump(child.stderr, verbose).catch(() => {});
  return d;
}

async function waitForLine(d: DemoDaemon, pattern: RegExp, ms: number): Promise<RegExpMatchArray> {
  const deadline = performance.now() + ms;
  let exited = false;
  d.exited.then(() => (exited = true));
  while (performance.now() < deadline) {
    const m = d.out.match(pattern);
    if (m) return m;
    if (exited) {
      const why = d.out.trim().split("\n").filter((l) => /error|octane:/i.test(l)).at(-1) ?? "no output";
      throw new Error(`The daemon on ${d.address} exited: ${why}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`The daemon on ${d.address} did not start within ${ms / 1000} s`);
}

async function stopDaemons(daemons: DemoDaemon[]): Promise<void> {
  for (const d of daemons) signal(d.child, "SIGTERM");
  await Promise.all(daemons.map(async (d) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const done = await Promise.race([
      d.exited.then(() => true),
      new Promise<false>((r) => (timer = setTimeout(() => r(false), 15_000))),
    ]);
    clearTimeout(timer);
    if (!done) {
      signal(d.child, "SIGKILL");
      await d.exited;
    }
  }));
}

function signal(child: Deno.ChildProcess, sig: Deno.Signal): void {
  try {
    child.kill(sig);
  } catch {
    // exited already
  }
}
