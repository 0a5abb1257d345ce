import { getLogger } from "@logtape/logtape";
import { delay } from "../async.ts";
import { SLAVE_START_SECONDS } from "../defaults.ts";
import type { Link, Status } from "../protocol/mod.ts";
import { type SlaveProcess, spawnSlave, stopSlave, tokenMatches } from "./_slave_process.ts";

const log = getLogger(["octane", "daemon"]);

/** Milliseconds between two slave starts at least (a start/stop flood starts one a second at most). */
const SPAWN_INTERVAL_MS = 1000;

/** One master's claim on this daemon: its control link and the slave run for it. */
export interface Session {
  /** HOST:PORT the slave joins. */
  readonly master: string;
  /** The master's control link (a new link of the same master takes over). */
  link: Link;
  /** The slave running now, if one is. */
  child?: SlaveProcess;
  /** Restarts so far. */
  restarts: number;
  /** True once released. */
  ended: boolean;
}

/** What a keeper needs to know. */
export interface KeeperOptions {
  /** How to run octane: the executable and the arguments before the subcommand. */
  command: string[];
  /** HOST:PORT of this daemon, for the slaves' heartbeat links. */
  daemon: string;
  /** The farm key file slaves read, when the farm has a key. */
  keyFile?: string;
  /** Seconds without a heartbeat after which a slave (or a master's link) counts as gone. */
  heartbeatTimeout: number;
  /** Seconds between SIGTERM and SIGKILL. */
  graceSeconds: number;
  /** Restarts of a failed slave while its master still wants it. */
  maxRestarts: number;
  /** Seconds before a restart. */
  restartDelaySeconds: number;
  /** The daemon's status for a master (sent to it when its slave changes). */
  status: (master: string) => Status;
}

/**
 * Keeps the slave of the one master a daemon serves: starts it, restarts it while the master still wants
 * it, and stops it (SIGTERM, then SIGKILL after a grace period) when the master asks, goes away or goes
 * silent, or when the slave's own heartbeat stops.
 */
export class SlaveKeeper {
  #o: KeeperOptions;
  #session?: Session;
  #children = new Set<SlaveProcess>();
  #closing = false;
  #lastSpawn = -Infinity;

  /** A keeper with nothing to keep yet. */
  constructor(options: KeeperOptions) {
    this.#o = options;
  }

  /** The session, when a master holds this daemon. */
  get session(): Session | undefined {
    return this.#session;
  }

  /** The slave whose heartbeat token this is, if any (compared in constant time). */
  childOf(token: string): SlaveProcess | undefined {
    return [...this.#children].find((c) => tokenMatches(c, token));
  }

  /**
   * Starts a session for `master` on `link` and its slave. When the slave cannot start (executable missing,
   * out of file descriptors), the master is told why before the session ends, so that it lists this daemon
   * as failed.
   */
  async begin(master: string, link: Link): Promise<Session> {
    const session: Session = { master, link, restarts: 0, ended: false };
    this.#session = session;
    log.info("Master {master} enabled this daemon: starting a slave for it", { master });
    await this.#spawn(session);
    return session;
  }

  /**
   * Why a start request cannot be taken now (a slave of the last master is still stopping, or starts come
   * faster than one a second), or undefined.
   */
  busy(): string | undefined {
    if (this.#children.size > 0) return "the previous slave is still stopping: ask again in a moment";
    const wait = SPAWN_INTERVAL_MS - (performance.now() - this.#lastSpawn);
    if (wait > 0) return `slaves are started at most once a second: ask again in ${Math.ceil(wait / 1000)} s`;
    return undefined;
  }

  /** Ends the session: its slave is stopped and the daemon is available again. */
  release(session: Session, reason: string): void {
    if (session.ended) return;
    session.ended = true;
    if (this.#session === session) this.#session = undefined;
    session.link.close();
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
    stopSlave(child, reason, this.#o.graceSeconds).then(() => {
      if (!this.#session) log.info("Available again");
    }).catch((error: unknown) => {
      log.error("Stopping slave {pid} failed: {message}", {
        pid: child.pid,
        message: error instanceof Error ? error.message : String(error),
      });
    });
  }

  /** Ends the session and stops every slave; resolves once they have exited. */
  async close(reason: string): Promise<void> {
    this.#closing = true;
    if (this.#session) this.release(this.#session, reason);
    await Promise.allSettled([...this.#children].map((c) => stopSlave(c, reason, this.#o.graceSeconds)));
  }

  /** Releases a silent master, stops slaves whose heartbeat stopped (call it a few times a second). */
  checkHeartbeats(): void {
    const t = this.#o.heartbeatTimeout;
    const s = this.#session;
    if (s && !s.ended && s.link.silentSeconds > t) this.release(s, `it sent no heartbeat for ${t} s`);
    for (const c of this.#children) {
      if (c.stopping) continue;
      const silent = slaveSilence(c, performance.now(), t);
      if (silent) {
        log.warn("Slave {pid} sent no heartbeat for {t} s (hung, stopped or crashed): stopping it", {
          pid: c.pid,
          t: silent,
        });
        stopSlave(c, `no heartbeat for ${silent} s`, this.#o.graceSeconds).catch(() => {});
      }
    }
  }

  async #spawn(session: Session): Promise<void> {
    // one slave at a time: a restart waits until the one before has gone
    await Promise.allSettled([...this.#children].map((c) => c.exited));
    if (session.ended) return;
    this.#lastSpawn = performance.now();
    let child: SlaveProcess;
    try {
      child = spawnSlave({
        command: this.#o.command,
        master: session.master,
        daemon: this.#o.daemon,
        ...(this.#o.keyFile ? { keyFile: this.#o.keyFile } : {}),
      });
    } catch (error: unknown) {
      const reason = `cannot start a slave: ${error instanceof Error ? error.message : String(error)}`;
      log.error("{reason}", { reason });
      await session.link.send("refuse", { reason }).catch(() => {});
      this.release(session, reason);
      return;
    }
    this.#children.add(child);
    session.child = child;
    log.info("Started slave {pid} for master {master}", { pid: child.pid, master: session.master });
    child.exited.then((status) => this.#exited(session, child, status)).catch((error: unknown) => {
      log.error("Handling the exit of slave {pid} failed: {message}", {
        pid: child.pid,
        message: error instanceof Error ? error.message : String(error),
      });
    });
  }

  async #exited(session: Session, child: SlaveProcess, status: Deno.CommandStatus): Promise<void> {
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
      await session.link.send("status", this.#o.status(session.master)).catch(() => {});
      return;
    }
    if (session.restarts >= this.#o.maxRestarts) {
      const reason = `the slave failed ${session.restarts + 1} times (last: ${child.stopping ?? how})`;
      log.error("Giving up on master {master}: {reason}", { master: session.master, reason });
      await session.link.send("refuse", { reason }).catch(() => {});
      this.release(session, reason);
      return;
    }
    // a slave that lost its master exits at about the moment the master's link drops: wait, then look again
    await delay(this.#o.restartDelaySeconds * 1000);
    if (session.ended || this.#session !== session || session.link.closed || this.#closing) return;
    session.restarts++;
    log.info("Master {master} still wants a slave: restarting it ({n} of {max})", {
      master: session.master,
      n: session.restarts,
      max: this.#o.maxRestarts,
    });
    await this.#spawn(session);
    if (session.ended) return;
    await session.link.send("status", this.#o.status(session.master)).catch(() => {});
  }
}

/**
 * The seconds of silence after which slave `c` counts as hung at time `now` (ms), if it has been silent that
 * long, else 0: the heartbeat timeout `t` once its heartbeat link is open; before that (a cold start) at
 * least {@linkcode SLAVE_START_SECONDS} from its spawn.
 */
export function slaveSilence(
  c: { spawned: number; watch?: { silentSeconds: number } | undefined },
  now: number,
  t: number,
): number {
  if (c.watch) return c.watch.silentSeconds > t ? t : 0;
  const limit = Math.max(t, SLAVE_START_SECONDS);
  return (now - c.spawned) / 1000 > limit ? limit : 0;
}
