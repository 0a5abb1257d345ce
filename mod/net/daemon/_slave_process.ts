import { getLogger } from "@logtape/logtape";
import { timingSafeEqual } from "node:crypto";
import { toHex } from "../../bytes.ts";
import type { Link } from "../protocol/mod.ts";

const log = getLogger(["octane", "daemon"]);

/** Environment variable that carries a slave's token for its heartbeat link to the daemon. */
export const DAEMON_TOKEN_ENV = "OCTANE_DAEMON_TOKEN";

/** A slave process a daemon started. */
export interface SlaveProcess {
  /** The process. */
  process: Deno.ChildProcess;
  /** Its id. */
  pid: number;
  /** The token its heartbeat link must present (once). */
  token: string;
  /** performance.now() when it was started. */
  spawned: number;
  /** Its heartbeat link, once it opened one. */
  watch?: Link;
  /** Why it is being stopped; undefined while it should run. */
  stopping?: string;
  /** Resolves when it has exited. */
  exited: Promise<Deno.CommandStatus>;
}

/** Options of {@linkcode spawnSlave}. */
export interface SpawnOptions {
  /** How to run octane: the executable and the arguments before the subcommand. */
  command: string[];
  /** HOST:PORT of the master the slave joins. */
  master: string;
  /** HOST:PORT of this daemon, for the slave's heartbeat link. */
  daemon: string;
  /** The farm key file the slave reads, when the farm has a key. */
  keyFile?: string;
}

/**
 * Starts `octane slave --master M --daemon D` with a fresh random token in its environment; its output goes
 * to the daemon's log line by line.
 * @throws {Error} when the executable cannot be started (missing, out of file descriptors)
 */
export function spawnSlave(o: SpawnOptions): SlaveProcess {
  const token = toHex(crypto.getRandomValues(new Uint8Array(32)));
  const [exe, ...prefix] = o.command;
  const process = new Deno.Command(exe!, {
    args: [
      ...prefix,
      "slave",
      "--master",
      o.master,
      "--daemon",
      o.daemon,
      ...(o.keyFile ? ["--key-file", o.keyFile] : []),
    ],
    env: { [DAEMON_TOKEN_ENV]: token },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  forwardLines(process.stdout, process.pid);
  forwardLines(process.stderr, process.pid);
  return { process, pid: process.pid, token, spawned: performance.now(), exited: process.status };
}

/** True when `token` is this slave's (compared in constant time). */
export function tokenMatches(child: SlaveProcess, token: string): boolean {
  const a = new TextEncoder().encode(child.token), b = new TextEncoder().encode(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** SIGTERM, then SIGKILL after `graceSeconds`; resolves once the slave has exited. */
export async function stopSlave(child: SlaveProcess, why: string, graceSeconds: number): Promise<void> {
  child.stopping ??= why;
  signal(child.process, "SIGTERM");
  let timer: ReturnType<typeof setTimeout> | undefined;
  const graceful = await Promise.race([
    child.exited.then(() => true),
    new Promise<false>((r) => (timer = setTimeout(() => r(false), graceSeconds * 1000))),
  ]);
  clearTimeout(timer);
  if (!graceful) {
    log.warn("Slave {pid} did not stop within {s} s of SIGTERM: killing it", {
      pid: child.pid,
      s: graceSeconds,
    });
    signal(child.process, "SIGKILL");
    await child.exited;
  }
}

function signal(process: Deno.ChildProcess, sig: Deno.Signal): void {
  try {
    process.kill(sig);
  } catch {
    // it has exited already
  }
}

/** Logs a slave's output line by line, so that it lands in the daemon's log (journal, terminal). */
async function forwardLines(stream: ReadableStream<Uint8Array>, pid: number): Promise<void> {
  const decoder = new TextDecoder();
  let rest = "";
  try {
    for await (const chunk of stream) {
      rest += decoder.decode(chunk, { stream: true });
      const lines = rest.split("\n");
      rest = lines.pop()!;
      for (const line of lines) if (line.trim()) log.info("slave {pid}: {line}", { pid, line });
    }
  } catch {
    // the pipe broke with the process
  }
  if (rest.trim()) log.info("slave {pid}: {line}", { pid, line: rest });
}
