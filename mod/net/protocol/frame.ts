/** First four bytes of every frame: "OCTN". */
export const FRAME_MAGIC = new Uint8Array([0x4f, 0x43, 0x54, 0x4e]);
/** Bytes of the fixed frame header: magic, protocol version u16, type u16, flags u32, payload length u32. */
export const HEADER_BYTES = 16;
/** Largest payload accepted; a longer declared length closes the connection. */
export const MAX_PAYLOAD_BYTES = 64 << 20;
/** Flag: the payload is zstd-compressed. */
export const FLAG_COMPRESSED = 1;

/** Message types. */
export const MSG = {
  hello: 1,
  challenge: 2,
  auth: 3,
  welcome: 4,
  refuse: 5,
  scene: 6,
  need: 7,
  section: 8,
  ready: 9,
  work: 10,
  result: 11,
  return: 12,
  heartbeat: 13,
  bye: 14,
  // daemon protocol: a master probes a daemon, asks it to start or stop a slave; the daemon answers status
  probe: 15,
  status: 16,
  start: 17,
  stop: 18,
} as const;
/** A message type's name. */
export type MessageName = keyof typeof MSG;
const NAMES = Object.fromEntries(Object.entries(MSG).map(([k, v]) => [v, k])) as Record<number, MessageName>;

/** Malformed wire data: the connection it came on is closed with this reason; nothing else is harmed. */
export class ProtocolError extends SyntaxError {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ProtocolError";
  }
}

/** One frame off the wire. */
export interface Frame {
  /** Protocol version of the sender. */
  version: number;
  /** Message type name. */
  type: MessageName;
  /** Flags (FLAG_COMPRESSED). */
  flags: number;
  /** The payload bytes (with a direct sink: only the head). */
  payload: Uint8Array;
  /** Bytes after the head that went straight into the sink's buffer. */
  directBytes?: number;
}

/**
 * Lets one message type's payload land where it belongs without a copy: after its fixed-size head is
 * read, `target` names the buffer for the rest (or undefined to receive it normally).
 */
export interface DirectSink {
  /** The message type. */
  type: MessageName;
  /** Bytes of its head. */
  headBytes: number;
  /** The buffer of exactly `rest` bytes to read the rest into, or undefined. */
  target(head: Uint8Array, rest: number): Uint8Array | undefined;
}

/** Encodes a frame header for a payload of `length` bytes, little-endian. */
export function frameHeader(version: number, type: MessageName, length: number, flags = 0): Uint8Array {
  if (length > MAX_PAYLOAD_BYTES) {
    throw new RangeError(`Cannot send ${type}: ${length} bytes is over ${MAX_PAYLOAD_BYTES}`);
  }
  const out = new Uint8Array(HEADER_BYTES);
  const v = new DataView(out.buffer);
  out.set(FRAME_MAGIC, 0);
  v.setUint16(4, version, true);
  v.setUint16(6, MSG[type], true);
  v.setUint32(8, flags, true);
  v.setUint32(12, length, true);
  return out;
}

/** Encodes a whole frame, little-endian. */
export function encodeFrame(version: number, type: MessageName, payload: Uint8Array, flags = 0): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES + payload.length);
  out.set(frameHeader(version, type, payload.length, flags));
  out.set(payload, HEADER_BYTES);
  return out;
}

/** Where frames are read from: a Deno.Conn, or {@linkcode streamSource} over a stream. */
export interface ByteSource {
  /** Reads into `p`; the count read, or null at the end. */
  read(p: Uint8Array): Promise<number | null>;
}

/** Adapts a ReadableStream to a ByteSource (for tests and pipes). */
export function streamSource(stream: ReadableStream<Uint8Array>): ByteSource {
  const reader = stream.getReader();
  let rest: Uint8Array = new Uint8Array(0);
  return {
    async read(p: Uint8Array): Promise<number | null> {
      if (rest.length === 0) {
        const { value, done } = await reader.read();
        if (done) return null;
        rest = value;
      }
      const n = Math.min(p.length, rest.length);
      p.set(rest.subarray(0, n));
      rest = rest.subarray(n);
      return n;
    },
  };
}

/**
 * Reads frames from a byte source: the header first, then the payload straight into its own buffer (no
 * byte is copied twice). Wrong magic, an unknown type or a declared length over the limit is a
 * {@linkcode ProtocolError}; a source that ends mid-frame too.
 */
export class FrameReader {
  #source: ByteSource;
  #bytes = 0;
  /** Where payloads of one type go directly (see {@linkcode DirectSink}). */
  sink?: DirectSink;

  /** Reads from `source`. */
  constructor(source: ByteSource) {
    this.#source = source;
  }

  /** Bytes read so far. */
  get bytesRead(): number {
    return this.#bytes;
  }

  /** Fills `buf` from the source; returns how many bytes it got before the end. */
  async #readFull(buf: Uint8Array): Promise<number> {
    let at = 0;
    while (at < buf.length) {
      const n = await this.#source.read(buf.subarray(at));
      if (n === null) break;
      at += n;
      this.#bytes += n;
    }
    return at;
  }

  /** The next frame, or null when the source ended cleanly between frames. */
  async next(): Promise<Frame | null> {
    const h = new Uint8Array(HEADER_BYTES);
    const got = await this.#readFull(h);
    if (got === 0) return null;
    if (got < HEADER_BYTES) throw new ProtocolError(`the stream ended inside a frame header (${got} bytes)`);
    if (!FRAME_MAGIC.every((b, i) => h[i] === b)) throw new ProtocolError("wrong magic: not an octane peer");
    const v = new DataView(h.buffer);
    const version = v.getUint16(4, true),
      code = v.getUint16(6, true),
      flags = v.getUint32(8, true),
      length = v.getUint32(12, true);
    const type = NAMES[code];
    if (!type) throw new ProtocolError(`unknown message type ${code}`);
    if (length > MAX_PAYLOAD_BYTES) {
      throw new ProtocolError(`frame of ${length} bytes is over the ${MAX_PAYLOAD_BYTES}-byte limit`);
    }
    const truncated = () => new ProtocolError(`the stream ended inside a ${type} frame`);
    const sink = this.sink;
    if (sink && sink.type === type && length >= sink.headBytes) {
      const head = new Uint8Array(sink.headBytes);
      if ((await this.#readFull(head)) < head.length) throw truncated();
      const dest = sink.target(head, length - head.length);
      if (dest && dest.length === length - head.length) {
        if ((await this.#readFull(dest)) < dest.length) throw truncated();
        return { version, type, flags, payload: head, directBytes: dest.length };
      }
      const payload = new Uint8Array(length);
      payload.set(head);
      if ((await this.#readFull(payload.subarray(head.length))) < length - head.length) throw truncated();
      return { version, type, flags, payload };
    }
    const payload = new Uint8Array(length);
    if ((await this.#readFull(payload)) < length) throw truncated();
    return { version, type, flags, payload };
  }
}
