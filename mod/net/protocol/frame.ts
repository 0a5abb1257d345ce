import { CODECS, type MessageType, ProtocolError, SECTION_HEAD_BYTES, typeOfCode } from "./messages.ts";
import type { Service } from "./preamble.ts";

/**
 * Application frames, inside a link's decrypted byte stream: an 8-byte little-endian header (type u16,
 * flags u16, payload length u32), then the payload. A frame may span many Noise transport messages.
 */

/** Bytes of a frame header. */
export const FRAME_HEADER_BYTES = 8;

/** One frame off the stream. */
export interface Frame {
  /** Message type. */
  type: MessageType;
  /** Flags (FLAG_COMPRESSED). */
  flags: number;
  /** The payload (for a chunk read through the section sink: only its head). */
  payload: Uint8Array;
  /** For a section chunk read through the sink: the view of the buffer its bytes landed in. */
  direct?: Uint8Array;
}

/** Where a stream's bytes come from: a secure channel's plaintext, or a test's byte stream. */
export interface ByteSource {
  /** Reads into `p`; the count read, or null at the end. */
  read(p: Uint8Array): Promise<number | null>;
}

/**
 * Names the buffer the rest of a section chunk lands in, after its head is read, so that render data is
 * not copied again; undefined to receive it as usual.
 */
export type SectionSink = (head: Uint8Array, rest: number) => Uint8Array | undefined;

/** Encodes a frame header for a payload of `o.length` bytes with `o.flags` (0). */
export function frameHeader(type: MessageType, o: { length: number; flags?: number }): Uint8Array {
  const { length, flags = 0 } = o;
  if (length > CODECS[type].maxBytes) {
    throw new RangeError(
      `Cannot send ${type}: ${length} bytes is over its ${CODECS[type].maxBytes}-byte limit`,
    );
  }
  const out = new Uint8Array(FRAME_HEADER_BYTES);
  const v = new DataView(out.buffer);
  v.setUint16(0, CODECS[type].code, true);
  v.setUint16(2, flags, true);
  v.setUint32(4, length, true);
  return out;
}

/** Adapts a ReadableStream to a ByteSource (tests). */
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
 * Reads frames of one service's vocabulary: an unknown type, a type of another service or a length over the
 * type's limit is a {@linkcode ProtocolError} before any payload is read; a stream that ends mid-frame too.
 */
export class FrameReader {
  #source: ByteSource;
  #service: Service;
  /** Where section chunks land (see {@linkcode SectionSink}). */
  sink?: SectionSink;

  /** Reads frames of `service` from `source`. */
  constructor(source: ByteSource, service: Service) {
    this.#source = source;
    this.#service = service;
  }

  /** Fills `buf`; returns how many bytes it got before the end. */
  async #readFull(buf: Uint8Array): Promise<number> {
    let at = 0;
    while (at < buf.length) {
      const n = await this.#source.read(buf.subarray(at));
      if (n === null) break;
      at += n;
    }
    return at;
  }

  /**
   * The next frame, or null when the stream ended cleanly between frames. With `allowed`, any other type
   * (heartbeats aside) is refused from its header, before its payload is read.
   */
  async next(allowed?: readonly MessageType[]): Promise<Frame | null> {
    const h = new Uint8Array(FRAME_HEADER_BYTES);
    const got = await this.#readFull(h);
    if (got === 0) return null;
    if (got < FRAME_HEADER_BYTES) {
      throw new ProtocolError(`the stream ended inside a frame header (${got} bytes)`);
    }
    const v = new DataView(h.buffer);
    const code = v.getUint16(0, true), flags = v.getUint16(2, true), length = v.getUint32(4, true);
    const type = typeOfCode(code);
    if (!type) throw new ProtocolError(`unknown message type ${code}`);
    const codec = CODECS[type];
    if (!codec.services.includes(this.#service)) {
      throw new ProtocolError(`a ${type} message does not belong on a ${this.#service} link`);
    }
    if (allowed && type !== "heartbeat" && !allowed.includes(type)) {
      throw new ProtocolError(`expected ${allowed.join(" or ")}, got ${type}`);
    }
    if (length > codec.maxBytes) {
      throw new ProtocolError(
        `a ${type} message of ${length} bytes is over its ${codec.maxBytes}-byte limit`,
      );
    }
    const truncated = () => new ProtocolError(`the stream ended inside a ${type} frame`);
    if (type === "section" && this.sink && length >= SECTION_HEAD_BYTES) {
      const head = new Uint8Array(SECTION_HEAD_BYTES);
      if ((await this.#readFull(head)) < head.length) throw truncated();
      const rest = length - SECTION_HEAD_BYTES;
      const dest = this.sink(head, rest);
      if (dest && dest.length === rest) {
        if ((await this.#readFull(dest)) < rest) throw truncated();
        return { type, flags, payload: head, direct: dest };
      }
      const payload = new Uint8Array(length);
      payload.set(head);
      if ((await this.#readFull(payload.subarray(SECTION_HEAD_BYTES))) < rest) throw truncated();
      return { type, flags, payload };
    }
    const payload = new Uint8Array(length);
    if ((await this.#readFull(payload)) < length) throw truncated();
    return { type, flags, payload };
  }
}
