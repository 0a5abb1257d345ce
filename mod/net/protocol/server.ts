import type { Logger } from "@logtape/logtape";
import { delay } from "../async.ts";
import { HandshakeGate, LogBudget } from "./gate.ts";
import { HandshakeError } from "./handshake.ts";
import { type AcceptOptions, Link } from "./link.ts";

/** Milliseconds before the first retry of a failed accept; it doubles to ACCEPT_BACKOFF_MAX_MS. */
const ACCEPT_BACKOFF_MS = 50;
const ACCEPT_BACKOFF_MAX_MS = 1000;

/** Options of {@linkcode serveLinks}. */
export interface ServeOptions extends AcceptOptions {
  /**
   * Serves one link whose handshake succeeded; calls `proven` once the peer's first message has arrived
   * (its slot in the handshake gate is given back then, or when this returns).
   */
  onLink(link: Link, proven: () => void): Promise<void>;
  /** True once the server is closing: a failing accept then ends the loop. */
  closing(): boolean;
  /** Where refusals are logged (at most a few lines every 10 s). */
  log: Logger;
  /** The gate (a fresh one with the defaults when none is given). */
  gate?: HandshakeGate;
  /** Ends a pause between failed accepts at once when the server closes. */
  signal?: AbortSignal;
}

/**
 * The accept loop every role shares: takes connections until the listener closes, admits each through a
 * {@linkcode HandshakeGate}, runs the responder's handshake and hands the sealed link to `onLink`. A failing
 * accept (out of file descriptors) is retried after 50 ms, doubling to a second, never fatal. Refusals before a link exists are
 * logged within a budget, so that a flood cannot fill the log.
 */
export async function serveLinks(listener: Deno.Listener, o: ServeOptions): Promise<void> {
  const gate = o.gate ?? new HandshakeGate();
  const budget = new LogBudget();
  const refusal = (message: string, quiet = false) => {
    const { log, skipped } = budget.take();
    if (!log) return;
    const line = skipped > 0 ? `${message} (${skipped} more refused connections were not logged)` : message;
    if (quiet) o.log.debug("{line}", { line });
    else o.log.warn("{line}", { line });
  };
  let backoff = 0;
  while (!o.closing()) {
    let conn: Deno.Conn;
    try {
      conn = await listener.accept();
      backoff = 0;
    } catch (error: unknown) {
      if (o.closing() || error instanceof Deno.errors.BadResource) return;
      // out of file descriptors: connections that end free some soon, so look again soon, then less often
      backoff = Math.min(ACCEPT_BACKOFF_MAX_MS, backoff ? backoff * 2 : ACCEPT_BACKOFF_MS);
      const { log, skipped } = budget.take();
      if (log) {
        o.log.warn("Cannot accept a connection: {message}; trying again in {ms} ms{more}", {
          message: error instanceof Error ? error.message : String(error),
          ms: backoff,
          more: skipped > 0 ? ` (${skipped} more refusals were not logged)` : "",
        });
      }
      await delay(backoff, o.signal);
      continue;
    }
    const from = conn.remoteAddr as Deno.NetAddr;
    const admitted = gate.admit(from.hostname);
    if ("refused" in admitted) {
      try {
        conn.close();
      } catch {
        // gone already
      }
      refusal(`Refused ${from.hostname}:${from.port}: ${admitted.refused}`);
      continue;
    }
    (async () => {
      let link: Link;
      try {
        link = await Link.accept(conn, o);
      } catch (error: unknown) {
        admitted.release();
        const message = error instanceof Error ? error.message : String(error);
        // a port check that connects and closes is not worth a warning
        refusal(message, error instanceof HandshakeError && error.kind === "closed");
        return;
      }
      try {
        await o.onLink(link, admitted.release);
      } finally {
        admitted.release();
      }
    })().catch((error: unknown) => {
      o.log.error("Serving a connection failed: {message}", {
        message: error instanceof Error ? error.message : String(error),
      });
    });
  }
}
