import { getLogger } from "@logtape/logtape";
import type { DaemonStatus } from "../daemon/mod.ts";
import { describeFacts } from "../daemon/mod.ts";
import { PROTOCOL_VERSION, VERSION } from "../../version.ts";
import { deadline, delay } from "../async.ts";
import { HEARTBEAT_TIMEOUT_SECONDS, MISSED_SCANS } from "../defaults.ts";
import type { Link } from "../protocol/mod.ts";
import { type DaemonReport, probeDaemon, type ProbeOptions, scanDaemons } from "./probe.ts";
import { scanTargets, type Subnet } from "./subnet.ts";

const log = getLogger(["octane", "discovery"]);

/** Which daemons a master enables: every one found, none (list only), or those named. */
export type EnableRule = "all" | "none" | string[];

/** Options of {@linkcode DaemonPool}. */
export interface PoolOptions extends ProbeOptions {
  /** Subnets scanned. */
  subnets: Subnet[];
  /** Seconds between scans. */
  interval: number;
  /** Which daemons get a start request. */
  enable: EnableRule;
  /** Probes at once. */
  concurrency: number;
  /** Seconds an enabled daemon's link may stay silent before the daemon counts as lost (default 10). */
  heartbeatTimeout?: number;
}

/** A daemon as the master lists it. */
export interface DaemonEntry {
  /** The address it answered on. */
  address: string;
  /** What it reported (its status, another version, a refusal). */
  report: DaemonReport;
  /** This master holds a link to it and its slave runs for us. */
  enabled: boolean;
  /** performance.now() when the start request was accepted. */
  enabledAt?: number;
  /** Why it will not be enabled again in this run (its slave kept failing). */
  failed?: string;
  /** Why its link was given up while enabled (silent: the host crashed or left the network). */
  lost?: string;
  /** Process ids of the slaves it started for this master (a restart adds one). */
  pids: number[];
}

/**
 * Finds daemons by scanning subnets at an interval and enables the wanted ones: each enabled daemon keeps a
 * link to this master (heartbeats both ways) and runs a slave that joins it. Closing the pool (or this
 * process dying) drops the links, and the daemons stop their slaves.
 */
export class DaemonPool {
  #o: PoolOptions;
  #targets: string[];
  #entries = new Map<string, DaemonEntry>();
  /** Scans in a row each listed daemon has not answered. */
  #missed = new Map<string, number>();
  #links = new Map<string, Link>();
  #closed = false;
  #stop = new AbortController();
  #watchdog?: ReturnType<typeof setInterval>;
  #loop?: Promise<void>;
  #lastListing = "";
  #enabling = true;
  #listed = Promise.withResolvers<void>();
  /** Addresses switched off by hand: never enabled again until switched on. */
  #disabled = new Set<string>();
  /** Addresses switched on by hand: enabled whatever the enable rule says. */
  #chosen = new Set<string>();
  /** Called with the list when it changes (new daemon, state, enabled). */
  onChange?: (entries: readonly DaemonEntry[]) => void;
  /** Milliseconds the last scan took, and how many addresses it probed. */
  lastScan?: { ms: number; addresses: number };

  /** Creates a pool; nothing is scanned before {@linkcode DaemonPool.start}. */
  constructor(options: PoolOptions) {
    this.#o = options;
    this.#targets = scanTargets(options.subnets);
  }

  /** Resolves once the first scan's daemons are listed (whether or not any answered). */
  get firstListing(): Promise<void> {
    return this.#listed.promise;
  }

  /** Sends no more start requests (the render is over); scanning and listing go on until closed. */
  stopEnabling(): void {
    this.#enabling = false;
  }

  /**
   * Switches a listed daemon on (its slave is started now, whatever the enable rule, and a failure is
   * forgotten) or off (its slave is stopped, and it is not enabled again until switched on).
   * @returns false when no daemon of that address is listed
   */
  setEnabled(address: string, on: boolean): boolean {
    const entry = this.#entries.get(address);
    if (!entry || this.#closed) return false;
    if (on) {
      this.#disabled.delete(address);
      this.#chosen.add(address);
      delete entry.failed;
      if (this.#wanted(entry)) this.#enable(entry).catch(() => {});
    } else {
      this.#chosen.delete(address);
      this.#disabled.add(address);
      const link = this.#links.get(address);
      if (link) {
        entry.lost = "disabled by hand";
        log.info("Disabling daemon {a}: its slave stops", { a: address });
        deadline(link.send("stop", {}), 1000, { message: "stop not sent" }).catch(() => {}).finally(() =>
          link.close()
        );
      }
    }
    this.#changed();
    return true;
  }

  /** True when the daemon at `address` was switched off by hand. */
  isDisabled(address: string): boolean {
    return this.#disabled.has(address);
  }

  /** Daemons found, by address. */
  get daemons(): DaemonEntry[] {
    return [...this.#entries.values()].sort((a, b) => compareAddresses(a.address, b.address));
  }

  /** Scans now and then every interval, until closed. */
  start(): void {
    if (this.#loop) return;
    log.info("Scanning {subnets} ({n} addresses) for daemons on port {port} every {s} s", {
      subnets: this.#o.subnets.map((s) => s.text).join(", "),
      n: this.#targets.length,
      port: this.#o.daemonPort,
      s: this.#o.interval,
    });
    // a daemon host that crashed or vanished says nothing: its link goes silent
    const timeout = this.#o.heartbeatTimeout ?? HEARTBEAT_TIMEOUT_SECONDS;
    this.#watchdog = setInterval(() => {
      for (const [address, link] of this.#links) {
        if (link.closed || link.silentSeconds <= timeout) continue;
        const entry = this.#entries.get(address);
        if (entry) entry.lost = `lost: no heartbeat for ${timeout} s`;
        link.close();
      }
    }, 500);
    this.#loop = (async () => {
      while (!this.#closed) {
        await this.scanOnce();
        await delay(this.#o.interval * 1000, this.#stop.signal);
      }
    })();
  }

  /** One scan of every address, then start requests to the wanted daemons. */
  async scanOnce(): Promise<void> {
    const t0 = performance.now();
    const reports = await scanDaemons(this.#targets, this.#o);
    this.lastScan = { ms: performance.now() - t0, addresses: this.#targets.length };
    if (this.#closed) return;
    const seen = new Set<string>();
    for (const report of reports) {
      seen.add(report.address);
      const entry = this.#entries.get(report.address);
      if (entry) this.#update(entry, report);
      else this.#entries.set(report.address, { address: report.address, report, enabled: false, pids: [] });
    }
    for (const [address, entry] of this.#entries) {
      if (seen.has(address)) {
        this.#missed.delete(address);
        continue;
      }
      const missed = (this.#missed.get(address) ?? 0) + 1;
      if (this.#links.has(address)) {
        log.debug("Daemon {a} did not answer the scan; its link holds", { a: entry.address });
      } else if (missed >= MISSED_SCANS) {
        // gone for good; one missed answer is a busy host (its probe timed out), not a daemon that left
        this.#entries.delete(address);
        this.#missed.delete(address);
        continue;
      }
      this.#missed.set(address, missed);
    }
    this.#changed();
    this.#listed.resolve();
    await Promise.all(this.daemons.filter((e) => this.#wanted(e)).map((e) => this.#enable(e)));
  }

  #wanted(e: DaemonEntry): boolean {
    const r = e.report;
    if (!this.#enabling) return false;
    if (r.kind !== "daemon" || r.status.state !== "available" || e.enabled || e.failed) return false;
    if (!sameVersion(r.status) || this.#links.has(e.address)) return false;
    if (this.#disabled.has(e.address)) return false;
    if (this.#chosen.has(e.address)) return true;
    const rule = this.#o.enable;
    if (rule === "all") return true;
    if (rule === "none") return false;
    return rule.some((name) => name === e.address || name.toLowerCase() === r.status.host.toLowerCase());
  }

  async #enable(entry: DaemonEntry): Promise<void> {
    const result = await probeDaemon(entry.address, this.#o);
    const link = result?.link;
    if (!link || this.#closed) return link?.close();
    try {
      await link.send("start", {});
      const answer = await deadline(link.receive(["status", "refuse"]), this.#o.timeoutMs * 5, {
        message: "no answer to start",
      });
      if (!answer) throw new Error("the daemon closed the link");
      if (answer.type === "refuse") {
        entry.report = { address: entry.address, kind: "refused", reason: answer.body.reason };
        // occupied or busy meanwhile: ask again later; it cannot start a slave: do not ask every scan
        if (!answer.body.retry) entry.failed = answer.body.reason;
        throw new Error(answer.body.reason);
      }
      if (answer.type !== "status") throw new Error(`it answered ${answer.type}`);
      if (this.#closed) {
        // the pool closed while the daemon started a slave: it must not keep that slave for nobody
        await deadline(link.send("stop", {}), 1000, { message: "stop not sent" }).catch(() => {});
        return link.close();
      }
      this.#update(entry, { address: entry.address, kind: "daemon", status: answer.body });
    } catch (error: unknown) {
      link.close();
      log.warn("Daemon {a} did not start a slave: {reason}", {
        a: entry.address,
        reason: error instanceof Error ? error.message : String(error),
      });
      this.#changed();
      return;
    }
    entry.enabled = true;
    delete entry.lost;
    entry.enabledAt = performance.now();
    this.#links.set(entry.address, link);
    link.startHeartbeats();
    log.info("Enabled daemon {a} ({host}): its slave joins this master", {
      a: entry.address,
      host: entry.report.kind === "daemon" ? entry.report.status.host : "?",
    });
    this.#changed();
    this.#follow(entry, link);
  }

  /** Reads a daemon's updates on its link until the link ends. */
  async #follow(entry: DaemonEntry, link: Link): Promise<void> {
    let why = "the daemon closed the link";
    try {
      for (;;) {
        const m = await link.receive(["status", "refuse"]);
        if (!m) break;
        if (m.type === "status") {
          this.#update(entry, { address: entry.address, kind: "daemon", status: m.body });
          this.#changed();
        } else if (m.type === "refuse") {
          why = m.body.reason;
          entry.failed = why;
          break;
        }
      }
    } catch (error: unknown) {
      why = error instanceof Error ? error.message : String(error);
    } finally {
      if (entry.lost) why = entry.lost;
      link.close();
      this.#links.delete(entry.address);
      entry.enabled = false;
      if (!this.#closed) {
        log.warn("Daemon {a} is no longer enabled: {why}", { a: entry.address, why });
        if (entry.report.kind === "daemon") entry.report.status.state = "available";
        this.#changed();
      }
    }
  }

  #update(entry: DaemonEntry, report: DaemonReport): void {
    entry.report = report;
    const pid = report.kind === "daemon" && report.status.state === "running" ? report.status.pid : undefined;
    if (pid !== undefined && !entry.pids.includes(pid)) entry.pids.push(pid);
  }

  #changed(): void {
    const listing = this.daemons.map(describeEntry).join("\n");
    if (listing === this.#lastListing) return;
    this.#lastListing = listing;
    log.debug("Daemons:\n{listing}", { listing: listing || "none found" });
    this.onChange?.(this.daemons);
  }

  /** "2 daemons (2 enabled)" for status lines. */
  summary(): string {
    const all = this.daemons;
    const enabled = all.filter((e) => e.enabled).length;
    return `${all.length} daemon${all.length === 1 ? "" : "s"} (${enabled} enabled)`;
  }

  /** Asks every enabled daemon to stop its slave, and stops scanning. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#stop.abort();
    clearInterval(this.#watchdog);
    await Promise.allSettled(
      [...this.#links.values()].map((l) => deadline(l.send("stop", {}), 1000, { message: "stop not sent" })),
    );
    for (const p of this.#links.values()) p.close();
    await this.#loop;
  }
}

/** One line of the daemon list: address, host, state, GPUs, version. */
export function describeEntry(e: DaemonEntry): string {
  const r = e.report;
  if (r.kind === "other-version") {
    return `${e.address}  octane ${r.version} (protocol ${r.protocol}): another version, not enabled`;
  }
  if (r.kind === "refused") return `${e.address}  refused: ${r.reason}`;
  const s: DaemonStatus = r.status;
  const state = e.failed
    ? `failed: ${e.failed}`
    : e.lost && !e.enabled
    ? e.lost
    : s.state === "running"
    ? `enabled${s.pid ? `, slave pid ${s.pid}` : ""}`
    : s.state === "occupied"
    ? `occupied by master ${s.master}`
    : "available";
  const version = sameVersion(s)
    ? `octane ${s.version}`
    : `octane ${s.version} (protocol ${s.protocol}): another version, not enabled`;
  return `${e.address}  ${s.host}  ${state}  ${describeFacts(s)}  ${version}`;
}

/**
 * Only daemons of this very release are enabled: another release may sample differently, and its samples
 * would not add up to this master's image.
 */
function sameVersion(s: DaemonStatus): boolean {
  return s.version === VERSION && s.protocol === PROTOCOL_VERSION;
}

function compareAddresses(a: string, b: string): number {
  const n = (x: string) => x.split(".").reduce((v, p) => v * 256 + (Number(p) || 0), 0);
  return n(a) - n(b);
}
