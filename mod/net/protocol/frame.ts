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
  /** The payload bytes. */
  payload: Uint8Array;
}

/** Encodes a frame, little-endian. */
export function encodeFrame(version: number, type: MessageName, payload: Uint8Array, flags = 0): Uint8Array {
  if (payload.length > MAX_PAYLOAD_BYTES) {
    throw new RangeError(`Cannot send ${type}: ${payload.length} bytes is over ${MAX_PAYLOAD_BYTES}`);
  }
  const out = new Uint8Array(HEADER_BYTES + payload.length);
  const v = new DataView(out.buffer);
  out.set(FRAME_MAGIC, 0);
  v.setUint16(4, version, true);
  v.setUint16(6, MSG[type], true);
  v.setUint32(8, flags, true);
  v.setUint32(12, payload.length, true);
  out.set(payload, HEADER_BYTES);
  return out;
}

/**
 * Reads frames from a byte stream. Wrong magic, an unknown type or a declared length over the limit is a
 * {@linkcode ProtocolError}; a stream that ends mid-frame too.
 */
export class FrameReader {
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #buffer = new Uint8Array(0);
  #bytes = 0;

  /** Reads from `stream`. */
  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.getReader();
  }

  /** Bytes read so far. */
  get bytesRead(): number {
    return this.#bytes;
  }

  async #fill(n: number): Promise<boolean> {
    while (this.#buffer.length < n) {
      const { value, done } = await this.#reader.read();
      if (done) return false;
      this.#bytes += value.length;
      const joined = new Uint8Array(this.#buffer.length + value.length);
      joined.set(this.#buffer);
      joined.set(value, this.#buffer.length);
      this.#buffer = joined;
    }
    return true;
  }

  /** The next frame, or null when the stream ended cleanly between frames. */
  async next(): Promise<Frame | null> {
    if (!(await this.#fill(HEADER_BYTES))) {
      if (this.#buffer.length === 0) return null;
      throw new ProtocolError(`the stream ended inside a frame header (${this.#buffer.length} bytes)`);
    }
    const h = this.#buffer;
    if (!FRAME_MAGIC.every((b, i) => h[i] === b)) throw new ProtocolError("wrong magic: not an octane peer");
    const v = new DataView(h.buffer, h.byteOffset, HEADER_BYTES);
    const version = v.getUint16(4, true),
      code = v.getUint16(6, true),
      flags = v.getUint32(8, true),
      length = v.getUint32(12, true);
    const type = NAMES[code];
    if (!type) throw new ProtocolError(`unknown message type ${code}`);
    if (length > MAX_PAYLOAD_BYTES) {
      throw new ProtocolError(`frame of ${length} bytes is over the ${MAX_PAYLOAD_BYTES}-byte limit`);
    }
    if (!(await this.#fill(HEADER_BYTES + length))) {
      throw new ProtocolError(`the stream ended inside a ${type} frame`);
    }
    const payload = this.#buffer.slice(HEADER_BYTES, HEADER_BYTES + length);
    this.#buffer = this.#buffer.slice(HEADER_BYTES + length);
    return { version, type, flags, payload };
  }

  /** Stops reading. */
  cancel(): void {
    this.#reader.cancel().catch(() => {});
  }
}
