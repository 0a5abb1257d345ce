import { getLogger } from "@logtape/logtape";
import { PROTOCOL_VERSION, VERSION } from "../../version.ts";
import {
  type Frame,
  intField,
  nonce,
  parseJson,
  Peer,
  proof,
  proofMatches,
  ProtocolError,
  withTimeout,
} from "../protocol/mod.ts";
import type { SlaveFacts } from "./facts.ts";

const log = getLogger(["octane", "daemon"]);

/** Seconds a master's link may stay open without a request while it holds no slave. */
const IDLE_SECONDS = 30;

/** Environment variable that carries a slave's token for its heartbeat link to the daemon. */
export const DAEMON_TOKEN_ENV = "OCTANE_DAEMON_TOKEN";

/** Options of {@linkcode Daemon}. */
export interface DaemonOptions {
  /** Port masters probe. */
  port: number;
  /** Address to listen on. */
  bind: string;
  /** Seconds without a heartbeat after which a slave (or a master's link) counts as gone. */
  heartbeatTimeout: number;
  /** Seconds between SIGTERM and SIGKILL when a slave is stopped. */
  graceSeconds: number;
  /** Shared secret masters must prove; none: the LAN is trusted. */
  secret?: string;
  /** How to run octane: the executable and the arguments before the subcommand. */
  command: string[];
  /** Restarts of a slave that failed while its master still wants it, per master. */
  maxRestarts: number;
  /** Seconds to wait before restarting a failed slave. */
  restartDelaySeconds: number;
}

const defaults = {
  port: 48000,
  bind: "0.0.0.0",
  heartbeatTimeout: 10,
  graceSeconds: 3,
  maxRestarts: 3,
  restartDelaySeconds: 1,
} satisfies Partial<DaemonOptions>;

/** A daemon's state as a master sees it. */
export type DaemonState = "available" | "occupied" | "running";

/** The daemon's answer to a probe. */
export interface DaemonStatus extends SlaveFacts {
  /** available; occupied by another master; running a slave for the asking master. */
  state: DaemonState;
  /** The master it works for (HOST:PORT), when not available. */
  master?: string;
  /** Process id of the slave, when one runs for the asking master. */
  pid?: number;
}

interface Child {
  process: Deno.ChildProcess;
  pid: number;
  token: string;
  spawned: number;
  watch?: Peer;
  /** Why it is being stopped; undefined while it should run. */
  stopping?: string;
  exited: Promise<Deno.CommandStatus>;
}

interface Session {
  /** HOST:PORT the slave joins. */
  master: string;
  /** The master's control link. */
  peer: Peer;
  child?: Child;
  restarts: number;
  ended: boolean;
}

/**
 * The resident helper of a slave machine: answers masters' probes with its version, OS/arch, GPUs and
 * state, starts `octane slave` for one master at a time (others are refused with the occupying master's
 * address), and stops that slave (SIGTERM, then SIGKILL after a grace period) when the master asks, when
 * the master's link drops or goes silent, or when the slave's own heartbeat stops.
 */
export class Daemon {
  #o: DaemonOptions;
  #facts: SlaveFacts;
  #listener: Deno.Listener;
  #session?: Session;
  #children = new Set<Child>();
  #watchdog?: ReturnType<typeof setInterval>;
  #closed = false;
  #connections = new Set<Peer>();

  private constructor(o: DaemonOptions, facts: SlaveFacts, listener: Deno.Listener) {
    this.#o = o;
    this.#facts = facts;
    this.#listener = listener;
  }

  /**
   * Listens on the port. `facts` are what the slave probe reported (see probeSlave).
   * @throws {Deno.errors.AddrInUse} when the port is taken
   */
  static listen(
    facts: SlaveFacts,
    options: Partial<DaemonOptions> & Pick<DaemonOptions, "command">,
  ): Daemon {
    const o = { ...defaults, ...options };
    const listener = Deno.listen({ hostname: o.bind, port: o.port, transport: "tcp" });
    return new Daemon(o, facts, listener);
  }

  /** The port listened on. */
  get port(): number {
    return (this.#listener.addr as Deno.NetAddr).port;
  }

  /** What slaves here report (set once the slave probe has run, before serving). */
  set facts(facts: SlaveFacts) {
    this.#facts = facts;
  }

  /** The master served now (HOST:PORT), if any. */
  get master(): string | undefined {
    return this.#session?.master;
  }

  /** Serves masters until {@linkcode Daemon.close}. */
  async serve(): Promise<void> {
    this.#watchdog = setInterval(() => this.#checkHeartbeats(), 250);
    if (!this.#o.secret) {
      log.warn(
        "No shared secret: any host that reaches port {port} may start a slave here (use --secret-file)",
        {
          port: this.port,
        },
      );
    }
    try {
      for await (const conn of this.#listener) this.#serve(conn);
    } catch (error: unknown) {
      if (!this.#closed) throw error;
    }
  }

  /** Stops listening, stops the slave (gracefully) and closes every link. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#watchdog);
    try {
      this.#listener.close();
    } catch {
      // already closed
    }
    if (this.#session) this.#release(this.#session, "the daemon is shutting down");
    await Promise.allSettled([...this.#children].map((c) => this.#stop(c, "the daemon is shutting down")));
    for (const p of this.#connections) p.close();
  }

  #status(asker: string): DaemonStatus {
    const s = this.#session;
    const state: DaemonState = !s ? "available" : s.master === asker ? "running" : "occupied";
    return {
      ...this.#facts,
      state,
      ...(s ? { master: s.master } : {}),
      ...(s && state === "running" && s.child ? { pid: s.child.pid } : {}),
    };
  }

  async #serve(conn: Deno.Conn): Promise<void> {
    const peer = new Peer(conn);
    this.#connections.add(peer);
    const ip = (conn.remoteAddr as Deno.NetAddr).hostname;
    try {
      const first = await withTimeout(peer.receive(), 5000, "no request within 5 s");
      if (!first) return;
      if (first.version !== PROTOCOL_VERSION) {
        const reason =
          `protocol version mismatch: this daemon (octane ${VERSION}) speaks protocol ${PROTOCOL_VERSION}, the request ${first.version}; run the same octane on every node`;
        log.warn("Refused {peer}: {reason}", { peer: peer.label, reason });
        await peer.send("refuse", { reason, version: VERSION, protocol: PROTOCOL_VERSION }).catch(() => {});
        return;
      }
      if (first.type === "hello") return await this.#watch(peer, first);
      if (first.type !== "probe") throw new ProtocolError(`expected probe, got ${first.type}`);
      const probe = parseJson(first.payload, "probe");
      const port = intField(probe, "port", "probe", 65535);
      const address = typeof probe.address === "string" && /^[\w.:-]{1,255}$/.test(probe.address) &&
          probe.address !== "0.0.0.0" && probe.address !== "::"
        ? probe.address
        : ip;
      const master = `${address.includes(":") ? `[${address}]` : address}:${port}`;
      if (this.#o.secret && !(await this.#authenticate(peer, probe))) return;
      await peer.send("status", this.#status(master));
      await this.#control(peer, master);
    } catch (error: unknown) {
      if (!peer.closed) {
        const reason = error instanceof Error ? error.message : String(error);
        log.warn("Closing connection with {peer}: {reason}", { peer: peer.label, reason });
        await peer.send("refuse", { reason, version: VERSION, protocol: PROTOCOL_VERSION }).catch(() => {});
      }
    } finally {
      peer.close();
      this.#connections.delete(peer);
      const s = this.#session;
      if (s && s.peer === peer) this.#release(s, "it closed its link");
    }
  }

  async #authenticate(peer: Peer, probe: Record<string, unknown>): Promise<boolean> {
    const challenge = nonce();
    await peer.send("challenge", {
      nonce: challenge,
      proof: proof(this.#o.secret!, "daemon", String(probe.nonce ?? "")),
    });
    const auth = await withTimeout(peer.receive(), 5000, "no answer to the challenge within 5 s");
    if (
      auth?.type === "auth" &&
      proofMatches(this.#o.secret!, "master", challenge, parseJson(auth.payload, "auth").proof)
    ) return true;
    log.warn("Refused master {peer}: it did not prove the shared secret", { peer: peer.label });
    await peer.send("refuse", { reason: "authentication failed: this daemon needs the shared secret" })
      .catch(() => {});
    return false;
  }

  /** A master's requests after its probe: start, stop, probe again. */
  async #control(peer: Peer, master: string): Promise<void> {
    for (;;) {
      // a link that holds no slave may not idle: a master probes and closes, or asks for a start at once
      const frame = this.#session?.peer === peer
        ? await peer.receive()
        : await withTimeout(peer.receive(), IDLE_SECONDS * 1000, `no request for ${IDLE_SECONDS} s`);
      if (!frame) return;
      if (frame.type === "probe") {
        await peer.send("status", this.#status(master));
      } else if (frame.type === "start") {
        const s = this.#session;
        if (s && s.master !== master) {
          log.info("Refused master {master}: occupied by master {other}", { master, other: s.master });
          await peer.send("refuse", {
            reason: `occupied by master ${s.master}`,
            master: s.master,
            version: VERSION,
            protocol: PROTOCOL_VERSION,
          });
          return;
        }
        if (s) {
          s.peer = peer; // the same master again, on a new link: it takes over the running slave
        } else {
          const session: Session = { master, peer, restarts: 0, ended: false };
          this.#session = session;
          log.info("Master {master} enabled this daemon: starting a slave for it", { master });
          this.#spawn(session);
        }
        peer.startHeartbeats();
        await peer.send("status", this.#status(master));
      } else if (frame.type === "stop") {
        const s = this.#session;
        if (s && s.master === master) this.#release(s, "it asked to stop");
        await peer.send("status", this.#status(master));
        return;
      } else {
        throw new ProtocolError(`unexpected ${frame.type} message`);
      }
    }
  }

  /** A slave's heartbeat link: hello with its token, then heartbeats until it exits. */
  async #watch(peer: Peer, hello: Frame): Promise<void> {
    const m = parseJson(hello.payload, "hello");
    const child = [...this.#children].find((c) => c.token === m.token && typeof m.token === "string");
    if (m.role !== "watch" || !child) {
      log.warn("Refused {peer}: not a slave this daemon started", { peer: peer.label });
      await peer.send("refuse", { reason: "unknown slave token" }).catch(() => {});
      return;
    }
    child.watch?.close();
    child.watch = peer;
    await peer.send("welcome", { version: VERSION, protocol: PROTOCOL_VERSION });
    log.debug("Slave {pid} reports its heartbeat", { pid: child.pid });
    while (await peer.receive()) {
      // heartbeats are consumed by receive(); a slave sends nothing else
    }
  }

  #spawn(session: Session): void {
    const token = nonce();
    const bind = this.#o.bind;
    const self = bind === "0.0.0.0"
      ? "127.0.0.1"
      : bind === "::"
      ? "[::1]"
      : bind.includes(":")
      ? `[${bind}]`
      : bind;
    const [exe, ...prefix] = this.#o.command;
    const env: Record<string, string> = { [DAEMON_TOKEN_ENV]: token };
    if (this.#o.secret) env.OCTANE_SECRET = this.#o.secret;
    const process = new Deno.Command(exe!, {
      args: [
        ...prefix,
        "slave",
        "--master",
        session.master,
        "--daemon",
        `${self}:${this.port}`,
      ],
      env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const child: Child = {
      process,
      pid: process.pid,
      token,
      spawned: performance.now(),
      exited: process.status,
    };
    this.#children.add(child);
    session.child = child;
    log.info("Started slave {pid} for master {master}", { pid: child.pid, master: session.master });
    forwardLines(process.stdout, child.pid);
    forwardLines(process.stderr, child.pid);
    child.exited.then((status) => this.#exited(session, child, status));
  }

  async #exited(session: Session, child: Child, status: Deno.CommandStatus): Promise<void> {
    this.#children.delete(child);
    child.watch?.close();
    if (session.child === child) session.child = undefined;
    const how = status.signal ? `signal ${status.signal}` : `code ${status.code}`;
    if (child.stopping) {
      log.info("Slave {pid} stopped ({how}): {why}", { pid: child.pid, how, why: child.stopping });
    } else log.info("Slave {pid} exited with {how}", { pid: child.pid, how });
    if (session.ended || this.#session !== session) return;
    if (status.success && !child.stopping) {
      // the master finished its render and said bye: it will close its link; nothing to restart
      await session.peer.send("status", this.#status(session.master)).catch(() => {});
      return;
    }
    if (session.restarts >= this.#o.maxRestarts) {
      const reason = `the slave failed ${session.restarts + 1} times (last: ${child.stopping ?? how})`;
      log.error("Giving up on master {master}: {reason}", { master: session.master, reason });
      await session.peer.send("refuse", { reason, version: VERSION, protocol: PROTOCOL_VERSION }).catch(
        () => {},
      );
      this.#release(session, reason);
      return;
    }
    // a slave that lost its master exits at about the moment the master's link drops: wait, then look again
    await new Promise((r) => setTimeout(r, this.#o.restartDelaySeconds * 1000));
    if (session.ended || this.#session !== session || session.peer.closed || this.#closed) return;
    session.restarts++;
    log.info("Master {master} still wants a slave: restarting it ({n} of {max})", {
      master: session.master,
      n: session.restarts,
      max: this.#o.maxRestarts,
    });
    this.#spawn(session);
    await session.peer.send("status", this.#status(session.master)).catch(() => {});
  }

  /** Ends a master's session: its slave is stopped and the daemon is available again. */
  #release(session: Session, reason: string): void {
    if (session.ended) return;
    session.ended = true;
    if (this.#session === session) this.#session = undefined;
    session.peer.close();
    const child = session.child;
    if (!child) {
      log.info("Released master {master}: {reason}", { master: session.master, reason });
      log.info("Available again");
      return;
    }
    log.info("Released master {master}: {reason}; stopping slave {pid}", {
      master: session.master,
      reason,
      pid: child.pid,
    });
    this.#stop(child, reason).then(() => {
      if (!this.#session) log.info("Available again");
    });
  }

  /** SIGTERM, then SIGKILL after the grace period; resolves once the slave has exited. */
  async #stop(child: Child, why: string): Promise<void> {
    child.stopping ??= why;
    signal(child.process, "SIGTERM");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const graceful = await Promise.race([
      child.exited.then(() => true),
      new Promise<false>((r) => (timer = setTimeout(() => r(false), this.#o.graceSeconds * 1000))),
    ]);
    clearTimeout(timer);
    if (!graceful) {
      log.warn("Slave {pid} did not stop within {s} s of SIGTERM: killing it", {
        pid: child.pid,
        s: this.#o.graceSeconds,
      });
      signal(child.process, "SIGKILL");
      await child.exited;
    }
  }

  #checkHeartbeats(): void {
    const t = this.#o.heartbeatTimeout;
    const s = this.#session;
    if (s && !s.ended && s.peer.silentSeconds > t) {
      this.#release(s, `it sent no heartbeat for ${t} s`);
    }
    for (const c of this.#children) {
      if (c.stopping) continue;
      const silent = c.watch ? c.watch.silentSeconds : (performance.now() - c.spawned) / 1000;
      if (silent > t) {
        log.warn("Slave {pid} sent no heartbeat for {t} s (hung, stopped or crashed): stopping it", {
          pid: c.pid,
          t,
        });
        this.#stop(c, `no heartbeat for ${t} s`);
      }
    }
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
