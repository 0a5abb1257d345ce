import { getLogger } from "@logtape/logtape";
import { hostname } from "node:os";
import { VERSION } from "../../version.ts";
import { deadline } from "../async.ts";
import {
  DAEMON_IDLE_SECONDS,
  DAEMON_PORT,
  GRACE_SECONDS,
  HANDSHAKE_TIMEOUT_MS,
  HEARTBEAT_TIMEOUT_SECONDS,
  MAX_RESTARTS,
} from "../defaults.ts";
import type { FarmKey } from "../key.ts";
import {
  type DaemonState,
  type HandshakeGate,
  type Link,
  type Probe,
  ProtocolError,
  serveLinks,
  type Status,
  type Watch,
} from "../protocol/mod.ts";
import type { SlaveFacts } from "./facts.ts";
import { SlaveKeeper } from "./_keeper.ts";

const log = getLogger(["octane", "daemon"]);

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
  /** The farm key masters must hold (its file is passed on to the slaves); none: anyone may start a slave. */
  key?: FarmKey;
  /** How to run octane: the executable and the arguments before the subcommand. */
  command: string[];
  /** Restarts of a slave that failed while its master still wants it, per master. */
  maxRestarts: number;
  /** Seconds to wait before restarting a failed slave. */
  restartDelaySeconds: number;
  /** Bounds on connections not yet proven (defaults from mod/net/defaults.ts). */
  gate?: HandshakeGate;
}

const defaults = {
  port: DAEMON_PORT,
  bind: "0.0.0.0",
  heartbeatTimeout: HEARTBEAT_TIMEOUT_SECONDS,
  graceSeconds: GRACE_SECONDS,
  maxRestarts: MAX_RESTARTS,
  restartDelaySeconds: 1,
} satisfies Partial<DaemonOptions>;

/** The daemon's answer to a probe. */
export type DaemonStatus = Status;

/**
 * The resident helper of a slave machine: answers masters' probes (sealed links, service "daemon") with its
 * version, OS/arch, GPUs and state, starts `octane slave` for one master at a time (others are refused with
 * the occupying master's address), and stops that slave (SIGTERM, then SIGKILL after a grace period) when
 * the master asks, when the master's link drops or goes silent, or when the slave's own heartbeat link
 * (service "watch") stops.
 */
export class Daemon {
  #o: DaemonOptions;
  #facts: SlaveFacts;
  #listener: Deno.Listener;
  #keeper: SlaveKeeper;
  #watchdog?: ReturnType<typeof setInterval>;
  #closed = false;
  #stop = new AbortController();
  #links = new Set<Link>();

  private constructor(o: DaemonOptions, facts: SlaveFacts, listener: Deno.Listener) {
    this.#o = o;
    this.#facts = facts;
    this.#listener = listener;
    const bind = o.bind;
    const self = bind === "0.0.0.0"
      ? "127.0.0.1"
      : bind === "::"
      ? "[::1]"
      : bind.includes(":")
      ? `[${bind}]`
      : bind;
    this.#keeper = new SlaveKeeper({
      command: o.command,
      daemon: `${self}:${this.port}`,
      ...(o.key ? { keyFile: o.key.path } : {}),
      heartbeatTimeout: o.heartbeatTimeout,
      graceSeconds: o.graceSeconds,
      maxRestarts: o.maxRestarts,
      restartDelaySeconds: o.restartDelaySeconds,
      status: (master) => this.#status(master),
    });
  }

  /**
   * Listens on the port. `facts` are what the slave probe reported (see probeSlave).
   * @throws {Deno.errors.AddrInUse} when the port is taken
   */
  static listen(facts: SlaveFacts, options: Partial<DaemonOptions> & Pick<DaemonOptions, "command">): Daemon {
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
    return this.#keeper.session?.master;
  }

  /** Serves masters and slaves until {@linkcode Daemon.close} (see serveLinks). */
  async serve(): Promise<void> {
    this.#watchdog = setInterval(() => this.#keeper.checkHeartbeats(), 250);
    if (!this.#o.key) {
      log.warn(
        "No farm key: links are encrypted but not authenticated, and any host that reaches port {port} may start a slave here (octane key generate, then --key-file on every node)",
        { port: this.port },
      );
    }
    await serveLinks(this.#listener, {
      signal: this.#stop.signal,
      services: ["daemon", "watch"],
      ...(this.#o.key ? { key: this.#o.key.key } : {}),
      log,
      closing: () => this.#closed,
      ...(this.#o.gate ? { gate: this.#o.gate } : {}),
      onLink: (link, proven) => this.#serve(link, proven),
    });
  }

  /** Stops listening, stops the slave (gracefully) and closes every link. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#stop.abort();
    clearInterval(this.#watchdog);
    try {
      this.#listener.close();
    } catch {
      // already closed
    }
    await this.#keeper.close("the daemon is shutting down");
    for (const l of this.#links) l.close();
  }

  #status(asker: string): DaemonStatus {
    const s = this.#keeper.session;
    const state: DaemonState = !s ? "available" : s.master === asker ? "running" : "occupied";
    return {
      ...this.#facts,
      state,
      ...(s ? { master: s.master } : {}),
      ...(s && state === "running" && s.child ? { pid: s.child.pid } : {}),
    };
  }

  /** A master's or a slave's link, from its first message on. */
  async #serve(link: Link, proven: () => void): Promise<void> {
    this.#links.add(link);
    try {
      const first = await deadline(
        link.receive(link.service === "watch" ? ["watch"] : ["probe"]),
        HANDSHAKE_TIMEOUT_MS,
        { message: `no request within ${HANDSHAKE_TIMEOUT_MS / 1000} s` },
      );
      proven();
      if (!first) return;
      if (first.type === "watch") return await this.#watch(link, first.body);
      if (first.type !== "probe") throw new ProtocolError(`expected probe, got ${first.type}`);
      const master = masterOf(first.body, link);
      await link.send("status", this.#status(master));
      await this.#control(link, master);
    } catch (error: unknown) {
      if (!link.closed) {
        const reason = error instanceof Error ? error.message : String(error);
        log.warn("Closing connection with {peer}: {reason}", { peer: link.label, reason });
        await link.send("refuse", { reason }).catch(() => {});
      }
    } finally {
      link.close();
      this.#links.delete(link);
      const s = this.#keeper.session;
      if (s && s.link === link) this.#keeper.release(s, "it closed its link");
    }
  }

  /** A master's requests after its probe: start, stop, probe again. */
  async #control(link: Link, master: string): Promise<void> {
    for (;;) {
      // a link that holds no slave may not idle: a master probes and closes, or asks for a start at once
      const allowed = ["probe", "start", "stop", "bye"] as const;
      const m = this.#keeper.session?.link === link
        ? await link.receive(allowed)
        : await deadline(link.receive(allowed), DAEMON_IDLE_SECONDS * 1000, {
          message: `no request for ${DAEMON_IDLE_SECONDS} s`,
        });
      if (!m || m.type === "bye") return;
      if (m.type === "probe") {
        await link.send("status", this.#status(master));
      } else if (m.type === "start") {
        const s = this.#keeper.session;
        // the same master may take its session over on a new link, from the same host, or once the old link
        // is gone; another peer that merely names that master may not (it could then stop the slave)
        if (s && s.master === master && !s.link.closed && s.link.peerHost !== link.peerHost) {
          log.info(
            "Refused a start naming master {master} from {peer}: that session belongs to another link",
            {
              master,
              peer: link.label,
            },
          );
          await link.send("refuse", {
            reason: `occupied by master ${s.master}`,
            master: s.master,
            retry: true,
          });
          return;
        }
        if (s && s.master !== master) {
          log.info("Refused master {master}: occupied by master {other}", { master, other: s.master });
          await link.send("refuse", {
            reason: `occupied by master ${s.master}`,
            master: s.master,
            retry: true,
          });
          return;
        }
        if (s) s.link = link; // the same master again, on a new link: it takes over the running slave
        else {
          const busy = this.#keeper.busy();
          if (busy) {
            log.info("Refused a start from master {master}: {busy}", { master, busy });
            await link.send("refuse", { reason: busy, retry: true });
            return;
          }
          if ((await this.#keeper.begin(master, link)).ended) return;
        }
        link.startHeartbeats();
        await link.send("status", this.#status(master));
      } else if (m.type === "stop") {
        const s = this.#keeper.session;
        if (s && s.link === link) this.#keeper.release(s, "it asked to stop");
        await link.send("status", this.#status(master));
        return;
      } else {
        throw new ProtocolError(`unexpected ${m.type} message from a master`);
      }
    }
  }

  /** A slave's heartbeat link: its token (accepted once), then heartbeats until it exits. */
  async #watch(link: Link, m: Watch): Promise<void> {
    const child = this.#keeper.childOf(m.token);
    if (!child || child.watch) {
      const reason = child ? "this slave's heartbeat link is open already" : "unknown slave token";
      log.warn("Refused heartbeat link from {peer}: {reason}", { peer: link.label, reason });
      await link.send("refuse", { reason }).catch(() => {});
      return;
    }
    child.watch = link;
    await link.send("welcome", { version: VERSION, host: hostname() });
    log.debug("Slave {pid} reports its heartbeat", { pid: child.pid });
    while (await link.receive(["bye"])) {
      // heartbeats are consumed by receive(); a slave sends nothing else
    }
  }
}

/**
 * HOST:PORT where the master's slaves join: the address it names (its own address on this link), or the
 * link's peer address when it names none usable.
 */
function masterOf(probe: Probe, link: Link): string {
  const named = /^[\w.:-]{1,64}$/.test(probe.address) && probe.address !== "0.0.0.0" &&
    probe.address !== "::";
  const address = named ? probe.address : link.peerHost;
  return `${address.includes(":") ? `[${address}]` : address}:${probe.port}`;
}
