/**
 * Helpers for tests that run real octane processes on loopback addresses.
 *
 * Each test file listens on ports of its own, all below Linux's ephemeral range (32768-60999), where the
 * source port of any outgoing connection could already hold the port a test wants to listen on:
 * daemon_test 10000-10799 (daemons) and 28100-29699 (masters), hostile_test 22000-23599, net_test
 * 24100-26099, user_test 26100-28099, fuzz_test 29700-30199, security_test 31000-32599, the live view
 * browser test 12000-13599, camera_flags_test 14000-14099, aov_test 15000-15499, denoise_test 15500-15997 and
 * mod/denoise/weights_test 15999.
 */

import { fromHex } from "../mod/bytes.ts";

const root = new URL("..", import.meta.url).pathname;

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
  /** Resolves with the first match of `pattern` in the output from offset `since`, or rejects after `ms`. */
  waitFor(pattern: RegExp, ms?: number, since?: number): Promise<RegExpMatchArray>;
  /** Resolves with the exit code, or rejects after `ms`. */
  exit(ms?: number): Promise<number>;
  /** Sends a signal (ignored when it has exited). */
  kill(signal?: Deno.Signal): void;
  /** Its process id (the launcher execs Deno, so this is octane itself). */
  readonly pid: number;
}

/**
 * Starts `./octane ARGS`; `stdin` text, when given, is its standard input (then closed); `maxFiles` runs it
 * under `ulimit -n` (the shell execs octane, so the process is still octane itself); `prefix` is a command
 * that execs the rest, such as `ip netns exec HOST` (the pid is still octane's).
 */
export function octane(
  args: string[],
  env: Record<string, string> = {},
  options: { stdin?: string; maxFiles?: number; prefix?: readonly string[] } = {},
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
  const decoder = new TextDecoder();
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) out += decoder.decode(chunk, { stream: true });
  };
  const done = Promise.all([pump(child.stdout), pump(child.stderr)]).then(() => child.status).then((s) => {
    exited = true;
    return s.code;
  });
  const deadline = <T>(work: Promise<T>, ms: number, what: string) =>
    new Promise<T>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`${what} within ${ms} ms; output so far:\n${out}`)), ms);
      work.then((v) => (clearTimeout(t), resolve(v)), (e) => (clearTimeout(t), reject(e)));
    });
  return {
    pid: child.pid,
    get out() {
      return out;
    },
    waitFor(pattern, ms = 60_000, since = 0) {
      return deadline(
        (async () => {
          for (;;) {
            const m = out.slice(since).match(pattern);
            if (m) return m;
            if (exited) throw new Error(`exited without printing ${pattern}; output:\n${out}`);
            await new Promise((r) => setTimeout(r, 50));
          }
        })(),
        ms,
        `no ${pattern}`,
      );
    },
    exit(ms = 120_000) {
      return deadline(done, ms, "no exit");
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

/** Renders the built-in scene locally with `spp` and the `size` flags; resolves with its radiance. */
export async function referenceRender(dir: string, spp: number, size: string[]): Promise<Float32Array> {
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
  ]);
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

/** `master` on 127.0.0.1:`port` rendering `spp` samples per pixel at `size` (--width, --height, --seed). */
export function masterOn(port: number, spp: number, size: string[]): string[] {
  return ["master", "--bind", "127.0.0.1", "--port", String(port), "--spp", String(spp), ...size];
}
