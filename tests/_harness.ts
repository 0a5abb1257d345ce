/**
 * The end-to-end tests' harness: real octane processes on loopback addresses, their output collected as it
 * comes, waits on their log lines (an event, never a fixed sleep) with deadlines, and every process stopped
 * when its test ends.
 *
 * Ports come from the OS, so test files run in parallel (`deno test --parallel`) without colliding: masters
 * and daemons listen on `--port 0`, the live view on `--ui 127.0.0.1:0`, in-process listeners on port 0, and
 * the test reads the port back from the "listening on" line ({@linkcode startMaster},
 * {@linkcode startDaemon}). Daemons that a master finds by scanning share one port on several addresses:
 * {@linkcode startDaemons} asks the OS for a port free on all of them, and starts them again on another
 * should one be taken meanwhile.
 *
 * Addresses: masters listen on 127.0.0.1. A file whose simulated hosts use other loopback addresses takes a
 * /24 of its own from {@linkcode NETS}, so a master scanning a subnet finds only its own file's daemons.
 * A port that nothing listens on yet (a slave started before its master) is reserved on such an address,
 * never on 127.0.0.1: there, a client's own source port (127.0.0.1 is every loopback connection's source)
 * could be that very port and connect the client to itself.
 */

import { fromHex } from "../mod/bytes.ts";

const root = new URL("..", import.meta.url).pathname;

/**
 * The /24 of loopback addresses each test file may use for simulated hosts besides 127.0.0.1 (masters):
 * disjoint, so files running in parallel never see each other's daemons in a scan.
 */
export const NETS = {
  daemon: "127.0.20",
  daemonInstall: "127.0.27",
  security: "127.0.21",
  liveView: "127.0.22",
  fuzz: "127.0.23",
  hostile: "127.0.24",
  user: "127.0.25",
  cli: "127.0.26",
} as const;

/** `text` with the regular expression specials escaped (for addresses in patterns). */
export function re(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * An empty config folder for every process a test starts (unless the test names its own): a farm key in the
 * real user's default key file must not turn a keyless test into a keyed one.
 */
const isolatedConfig = Deno.makeTempDirSync({ prefix: "octane-test-config-" });
globalThis.addEventListener("unload", () => Deno.removeSync(isolatedConfig, { recursive: true }));

/** A running octane process whose output is collected as it comes. */
export interface Running {
  /** stdout and stderr so far. */
  readonly out: string;
  /**
   * Resolves with the first match of `pattern` in the output from offset `since`, as soon as the output
   * holds it; rejects when the process exits without it or after `ms`.
   */
  waitFor(pattern: RegExp, ms?: number, since?: number): Promise<RegExpMatchArray>;
  /** Resolves with the exit code, or rejects after `ms`. */
  exit(ms?: number): Promise<number>;
  /** Sends a signal (ignored when it has exited). */
  kill(signal?: Deno.Signal): void;
  /** Its process id (the launcher execs Deno, so this is octane itself). */
  readonly pid: number;
}

/** A process that listens: where it does. */
export interface Listening extends Running {
  /** The address it listens on (127.0.0.1 for one on every interface). */
  readonly host: string;
  /** The port it listens on, from its "listening on" line. */
  readonly port: number;
  /** `host:port`, as `octane slave --master` takes it. */
  readonly address: string;
}

/** Options of {@linkcode octane}. */
export interface OctaneOptions {
  /** Text for its standard input (then closed); none: no standard input. */
  stdin?: string;
  /** Runs it under `ulimit -n` (the shell execs octane, so the process is still octane itself). */
  maxFiles?: number;
  /** A command that execs the rest, such as `ip netns exec HOST` (the pid is still octane's). */
  prefix?: readonly string[];
}

/** Starts `./octane ARGS` with extra environment `env`. */
export function octane(
  args: string[],
  env: Record<string, string> = {},
  options: OctaneOptions = {},
): Running {
  const [first, rest] = options.maxFiles === undefined
    ? [`${root}octane`, args]
    : ["bash", ["-c", `ulimit -n ${options.maxFiles} && exec "$0" "$@"`, `${root}octane`, ...args]];
  const [command, ...commandArgs] = [...(options.prefix ?? []), first, ...rest];
  const child = new Deno.Command(command!, {
    args: commandArgs,
    stdout: "piped",
    stderr: "piped",
    stdin: options.stdin === undefined ? "null" : "piped",
    env: { XDG_CONFIG_HOME: isolatedConfig, OCTANE_KEY_FILE: "", ...env },
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    writer.write(new TextEncoder().encode(options.stdin)).then(() => writer.close()).catch(() => {});
  }
  let out = "";
  let exited = false;
  /** Waiters, each checked whenever output comes and when the process exits. */
  const waiters = new Set<() => void>();
  const changed = () => {
    for (const check of [...waiters]) check();
  };
  const decoder = new TextDecoder();
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) {
      out += decoder.decode(chunk, { stream: true });
      changed();
    }
  };
  const done = Promise.all([pump(child.stdout), pump(child.stderr)]).then(() => child.status).then((s) => {
    exited = true;
    changed();
    return s.code;
  });
  return {
    pid: child.pid,
    get out() {
      return out;
    },
    waitFor(pattern, ms = 60_000, since = 0) {
      return new Promise((resolve, reject) => {
        const finish = (settle: () => void) => {
          clearTimeout(timer);
          waiters.delete(check);
          settle();
        };
        const check = () => {
          const m = out.slice(since).match(pattern);
          if (m) finish(() => resolve(m));
          else if (exited) {
            finish(() => reject(new Error(`exited without printing ${pattern}; output:\n${out}`)));
          }
        };
        const timer = setTimeout(
          () => finish(() => reject(new Error(`no ${pattern} within ${ms} ms; output so far:\n${out}`))),
          ms,
        );
        waiters.add(check);
        check();
      });
    },
    exit(ms = 120_000) {
      return deadline(done, ms, () => `no exit within ${ms} ms; output so far:\n${out}`);
    },
    kill(signal: Deno.Signal = "SIGTERM") {
      if (!exited) {
        try {
          child.kill(signal);
        } catch {
          // already gone
        }
      }
    },
  };
}

/** `work`, or a rejection with `message()` after `ms`. */
function deadline<T>(work: Promise<T>, ms: number, message: () => string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(message())), ms);
    work.then((v) => (clearTimeout(t), resolve(v)), (e) => (clearTimeout(t), reject(e)));
  });
}

/**
 * Calls `check` every `every` ms until it returns something other than undefined, and resolves with that;
 * rejects with `what` after `ms`. For conditions no log line announces (an HTTP status, a process gone).
 */
export async function until<T>(
  what: string,
  ms: number,
  check: () => Promise<T | undefined> | T | undefined,
  every = 100,
): Promise<T> {
  const end = performance.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (performance.now() > end) throw new Error(`${what} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, every));
  }
}

/**
 * When the process logged the first line of `out` (from `since`) that matches `pattern`, by the line's own
 * "HH:MM:SS.mmm" UTC timestamp, as epoch milliseconds (the day taken from `now`): what a process did when, as
 * that process saw it, not when a test process busy with other files read its output.
 * @throws {Error} when no timestamped line matches
 */
export function loggedAt(out: string, pattern: RegExp, since = 0, now = Date.now()): number {
  for (const line of out.slice(since).split("\n")) {
    const m = /^(\d\d):(\d\d):(\d\d)\.(\d{3}) /.exec(line);
    if (!m || !pattern.test(line)) continue;
    const [h, min, sec, ms] = m.slice(1).map(Number) as [number, number, number, number];
    const day = Math.floor(now / 86_400_000) * 86_400_000;
    const t = day + ((h * 60 + min) * 60 + sec) * 1000 + ms;
    // a line logged just before midnight, read just after
    return t > now + 60_000 ? t - 86_400_000 : t;
  }
  throw new Error(`no timestamped line matches ${pattern}`);
}

/** Runs `fn` in a fresh temporary folder, removed afterwards. */
export async function withDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "octane-test-" });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Starts processes for `fn`. */
export type Start = (args: string[], env?: Record<string, string>) => Running;

/** Runs `fn` with the processes it starts, killing every one of them afterwards. */
export async function processes<T>(fn: (start: Start) => Promise<T>): Promise<T> {
  const all: Running[] = [];
  try {
    return await fn((args, env) => {
      const p = octane(args, env);
      all.push(p);
      return p;
    });
  } finally {
    for (const p of all) p.kill("SIGKILL");
    await Promise.allSettled(all.map((p) => p.exit(10_000)));
  }
}

/** Stops `p` with `signal` (SIGTERM unless given); resolves with its exit code, or rejects after `ms`. */
export function stop(p: Running, signal: Deno.Signal = "SIGTERM", ms = 20_000): Promise<number> {
  p.kill(signal);
  return p.exit(ms);
}

/** `p` with where it listens, read from `m`, a match of its listening line (`host` and `port` groups). */
function listening(p: Running, m: RegExpMatchArray): Listening {
  const bound = m.groups!.host!;
  const host = bound === "0.0.0.0" ? "127.0.0.1" : bound;
  const port = Number(m.groups!.port);
  return Object.assign(p, { host, port, address: `${host}:${port}` });
}

/** Options of {@linkcode startMaster}. */
export interface MasterOptions {
  /** Its flags after `master --bind ADDR --port PORT`: spp, size, outputs and the rest. */
  args: readonly string[];
  /** The address it listens on (127.0.0.1 unless given). */
  bind?: string;
  /** A port known beforehand (see {@linkcode freePort}); 0 unless given: any free port. */
  port?: number;
  /** Extra environment. */
  env?: Record<string, string>;
  /** Milliseconds to wait for its listening line (it loads the scene and opens the GPU first; 120 s). */
  ms?: number;
}

/** Starts `octane master` on loopback and waits until it listens; the port is the one it printed. */
export function startMaster(start: Start, o: MasterOptions): Promise<Listening> {
  const bind = o.bind ?? "127.0.0.1";
  return masterListening(
    start(["master", "--bind", bind, "--port", String(o.port ?? 0), ...o.args], o.env),
    o.ms,
  );
}

/** Waits for a master's listening line (at most `ms`); resolves with the master and where it listens. */
export async function masterListening(master: Running, ms = 120_000): Promise<Listening> {
  return listening(master, await master.waitFor(/^Master listening on (?<host>\S+):(?<port>\d+)$/m, ms));
}

/** Options of {@linkcode startDaemon}. */
export interface DaemonOptions {
  /** The loopback address it listens on. */
  address: string;
  /** Its port (0 unless given: any free port). */
  port?: number;
  /** Flags after `daemon --bind ADDR --port PORT`. */
  args?: readonly string[];
  /** Extra environment. */
  env?: Record<string, string>;
}

/** Milliseconds a daemon may take to listen: it starts a slave in probe mode first (GPU and all). */
const DAEMON_START_MS = 120_000;

/** Starts `octane daemon` and waits until it listens; the port is the one it printed. */
export async function startDaemon(start: Start, o: DaemonOptions): Promise<Listening> {
  const daemon = start(
    ["daemon", "--bind", o.address, "--port", String(o.port ?? 0), ...(o.args ?? [])],
    o.env,
  );
  const line = new RegExp(`^Daemon listening on (?<host>${re(o.address)}):(?<port>\\d+)$`, "m");
  return listening(daemon, await daemon.waitFor(line, DAEMON_START_MS));
}

/**
 * Starts a daemon on each of `addresses`, all on one port (as a master's scan finds them), and waits until
 * they listen. The port is one the OS gave as free on every address; should another process take it before
 * a daemon binds it (a daemon says the port is in use), they start again on another (at most five times).
 */
export async function startDaemons(
  start: Start,
  o: Omit<DaemonOptions, "address" | "port"> & { addresses: readonly string[] },
): Promise<{ port: number; daemons: Listening[] }> {
  for (let attempt = 1;; attempt++) {
    const port = freePort(o.addresses);
    const started = o.addresses.map((address) => startDaemon(start, { ...o, address, port }));
    const settled = await Promise.allSettled(started);
    const daemons = settled.flatMap((s) => s.status === "fulfilled" ? [s.value] : []);
    if (daemons.length === o.addresses.length) return { port, daemons };
    const taken = settled.some((s) => s.status === "rejected" && /is in use/.test(String(s.reason)));
    await Promise.all(daemons.map((d) => stop(d, "SIGKILL")));
    if (!taken || attempt === 5) {
      throw (settled.find((s) => s.status === "rejected") as PromiseRejectedResult).reason;
    }
  }
}

/**
 * A TCP port the OS gives as free on every one of `addresses` (127.0.0.1 unless given), released for the
 * caller to listen on. For what must know its port before it listens; anything else listens on port 0.
 */
export function freePort(addresses: readonly string[] = ["127.0.0.1"]): number {
  for (let attempt = 0; attempt < 100; attempt++) {
    const listeners: Deno.Listener[] = [];
    try {
      const first = Deno.listen({ hostname: addresses[0]!, port: 0 });
      listeners.push(first);
      const port = (first.addr as Deno.NetAddr).port;
      for (const hostname of addresses.slice(1)) listeners.push(Deno.listen({ hostname, port }));
      return port;
    } catch (error: unknown) {
      if (!(error instanceof Deno.errors.AddrInUse)) throw error;
    } finally {
      for (const l of listeners) l.close();
    }
  }
  throw new Error(`No port is free on all of ${addresses.join(", ")} (100 tries)`);
}

/** Options of {@linkcode startSlave}. */
export interface SlaveOptions {
  /** Flags after `slave --master ADDRESS`. */
  args?: readonly string[];
  /** Extra environment. */
  env?: Record<string, string>;
}

/** Starts `octane slave` for the master at `master` (a {@linkcode Listening} master or `HOST:PORT`). */
export function startSlave(
  start: Start,
  master: { address: string } | string,
  o: SlaveOptions = {},
): Running {
  const address = typeof master === "string" ? master : master.address;
  return start(["slave", "--master", address, ...(o.args ?? [])], o.env);
}

/** Reads a PFM written by octane into floats. */
export async function readPfm(path: string): Promise<Float32Array> {
  const { decodePfm } = await import("../mod/render/mod.ts");
  return decodePfm(await Deno.readFile(path)).rgb;
}

/** Asserts two images are equal to `relative` (with a tiny absolute floor for black pixels). */
export function assertClose(a: Float32Array, b: Float32Array, relative: number): void {
  if (a.length !== b.length) throw new Error(`images differ in size: ${a.length} vs ${b.length}`);
  for (let i = 0; i < a.length; i++) {
    const tolerance = relative * Math.max(Math.abs(a[i]!), Math.abs(b[i]!)) + 1e-7;
    if (Math.abs(a[i]! - b[i]!) > tolerance) {
      throw new Error(`value ${i} (pixel ${Math.floor(i / 3)}): ${a[i]} vs ${b[i]}`);
    }
  }
}

/**
 * Renders the built-in scene locally with `spp` and the `size` flags (and extra environment `env`); resolves
 * with its radiance.
 */
export async function referenceRender(
  dir: string,
  spp: number,
  size: string[],
  env: Record<string, string> = {},
): Promise<Float32Array> {
  const r = octane([
    "render",
    "--quiet",
    "--spp",
    String(spp),
    ...size,
    "-o",
    `${dir}/ref.png`,
    "--hdr",
    `${dir}/ref.pfm`,
  ], env);
  const code = await r.exit();
  if (code !== 0) throw new Error(`the reference render failed (exit ${code}):\n${r.out}`);
  return readPfm(`${dir}/ref.pfm`);
}

/**
 * `/proc/PID/stat` of a process, or undefined when it is gone. Read through `cat`: Deno lets only
 * --allow-all read another process's /proc files, and the tests run with the launcher's permissions.
 */
export async function procStat(pid: number): Promise<string | undefined> {
  const out = await new Deno.Command("cat", { args: [`/proc/${pid}/stat`], stdout: "piped", stderr: "null" })
    .output();
  return out.success ? new TextDecoder().decode(out.stdout) : undefined;
}

/** True while process `pid` runs (not gone, not a zombie). */
export async function running(pid: number): Promise<boolean> {
  const stat = await procStat(pid);
  return stat !== undefined && !/^\d+ \(.*\) Z/.test(stat);
}

/** Those of `pids` that run (not gone, not zombies), read with one process for all of them. */
export async function runningOf(pids: readonly number[]): Promise<number[]> {
  if (pids.length === 0) return [];
  const out = await new Deno.Command("cat", {
    args: pids.map((p) => `/proc/${p}/stat`),
    stdout: "piped",
    stderr: "null",
  }).output();
  return new TextDecoder().decode(out.stdout).split("\n").flatMap((line) => {
    const m = /^(\d+) \(.*\) (\S)/.exec(line);
    return m && m[2] !== "Z" ? [Number(m[1])] : [];
  });
}

/** Resolves with true once process `pid` is gone (or a zombie), false if it still runs after `ms`. */
export function gone(pid: number, ms: number): Promise<boolean> {
  return until(`process ${pid} to end`, ms, async () => (await running(pid)) ? undefined : true).catch(() =>
    false
  );
}

/** Makes a farm key at `path` with `octane key generate` (as a user would); resolves with its bytes. */
export async function makeKey(path: string): Promise<Uint8Array> {
  const k = octane(["key", "generate", "-o", path]);
  const code = await k.exit();
  if (code !== 0) throw new Error(`octane key generate failed (exit ${code}):\n${k.out}`);
  return fromHex((await Deno.readTextFile(path)).trim());
}

/** The outputs of a test render in `dir`: -o net.png, --hdr net.pfm, --report report.json. */
export function outputsIn(dir: string): string[] {
  return ["-o", `${dir}/net.png`, "--hdr", `${dir}/net.pfm`, "--report", `${dir}/report.json`];
}
