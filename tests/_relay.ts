/**
 * An attacker's position on the path, for security tests: a TCP relay on a loopback address that forwards
 * to a target, records every byte both ways, and may alter bytes on the way.
 */

/** Bytes seen in one direction. */
export interface Capture {
  /** Initiator → target. */
  up: Uint8Array[];
  /** Target → initiator. */
  down: Uint8Array[];
}

/** A running relay. */
export interface Relay {
  /** Its port. */
  port: number;
  /** Everything it forwarded. */
  capture: Capture;
  /** Connections it accepted. */
  connections: number;
  /** Stops accepting and closes every connection it holds. */
  close(): Promise<void>;
}

/** Options of {@linkcode relay}. */
export interface RelayOptions {
  /** Address to listen on (a loopback address). */
  hostname: string;
  /** Port to listen on (0: any free one). */
  port?: number;
  /** Where to forward. */
  target: { hostname: string; port: number };
  /** Called with each piece going up (offset counted over the whole connection); may change it in place. */
  tamperUp?: (piece: Uint8Array, offset: number) => void;
}

/** Starts a relay; every connection it accepts is forwarded to the target. */
export function relay(o: RelayOptions): Relay {
  const listener = Deno.listen({ hostname: o.hostname, port: o.port ?? 0 });
  const capture: Capture = { up: [], down: [] };
  const open = new Set<Deno.Conn>();
  const pumps: Promise<void>[] = [];
  const r: Relay = {
    port: (listener.addr as Deno.NetAddr).port,
    capture,
    connections: 0,
    close: async () => {
      listener.close();
      for (const c of open) closeQuietly(c);
      await Promise.allSettled(pumps);
    },
  };
  (async () => {
    for await (const inbound of listener) {
      r.connections++;
      open.add(inbound);
      pumps.push((async () => {
        let outbound: Deno.Conn;
        try {
          outbound = await Deno.connect({ hostname: o.target.hostname, port: o.target.port });
        } catch {
          return closeQuietly(inbound);
        }
        open.add(outbound);
        await Promise.allSettled([
          pump(inbound, outbound, capture.up, o.tamperUp),
          pump(outbound, inbound, capture.down),
        ]);
      })());
    }
  })().catch(() => {});
  return r;
}

async function pump(
  from: Deno.Conn,
  to: Deno.Conn,
  log: Uint8Array[],
  tamper?: (piece: Uint8Array, offset: number) => void,
): Promise<void> {
  const buf = new Uint8Array(64 << 10);
  let offset = 0;
  try {
    for (;;) {
      const n = await from.read(buf);
      if (n === null) break;
      const piece = buf.slice(0, n);
      tamper?.(piece, offset);
      offset += n;
      log.push(piece);
      let at = 0;
      while (at < piece.length) at += await to.write(piece.subarray(at));
    }
  } catch {
    // either side went away
  } finally {
    closeQuietly(from);
    closeQuietly(to);
  }
}

function closeQuietly(c: Deno.Conn): void {
  try {
    c.close();
  } catch {
    // closed already
  }
}

/** All pieces as one array. */
export function joined(pieces: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(pieces.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of pieces) out.set(p, at), at += p.length;
  return out;
}

/** True when `needle` occurs in `haystack`. */
export function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  if (needle.length === 0) return true;
  const first = needle[0]!;
  outer: for (
    let i = haystack.indexOf(first);
    i !== -1 && i <= haystack.length - needle.length;
    i = haystack.indexOf(first, i + 1)
  ) {
    for (let k = 1; k < needle.length; k++) if (haystack[i + k] !== needle[k]) continue outer;
    return true;
  }
  return false;
}

/**
 * Sends raw bytes to `hostname`:`port` (then, with `end`, closes the sending side) and resolves with all it
 * answers before it closes the connection (or `ms` pass).
 */
export async function rawExchange(
  hostname: string,
  port: number,
  bytes: Uint8Array,
  o: { end?: boolean; ms?: number } = {},
): Promise<Uint8Array> {
  const conn = await Deno.connect({ hostname, port });
  const out: Uint8Array[] = [];
  const timer = setTimeout(() => closeQuietly(conn), o.ms ?? 10_000);
  try {
    await conn.write(bytes);
    if (o.end) await conn.closeWrite();
    const buf = new Uint8Array(4096);
    for (let n = await conn.read(buf); n !== null; n = await conn.read(buf)) out.push(buf.slice(0, n));
  } catch {
    // closed by the peer, or by the deadline
  } finally {
    clearTimeout(timer);
    closeQuietly(conn);
  }
  return joined(out);
}
