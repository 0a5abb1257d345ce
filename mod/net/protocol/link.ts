import { getLogger } from "@logtape/logtape";
import { HANDSHAKE_TIMEOUT_MS, HEARTBEAT_SECONDS } from "../defaults.ts";
import type { SecureChannel, Socket } from "./channel.ts";
import { type Frame, frameHeader, FrameReader, type SectionSink } from "./frame.ts";
import { type HandshakeOptions, initiate, respond } from "./handshake.ts";
import {
  type Bodies,
  CODECS,
  type Message,
  type MessageType,
  parseSectionHead,
  ProtocolError,
} from "./messages.ts";
import type { Service } from "./preamble.ts";

const log = getLogger(["octane", "net"]);

/** Options of {@linkcode Link.connect}. */
export interface ConnectOptions {
  /** The service asked for. */
  service: Service;
  /** The farm key; none: encrypted but unauthenticated. */
  key?: Uint8Array;
  /** Milliseconds for the TCP connection and for the handshake, each (default HANDSHAKE_TIMEOUT_MS). */
  timeoutMs?: number;
}

/** Options of {@linkcode Link.accept}. */
export interface AcceptOptions {
  /** The services this side offers, the main one first. */
  services: readonly Service[];
  /** The farm key; none: encrypted but unauthenticated. */
  key?: Uint8Array;
  /** Milliseconds for the handshake (default HANDSHAKE_TIMEOUT_MS). */
  timeoutMs?: number;
}

function label(addr: Deno.Addr): string {
  const a = addr as Deno.NetAddr;
  return a.hostname.includes(":") ? `[${a.hostname}]:${a.port}` : `${a.hostname}:${a.port}`;
}

/**
 * One end of a sealed octane link: typed sends (serialised, never interleaved) and receives of one service's
 * messages, heartbeats, byte counts. Every byte after the handshake is encrypted and authenticated.
 */
export class Link {
  /** Who is at the other end: "host:port". */
  readonly label: string;
  /** The service this link carries. */
  readonly service: Service;
  /** The peer's address, without the port. */
  readonly peerHost: string;
  /** This side's address on the link (a master tells daemons where its slaves join). */
  readonly localAddress: string;
  #socket: Socket;
  #channel: SecureChannel;
  #reader: FrameReader;
  #writes: Promise<void> = Promise.resolve();
  #closed = false;
  #bye = false;
  #lastHeard = performance.now();
  #heartbeat?: ReturnType<typeof setInterval>;

  private constructor(
    conn: Deno.Conn,
    established: { channel: SecureChannel; service: Service; release: string },
  ) {
    this.#socket = conn;
    this.label = label(conn.remoteAddr);
    this.localAddress = (conn.localAddr as Deno.NetAddr).hostname;
    this.service = established.service;
    this.peerHost = (conn.remoteAddr as Deno.NetAddr).hostname;
    this.#channel = established.channel;
    this.#reader = new FrameReader(established.channel, established.service);
  }

  /**
   * Connects to `host`:`port` and runs the initiator's handshake for `o.service`.
   * @throws {Deno.errors.ConnectionRefused} and other connection errors; {@linkcode HandshakeError} when
   * the handshake fails (another version, service or key)
   */
  static async connect(host: string, port: number, o: ConnectOptions): Promise<Link> {
    const ms = o.timeoutMs ?? HANDSHAKE_TIMEOUT_MS;
    const conn = await Deno.connect({
      hostname: host,
      port,
      transport: "tcp",
      signal: AbortSignal.timeout(ms),
    });
    return await Link.#establish(conn, (options) => initiate(conn, o.service, options), o.key, ms);
  }

  /**
   * Runs the responder's handshake on an accepted connection.
   * @throws {HandshakeError} with the line to log
   */
  static async accept(conn: Deno.Conn, o: AcceptOptions): Promise<Link> {
    const ms = o.timeoutMs ?? HANDSHAKE_TIMEOUT_MS;
    return await Link.#establish(conn, (options) => respond(conn, o.services, options), o.key, ms);
  }

  static async #establish(
    conn: Deno.Conn,
    run: (o: HandshakeOptions) => ReturnType<typeof initiate>,
    key: Uint8Array | undefined,
    timeoutMs: number,
  ): Promise<Link> {
    try {
      const established = await run({ timeoutMs, peer: label(conn.remoteAddr), ...(key ? { key } : {}) });
      return new Link(conn, established);
    } catch (error: unknown) {
      try {
        conn.close();
      } catch {
        // closed by the handshake's deadline
      }
      throw error;
    }
  }

  /** Where section chunks land without a copy (see {@linkcode SectionSink}). */
  set sink(sink: SectionSink | undefined) {
    this.#reader.sink = sink;
  }

  /** Bytes sent on the wire (handshake, headers and Noise overhead included). */
  get bytesSent(): number {
    return this.#channel.bytesSent;
  }

  /** Bytes received on the wire. */
  get bytesReceived(): number {
    return this.#channel.bytesReceived;
  }

  /** Seconds since the last message arrived. */
  get silentSeconds(): number {
    return (performance.now() - this.#lastHeard) / 1000;
  }

  /** True once closed by either side. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Sends a message; resolves when it is written (or at once when the link is closed); rejects when the
   * socket fails.
   */
  send<K extends MessageType>(type: K, body: Bodies[K]): Promise<void> {
    const { parts, flags } = CODECS[type].encode(body);
    const length = parts.reduce((n, p) => n + p.length, 0);
    const header = frameHeader(type, { length, flags: flags ?? 0 });
    this.#writes = this.#writes.then(async () => {
      if (this.#closed) return;
      await this.#channel.write([header, ...parts]);
    });
    return this.#writes;
  }

  /**
   * The next message (heartbeats are consumed here), its body checked; null at a clean end of stream.
   * `allowed` names the only types this state accepts: another is refused before its payload is read.
   * @throws {ProtocolError} for malformed, unexpected or undecryptable data, or anything after `bye`
   */
  async receive(allowed?: readonly MessageType[]): Promise<Message | null> {
    for (;;) {
      const frame = await this.#reader.next(allowed);
      this.#lastHeard = performance.now();
      if (!frame) return null;
      if (this.#bye) throw new ProtocolError(`a ${frame.type} message after bye`);
      if (frame.type === "heartbeat") continue;
      const message = decode(frame);
      if (message.type === "bye") this.#bye = true;
      return message;
    }
  }

  /** Sends a heartbeat every HEARTBEAT_SECONDS until closed (calling it again changes nothing). */
  startHeartbeats(): void {
    if (this.#heartbeat !== undefined || this.#closed) return;
    this.#heartbeat = setInterval(() => {
      this.send("heartbeat", {}).catch(() => this.close());
    }, HEARTBEAT_SECONDS * 1000);
  }

  /** Closes the link (idempotent); a reason is logged. */
  close(reason?: string): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#heartbeat);
    if (reason) log.info("Closed connection with {peer}: {reason}", { peer: this.label, reason });
    this.#channel.close();
  }
}

function decode(frame: Frame): Message {
  if (frame.type === "section" && frame.direct) {
    return {
      type: "section",
      body: { ...parseSectionHead(frame.payload), bytes: frame.direct, direct: true },
    };
  }
  const body = CODECS[frame.type].decode(frame.payload, frame.flags);
  return { type: frame.type, body } as Message;
}
