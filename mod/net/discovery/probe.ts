import { hostname } from "node:os";
import type { DaemonStatus } from "../daemon/mod.ts";
import { VERSION } from "../../version.ts";
import { deadline } from "../async.ts";
import { HandshakeError, Link } from "../protocol/mod.ts";

/** What a probe found at one address. */
export type DaemonReport =
  | { address: string; kind: "daemon"; status: DaemonStatus }
  | { address: string; kind: "other-version"; version: string; protocol: number }
  | { address: string; kind: "refused"; reason: string };

/** Options of {@linkcode probeDaemon}. */
export interface ProbeOptions {
  /** The daemons' port. */
  daemonPort: number;
  /** The port this master's slaves join. */
  masterPort: number;
  /** The address slaves should join, when the master listens on one address only. */
  masterAddress?: string;
  /** The farm key. */
  key?: Uint8Array;
  /** Milliseconds for the connection, the handshake and each answer. */
  timeoutMs: number;
}

/** A daemon's answer to a probe, with the link still open (for a start request), or why there is none. */
export interface ProbeResult {
  /** What was found. */
  report: DaemonReport;
  /** The open link when the daemon answered with its status; the caller closes it. */
  link?: Link;
}

/** Short reasons for the daemon list, by why the handshake failed. */
const KEY_REASONS: Partial<Record<HandshakeError["kind"], string>> = {
  "key-unexpected": "it requires a farm key and this master has none (--key-file)",
  "key-missing": "it has no farm key and this master has one: give it the same key",
  key: "its farm key differs from this master's",
};

/**
 * Probes the daemon at `address` over a sealed link (service "daemon"): connects, runs the handshake, says
 * where this master's slaves join, and reads the daemon's status. Nothing listening, or something that is
 * not an octane daemon: undefined.
 */
export async function probeDaemon(address: string, o: ProbeOptions): Promise<ProbeResult | undefined> {
  let link: Link;
  try {
    link = await Link.connect(address, o.daemonPort, {
      service: "daemon",
      timeoutMs: o.timeoutMs,
      ...(o.key ? { key: o.key } : {}),
    });
  } catch (error: unknown) {
    if (!(error instanceof HandshakeError)) return undefined; // nothing listening, unreachable
    if (error.kind === "protocol" && error.theirs) {
      return {
        report: {
          address,
          kind: "other-version",
          version: error.theirs.release,
          protocol: error.theirs.protocol,
        },
      };
    }
    const reason = KEY_REASONS[error.kind];
    return reason ? { report: { address, kind: "refused", reason } } : undefined;
  }
  let keep = false;
  try {
    await link.send("probe", {
      version: VERSION,
      host: hostname(),
      port: o.masterPort,
      address: o.masterAddress ?? link.localAddress,
    });
    const m = await deadline(link.receive(["status", "refuse"]), o.timeoutMs, { message: "no answer" });
    if (!m) return undefined;
    if (m.type === "refuse") return { report: { address, kind: "refused", reason: m.body.reason } };
    if (m.type !== "status") return undefined;
    keep = true;
    return { report: { address, kind: "daemon", status: m.body }, link };
  } catch {
    return undefined; // it went away mid-answer, or answered nonsense
  } finally {
    if (!keep) link.close();
  }
}

/**
 * Probes every address with at most `concurrency` probes at once; resolves with what answered, in address
 * order.
 */
export async function scanDaemons(
  addresses: readonly string[],
  o: ProbeOptions & { concurrency: number },
): Promise<DaemonReport[]> {
  const found: (DaemonReport | undefined)[] = new Array(addresses.length);
  let next = 0;
  const worker = async () => {
    while (next < addresses.length) {
      const i = next++;
      const result = await probeDaemon(addresses[i]!, o);
      result?.link?.close();
      found[i] = result?.report;
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.concurrency, addresses.length) }, worker));
  return found.filter((r): r is DaemonReport => r !== undefined);
}
