import { getLogger } from "@logtape/logtape";
import { PROTOCOL_VERSION } from "../../version.ts";
import { jsonPayload } from "./codec.ts";
import {
  type DirectSink,
  type Frame,
  frameHeader,
  FrameReader,
  HEADER_BYTES,
  type MessageName,
} from "./frame.ts";

const log = getLogger(["octane", "net"]);

function concat(parts: Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) out.set(p, at), at += p.length;
  return out;
}

/** Seconds between heartbeats. */
export const HEARTBEAT_SECONDS = 1;

/**
 * One end of an octane connection: framed sends (serialised, never interleaved), framed receives,
 * heartbeats and byte counts.
 */
export class Peer {
  /** Who is at the other end, for messages: "host:port". */
  readonly label: string;
  #conn: Deno.Conn;
  #reader: FrameReader;
  #writes: Promise<void> = Promise.resolve();
  #sent = 0;
  #closed = false;
  #lastHeard = performance.now();
  #heartbeat?: ReturnType<typeof setInterval>;

  /** Wraps a connected socket. */
  constructor(conn: Deno.Conn) {
    this.#conn = conn;
    const addr = conn.remoteAddr as Deno.NetAddr;
    this.label = `${addr.hostname}:${addr.port}`;
    this.#reader = new FrameReader(conn);
  }

  /** Reads payloads of one message type straight into buffers the sink names (see DirectSink). */
  set sink(sink: DirectSink | undefined) {
    this.#reader.sink = sink;
  }

  /** Bytes sent, headers included. */
  get bytesSent(): number {
    return this.#sent;
  }

  /** Bytes received, headers included. */
  get bytesReceived(): number {
    return this.#reader.bytesRead;
  }

  /** Seconds since the last frame arrived. */
  get silentSeconds(): number {
    return (performance.now() - this.#lastHeard) / 1000;
  }

  /** True once closed by either side. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Sends a message: an object as JSON, raw bytes, or raw bytes in parts (written one after another, not
   * copied together). Resolves when written; rejects if the socket fails.
   */
  send(
    type: MessageName,
    payload: Uint8Array | Uint8Array[] | object,
    flags = 0,
    version = PROTOCOL_VERSION,
  ): Promise<void> {
    const parts = Array.isArray(payload)
      ? payload
      : [payload instanceof Uint8Array ? payload : jsonPayload(payload)];
    const length = parts.reduce((n, p) => n + p.length, 0);
    const header = frameHeader(version, type, length, flags);
    // small frames go out in one write; big ones without copying their payload
    const writes = length <= 65536 ? [concat([header, ...parts], HEADER_BYTES + length)] : [header, ...parts];
    this.#writes = this.#writes.then(async () => {
      if (this.#closed) return;
      for (const w of writes) {
        let at = 0;
        while (at < w.length) at += await this.#conn.write(w.subarray(at));
      }
      this.#sent += HEADER_BYTES + length;
    });
    return this.#writes;
  }

  /** The next frame (heartbeats are consumed here), or null at a clean end of stream. */
  async receive(): Promise<Frame | null> {
    for (;;) {
      const frame = await this.#reader.next();
      this.#lastHeard = performance.now();
      if (frame?.type !== "heartbeat") return frame;
    }
  }

  /** Sends a heartbeat every HEARTBEAT_SECONDS until closed. */
  startHeartbeats(): void {
    this.#heartbeat = setInterval(() => {
      this.send("heartbeat", new Uint8Array(0)).catch(() => this.close());
    }, HEARTBEAT_SECONDS * 1000);
  }

  /** Closes the connection (idempotent). */
  close(reason?: string): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#heartbeat);
    if (reason) log.info("Closed connection with {peer}: {reason}", { peer: this.label, reason });
    try {
      this.#conn.close();
    } catch {
      // already closed by the other side
    }
  }
}
