import { hostname } from "node:os";
import type { DaemonStatus } from "../daemon/mod.ts";
import { parseFacts } from "../daemon/mod.ts";
import { PROTOCOL_VERSION, VERSION } from "../../version.ts";
import { type Frame, nonce, parseJson, Peer, proof, proofMatches, withTimeout } from "../protocol/mod.ts";

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
  /** Shared secret. */
  secret?: string;
  /** Milliseconds for the connection and for each answer. */
  timeoutMs: number;
}

/** A daemon's answer to a probe, with the link still open (for a start request), or why there is none. */
export interface ProbeResult {
  /** What was found. */
  report: DaemonReport;
  /** The open link when the daemon answered with its status; the caller closes it. */
  peer?: Peer;
}

/** Parses a daemon's status answer. */
export function parseStatus(frame: Frame): DaemonStatus {
  const m = parseJson(frame.payload, "status");
  const facts = parseFacts(JSON.stringify(m));
  const state = m.state === "occupied" || m.state === "running" ? m.state : "available";
  return {
    ...facts,
    state,
    ...(typeof m.master === "string" ? { master: m.master.slice(0, 300) } : {}),
    ...(Number.isSafeInteger(m.pid) ? { pid: m.pid as number } : {}),
  };
}

/** Reads a refusal or another version's answer into a report; undefined for anything else. */
export function otherAnswer(address: string, frame: Frame): DaemonReport | undefined {
  let m: Record<string, unknown> = {};
  try {
    m = parseJson(frame.payload, frame.type);
  } catch {
    // an answer of another version need not be JSON
  }
  if (frame.version !== PROTOCOL_VERSION) {
    return {
      address,
      kind: "other-version",
      version: typeof m.version === "string" ? m.version.slice(0, 40) : "unknown",
      protocol: frame.version,
    };
  }
  if (frame.type === "refuse") {
    return { address, kind: "refused", reason: String(m.reason ?? "no reason given").slice(0, 300) };
  }
  return undefined;
}

/**
 * Probes the daemon at `address`: connects (bounded by the timeout), sends a probe, proves the secret when
 * asked, and reads the daemon's status. Nothing listening, or something that is not an octane daemon:
 * undefined.
 */
export async function probeDaemon(address: string, o: ProbeOptions): Promise<ProbeResult | undefined> {
  const conn = await connectWithin(address, o.daemonPort, o.timeoutMs);
  if (!conn) return undefined;
  const peer = new Peer(conn);
  let keep = false;
  try {
    const mine = nonce();
    await peer.send("probe", {
      version: VERSION,
      protocol: PROTOCOL_VERSION,
      host: hostname(),
      port: o.masterPort,
      ...(o.masterAddress ? { address: o.masterAddress } : {}),
      nonce: mine,
    });
    let frame = await withTimeout(peer.receive(), o.timeoutMs, "no answer");
    if (!frame) return undefined;
    if (frame.type === "challenge" && frame.version === PROTOCOL_VERSION) {
      const m = parseJson(frame.payload, "challenge");
      if (!o.secret) {
        return { report: { address, kind: "refused", reason: "it needs the shared secret (--secret-file)" } };
      }
      if (!proofMatches(o.secret, "daemon", mine, m.proof)) {
        return { report: { address, kind: "refused", reason: "it failed the shared-secret check" } };
      }
      await peer.send("auth", { proof: proof(o.secret, "master", String(m.nonce ?? "")) });
      frame = await withTimeout(peer.receive(), o.timeoutMs, "no answer");
      if (!frame) return undefined;
    }
    const other = otherAnswer(address, frame);
    if (other) return { report: other };
    if (frame.type !== "status") return undefined;
    keep = true;
    return { report: { address, kind: "daemon", status: parseStatus(frame) }, peer };
  } catch {
    return undefined; // not an octane daemon, or it went away mid-answer
  } finally {
    if (!keep) peer.close();
  }
}

/** Connects within `ms`, or undefined (refused, unreachable, timed out). */
async function connectWithin(hostname: string, port: number, ms: number): Promise<Deno.TcpConn | undefined> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), ms);
  const connecting = Deno.connect({ hostname, port, transport: "tcp", signal: abort.signal });
  try {
    return await Promise.race([
      connecting,
      new Promise<undefined>((resolve) => abort.signal.addEventListener("abort", () => resolve(undefined))),
    ]);
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
    // a connection that completes after the deadline is closed at once
    if (abort.signal.aborted) connecting.then((c) => c.close(), () => {});
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
      result?.peer?.close();
      found[i] = result?.report;
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.concurrency, addresses.length) }, worker));
  return found.filter((r): r is DaemonReport => r !== undefined);
}
