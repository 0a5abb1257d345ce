import { onStopSignals } from "./signals.ts";
import { intFlag, parseFlags, UsageError } from "./args.ts";
import { DEMO } from "./commands.ts";
import { printHelp } from "./flags.ts";
import { masterCommand } from "./master.ts";
import { selfCommand } from "./self.ts";
import { generateKey, writeKeyFile } from "../net/key.ts";

const DAEMONS = ["127.0.0.2", "127.0.0.3"];

interface DemoDaemon {
  address: string;
  child: Deno.ChildProcess;
  out: string;
  exited: Promise<Deno.CommandStatus>;
}

/** `octane demo`: two daemons and a master on loopback render the Cornell box together. */
export async function demoCommand(args: string[]): Promise<number> {
  const { values } = parseFlags(args, DEMO);
  if (values.help) return printHelp(DEMO);
  const spp = intFlag(values.spp, "spp", { min: 1, max: 1 << 20, fallback: 64 });
  const width = intFlag(values.width, "width", { min: 1, max: 16384, fallback: 256 });
  const height = intFlag(values.height, "height", { min: 1, max: 16384, fallback: 256 });
  const output = typeof values.output === "string" ? values.output : "demo.png";
  const report = typeof values.report === "string" ? values.report : "demo-report.json";
  const port = values["daemon-port"] === undefined
    ? freePort(48100)
    : intFlag(values["daemon-port"], "daemon-port", { min: 1, max: 65535, fallback: 48100 });
  const verbose = values.verbose === true;

  // a throwaway farm key: every link of the demo is sealed and authenticated, as on a studio's LAN
  const keyDir = await Deno.makeTempDir({ prefix: "octane-demo-" });
  const keyFile = `${keyDir}/key`;
  await writeKeyFile(keyFile, generateKey());
  console.error(
    `Demo: starting daemons on ${DAEMONS.map((a) => `${a}:${port}`).join(" and ")} with a throwaway farm key`,
  );
  const daemons = DAEMONS.map((address) => startDaemon(address, port, keyFile, verbose));
  const killAll = () => {
    for (const d of daemons) signal(d.child, "SIGTERM");
  };
  // Ctrl-C ends the master at once: the daemons are told to stop (and stop their slaves) first
  const removeSignals = onStopSignals(killAll);
  try {
    await Promise.all(daemons.map(async (d) => {
      const m = await waitForLine(d, /^octane daemon .*$/m, 120_000);
      await waitForLine(d, /^Daemon listening on /m, 10_000);
      console.error(`  daemon ${d.address}: ${m[0].replace(/^octane daemon /, "octane ")}`);
    }));
    console.error(`Demo: master on 127.0.0.1 scans 127.0.0.0/29 and enables ${DAEMONS.join(" and ")}`);
    const code = await masterCommand([
      "cornell",
      "--bind",
      "127.0.0.1",
      "--port",
      "21000",
      "--auto-port",
      "--subnet",
      "127.0.0.0/29",
      "--daemon-port",
      String(port),
      "--enable",
      DAEMONS.join(","),
      "--scan-interval",
      "2",
      "--key-file",
      keyFile,
      "--wait-slaves",
      String(DAEMONS.length),
      "--wait-timeout",
      "90",
      "--spp",
      String(spp),
      "--width",
      String(width),
      "--height",
      String(height),
      "-o",
      output,
      "--report",
      report,
      ...(values.ui === true ? ["--keep-open"] : []),
    ]);
    if (code !== 0) return code;
    console.error(`Demo: wrote ${output} and ${report}; stopping the daemons`);
  } finally {
    removeSignals();
    await stopDaemons(daemons);
    await Deno.remove(keyDir, { recursive: true }).catch(() => {});
  }
  return 0;
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

function startDaemon(address: string, port: number, keyFile: string, verbose: boolean): DemoDaemon {
  const [exe, ...prefix] = selfCommand();
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
