import {
  HANDSHAKE_BURST_PER_HOST,
  HANDSHAKE_RATE_PER_HOST,
  HANDSHAKES_AT_ONCE,
  HANDSHAKES_AT_ONCE_PER_HOST,
} from "../defaults.ts";

/** Options of {@linkcode HandshakeGate}; defaults from mod/net/defaults.ts. */
export interface GateOptions {
  /** Connections not yet proven, at once, in all. */
  total: number;
  /** Connections not yet proven, at once, from one address. */
  perHost: number;
  /** Handshakes per second one address may start, on average. */
  ratePerHost: number;
  /** Handshakes one address may start at once after a quiet spell. */
  burstPerHost: number;
  /** The clock, in milliseconds (tests). */
  now: () => number;
}

/**
 * Admits connections to their handshake: bounds how many peers not yet proven (no key shown, or a
 * replayed handshake) are held at once, in all and per address, and how fast one address may start
 * handshakes. What is over a bound is closed at once, so that nobody without the key can tie up memory,
 * CPU (X25519) or the slots of nodes that have it.
 */
export class HandshakeGate {
  #o: GateOptions;
  #open = 0;
  #perHost = new Map<string, number>();
  #buckets = new Map<string, { tokens: number; at: number }>();

  /** A gate with the given bounds. */
  constructor(options: Partial<GateOptions> = {}) {
    this.#o = {
      total: HANDSHAKES_AT_ONCE,
      perHost: HANDSHAKES_AT_ONCE_PER_HOST,
      ratePerHost: HANDSHAKE_RATE_PER_HOST,
      burstPerHost: HANDSHAKE_BURST_PER_HOST,
      now: () => performance.now(),
      ...options,
    };
  }

  /**
   * Admits a connection from `host`: the function that gives its slot back (call it once the peer is
   * proven or gone), or why it is refused.
   */
  admit(host: string): { release: () => void } | { refused: string } {
    const o = this.#o;
    if (this.#open >= o.total) return { refused: `${o.total} connections are in their handshake already` };
    const here = this.#perHost.get(host) ?? 0;
    if (here >= o.perHost) {
      return { refused: `${here} connections from ${host} are in their handshake already` };
    }
    const now = o.now();
    const bucket = this.#buckets.get(host) ?? { tokens: o.burstPerHost, at: now };
    bucket.tokens = Math.min(o.burstPerHost, bucket.tokens + ((now - bucket.at) / 1000) * o.ratePerHost);
    bucket.at = now;
    if (bucket.tokens < 1) {
      return { refused: `${host} starts handshakes faster than ${o.ratePerHost} a second` };
    }
    bucket.tokens -= 1;
    this.#buckets.set(host, bucket);
    if (this.#buckets.size > 4096) this.#forgetFull(now);
    this.#open++;
    this.#perHost.set(host, here + 1);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.#open--;
        const n = (this.#perHost.get(host) ?? 1) - 1;
        if (n > 0) this.#perHost.set(host, n);
        else this.#perHost.delete(host);
      },
    };
  }

  /** Connections in their handshake now. */
  get open(): number {
    return this.#open;
  }

  /** Drops buckets that have refilled (their hosts are quiet), so that the map stays small. */
  #forgetFull(now: number): void {
    for (const [host, b] of this.#buckets) {
      if (b.tokens + ((now - b.at) / 1000) * this.#o.ratePerHost >= this.#o.burstPerHost) {
        this.#buckets.delete(host);
      }
    }
  }
}

/**
 * Lets through at most `lines` log lines per `windowMs` (refused connections can come by the thousand);
 * the first line after a quiet spell says how many were left out.
 */
export class LogBudget {
  #lines: number;
  #windowMs: number;
  #start = -Infinity;
  #used = 0;
  #skipped = 0;

  /** A budget of `lines` per `windowMs`. */
  constructor(lines = 10, windowMs = 10_000) {
    this.#lines = lines;
    this.#windowMs = windowMs;
  }

  /** Whether to log now, and how many lines were left out before this one. */
  take(now = performance.now()): { log: boolean; skipped: number } {
    if (now - this.#start >= this.#windowMs) {
      this.#start = now;
      this.#used = 0;
    }
    if (this.#used >= this.#lines) {
      this.#skipped++;
      return { log: false, skipped: 0 };
    }
    this.#used++;
    const skipped = this.#skipped;
    this.#skipped = 0;
    return { log: true, skipped };
  }
}
