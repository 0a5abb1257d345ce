import { type CipherState, NOISE_MAX_MESSAGE, NoiseError, TAG_BYTES } from "./noise.ts";
import type { ByteSource } from "./frame.ts";
import { ProtocolError } from "./messages.ts";

/** Plaintext bytes per transport message at most. */
const MAX_PLAINTEXT = NOISE_MAX_MESSAGE - TAG_BYTES;
/** Bytes gathered before a write to the socket. */
const WRITE_BATCH = 256 << 10;
const NO_AD = new Uint8Array(0);

/** What a channel reads and writes: a Deno.Conn, or anything with its read, write and close. */
export interface Socket {
  /** Reads into `p`; the count read, or null at the end. */
  read(p: Uint8Array): Promise<number | null>;
  /** Writes some of `p`; the count written. */
  write(p: Uint8Array): Promise<number>;
  /** Closes it. */
  close(): void;
}

/** Bytes a reader buffers before its handshake is done: nothing unauthenticated may cost more memory. */
const HANDSHAKE_BUFFER = 1024;
/**
 * Bytes of each side's first transport message at most: until it decrypts, the peer may be replaying a
 * captured handshake, and nothing unproven may cost more than this.
 */
const FIRST_MESSAGE_BYTES = 16 << 10;
/** Bytes it buffers once the link is sealed. */
const TRANSPORT_BUFFER = 256 << 10;

/** Buffered reads of whole pieces (preamble fields, Noise messages) from a socket. */
export class WireReader {
  #socket: Socket;
  #buf = new Uint8Array(HANDSHAKE_BUFFER);
  #start = 0;
  #end = 0;
  /** Bytes read from the socket. */
  bytesRead = 0;

  /** Reads from `socket`. */
  constructor(socket: Socket) {
    this.#socket = socket;
  }

  /**
   * The next `n` bytes (a view valid until the next call), or null when the stream ended before any of them.
   * @throws {ProtocolError} when it ended after some of them
   */
  async take(n: number, what: string): Promise<Uint8Array | null> {
    if (this.#end - this.#start < n) {
      if (this.#buf.length - this.#start < n) {
        const buf = n > this.#buf.length ? new Uint8Array(n) : this.#buf;
        buf.set(this.#buf.subarray(this.#start, this.#end));
        this.#end -= this.#start;
        this.#start = 0;
        this.#buf = buf;
      }
      while (this.#end - this.#start < n) {
        const k = await this.#socket.read(this.#buf.subarray(this.#end));
        if (k === null) {
          if (this.#end === this.#start) return null;
          throw new ProtocolError(`the stream ended inside ${what}`);
        }
        this.#end += k;
        this.bytesRead += k;
      }
    }
    const out = this.#buf.subarray(this.#start, this.#start + n);
    this.#start += n;
    return out;
  }

  /** Grows the buffer to `bytes` (once the handshake has authenticated the peer). */
  reserve(bytes: number): void {
    if (this.#buf.length >= bytes) return;
    const buf = new Uint8Array(bytes);
    buf.set(this.#buf.subarray(this.#start, this.#end));
    this.#end -= this.#start;
    this.#start = 0;
    this.#buf = buf;
  }

  /**
   * The next Noise message (2-byte big-endian length, then the message), or null at a clean end.
   * @throws {ProtocolError} for a length over `max`, before anything of the message is read
   */
  async message(what: string, max = NOISE_MAX_MESSAGE): Promise<Uint8Array | null> {
    const head = await this.take(2, what);
    if (!head) return null;
    const length = (head[0]! << 8) | head[1]!;
    if (length > max) {
      throw new ProtocolError(`${what}: a message of ${length} bytes is over the ${max}-byte limit`);
    }
    if (length === 0) return new Uint8Array(0);
    const body = await this.take(length, what);
    if (!body) throw new ProtocolError(`the stream ended inside ${what}`);
    return body;
  }
}

/** Writes every byte of `bytes`. */
export async function writeAll(socket: Socket, bytes: Uint8Array): Promise<void> {
  let at = 0;
  while (at < bytes.length) at += await socket.write(bytes.subarray(at));
}

/** `message` with its 2-byte big-endian length in front. */
export function lengthPrefixed(message: Uint8Array): Uint8Array {
  const out = new Uint8Array(2 + message.length);
  out[0] = message.length >> 8;
  out[1] = message.length & 0xff;
  out.set(message, 2);
  return out;
}

/**
 * A sealed link after its handshake: what is written is cut into Noise transport messages of at most 65535
 * bytes, each encrypted and authenticated; what is read is a plaintext byte stream (a {@linkcode ByteSource}
 * for frames). A message that fails to decrypt (altered, replayed, reordered, another key) is an error that
 * ends the link.
 */
export class SecureChannel implements ByteSource {
  #socket: Socket;
  #wire: WireReader;
  #tx: CipherState;
  #rx: CipherState;
  #plain: Uint8Array = new Uint8Array(0);
  #sent = 0;
  /** Where sealed messages gather before a write (a batch, and room for one more message), once writing. */
  #out?: Uint8Array;

  /** Wraps a socket whose handshake gave `tx` and `rx`; `wire` holds what was read past the handshake. */
  constructor(socket: Socket, wire: WireReader, tx: CipherState, rx: CipherState, sentDuringHandshake = 0) {
    this.#socket = socket;
    this.#wire = wire;
    this.#tx = tx;
    this.#rx = rx;
    this.#sent = sentDuringHandshake;
  }

  /** Bytes written to the socket (handshake and Noise overhead included). */
  get bytesSent(): number {
    return this.#sent;
  }

  /** Bytes read from the socket (handshake and Noise overhead included). */
  get bytesReceived(): number {
    return this.#wire.bytesRead;
  }

  /** Reads decrypted bytes into `p`; null at a clean end of the stream. */
  async read(p: Uint8Array): Promise<number | null> {
    while (this.#plain.length === 0) {
      const max = this.#rx.nonce === 0n ? FIRST_MESSAGE_BYTES : NOISE_MAX_MESSAGE;
      const message = await this.#wire.message("a transport message", max);
      if (!message) return null;
      try {
        this.#plain = this.#rx.decryptWithAd(NO_AD, message);
        // the peer is proven now (a replayed handshake gets no further): reads may use a bigger buffer
        if (this.#rx.nonce === 1n) this.#wire.reserve(TRANSPORT_BUFFER);
      } catch (error: unknown) {
        if (error instanceof NoiseError) {
          throw new ProtocolError(`a message failed to decrypt (altered, replayed or another key)`, {
            cause: error,
          });
        }
        throw error;
      }
    }
    const n = Math.min(p.length, this.#plain.length);
    p.set(this.#plain.subarray(0, n));
    this.#plain = this.#plain.subarray(n);
    return n;
  }

  /**
   * Encrypts the concatenation of `parts` into transport messages and writes them, gathered into writes of
   * about 256 KiB. Calls must not overlap (the nonces are sequential, the write buffer is reused): the
   * caller serialises its writes.
   */
  async write(parts: readonly Uint8Array[]): Promise<void> {
    // the buffer grows to what the writes need: small for control links, a batch and a message at most
    const cap = WRITE_BATCH + 2 + NOISE_MAX_MESSAGE;
    const total = parts.reduce((n, p) => n + p.length, 0);
    const need = Math.min(cap, total + (2 + TAG_BYTES) * (Math.ceil(total / MAX_PLAINTEXT) + 1));
    if (!this.#out || this.#out.length < need) {
      this.#out = new Uint8Array(Math.min(cap, Math.max(need, 2 * (this.#out?.length ?? 0))));
    }
    const out = this.#out;
    let used = 0;
    let pieces: Uint8Array[] = [];
    let pieceBytes = 0;
    const seal = () => {
      const length = pieceBytes + TAG_BYTES;
      out[used] = length >> 8;
      out[used + 1] = length & 0xff;
      used += 2;
      for (const sealed of this.#tx.encryptParts(NO_AD, pieces)) out.set(sealed, used), used += sealed.length;
      pieces = [];
      pieceBytes = 0;
    };
    const flush = async () => {
      await writeAll(this.#socket, out.subarray(0, used));
      this.#sent += used;
      used = 0;
    };
    // the first message is kept small (see FIRST_MESSAGE_BYTES); the others are as long as Noise allows
    const limit = () => this.#tx.nonce === 0n ? FIRST_MESSAGE_BYTES - TAG_BYTES : MAX_PLAINTEXT;
    for (const part of parts) {
      for (let at = 0; at < part.length;) {
        const n = Math.min(part.length - at, limit() - pieceBytes);
        pieces.push(part.subarray(at, at + n));
        pieceBytes += n;
        at += n;
        if (pieceBytes === limit()) {
          seal();
          if (used >= WRITE_BATCH) await flush();
        }
      }
    }
    if (pieceBytes > 0) seal();
    if (used > 0) await flush();
  }

  /** Closes the socket (idempotent). */
  close(): void {
    try {
      this.#socket.close();
    } catch {
      // already closed
    }
  }
}
