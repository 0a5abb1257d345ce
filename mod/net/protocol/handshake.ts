import { concatBytes } from "../../bytes.ts";
import { lengthPrefixed, SecureChannel, type Socket, WireReader, writeAll } from "./channel.ts";
import { ProtocolError } from "./messages.ts";
import { HandshakeState, NOISE_NN, NOISE_PSK, NoiseError } from "./noise.ts";
import {
  describeMismatch,
  type Mismatch,
  mismatch,
  NotOctaneError,
  parsePreamble,
  type Preamble,
  preamble,
  PREAMBLE_FIXED_BYTES,
  releaseLength,
  ROLES,
  type Service,
} from "./preamble.ts";

/** Bytes of a handshake message at most (octane's carry no payload: 32 or 48 bytes). */
const HANDSHAKE_MESSAGE_MAX = 256;

/** Why a handshake failed. */
export type HandshakeFailure = Mismatch | "key" | "not-octane" | "closed" | "timeout" | "malformed";

/** A link could not be established; the message is the one line to show (or log) on this side. */
export class HandshakeError extends Error {
  /** What went wrong. */
  readonly kind: HandshakeFailure;
  /** The peer's preamble, when it sent one (its release and protocol). */
  readonly theirs?: Preamble;

  /** Creates the error. */
  constructor(kind: HandshakeFailure, message: string, o: { theirs?: Preamble; cause?: unknown } = {}) {
    super(message, o.cause === undefined ? undefined : { cause: o.cause });
    this.name = "HandshakeError";
    this.kind = kind;
    if (o.theirs) this.theirs = o.theirs;
  }
}

/** Options of {@linkcode initiate} and {@linkcode respond}. */
export interface HandshakeOptions {
  /** The farm key; none: Noise_NN (encrypted, not authenticated). */
  key?: Uint8Array;
  /** Milliseconds for the whole exchange. */
  timeoutMs: number;
  /** Who is at the other end ("127.0.0.1:21000"), for messages. */
  peer: string;
  /** The release this side announces (default: this octane's). */
  release?: string;
}

/** A completed handshake. */
export interface Established {
  /** The sealed channel. */
  channel: SecureChannel;
  /** The service agreed on. */
  service: Service;
  /** The peer's release. */
  release: string;
}

/**
 * Closes `socket` if `work` is not done within the timeout; turns the ways a handshake can break into
 * {@linkcode HandshakeError}s whose message is the line to show: the initiator's says what the peer is not,
 * the responder's starts "Closing connection with".
 */
async function bounded<T>(
  socket: Socket,
  o: HandshakeOptions,
  side: { initiator: boolean; role: string },
  work: () => Promise<T>,
): Promise<T> {
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      socket.close();
    } catch {
      // closed already
    }
  }, o.timeoutMs);
  const closing = `Closing connection with ${o.peer}`;
  try {
    return await work();
  } catch (error: unknown) {
    const s = o.timeoutMs / 1000;
    if (timedOut) {
      throw new HandshakeError(
        "timeout",
        side.initiator
          ? `${o.peer} answered nothing within ${s} s: a busy octane ${side.role}, or another program (an HTTP server, say) listens there: check the address and port`
          : `${closing}: no handshake within ${s} s`,
        { cause: error },
      );
    }
    if (error instanceof HandshakeError) throw error;
    if (error instanceof NotOctaneError) {
      throw new HandshakeError(
        "not-octane",
        side.initiator
          ? `${o.peer} is not an octane ${side.role}: it is ${error.found}: check the address and port`
          : `${closing}: ${error.message}`,
        { cause: error },
      );
    }
    if (error instanceof ProtocolError) {
      throw new HandshakeError(
        "malformed",
        side.initiator
          ? `${o.peer} broke off the handshake: ${error.message}`
          : `${closing}: ${error.message}`,
        { cause: error },
      );
    }
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

async function readPreamble(wire: WireReader, closed: () => HandshakeError): Promise<Preamble> {
  const fixed = await wire.take(PREAMBLE_FIXED_BYTES, "the preamble");
  if (!fixed) throw closed();
  const head = fixed.slice();
  const release = (await wire.take(releaseLength(head), "the preamble")) ?? new Uint8Array(0);
  return parsePreamble(head, release.slice());
}

/**
 * The initiator's side: sends the preamble for `service`, checks the responder's, then runs the Noise
 * handshake (NNpsk0 with a key, NN without) with both preambles as the prologue.
 * @throws {HandshakeError} with a line that says what is wrong and what to do
 */
export function initiate(socket: Socket, service: Service, o: HandshakeOptions): Promise<Established> {
  const [me, role] = ROLES[service];
  return bounded(socket, o, { initiator: true, role }, async () => {
    const them = `${role[0]!.toUpperCase()}${role.slice(1)} ${o.peer}`;
    const mine = preamble(service, {
      keyed: o.key !== undefined,
      ...(o.release ? { release: o.release } : {}),
    });
    await writeAll(socket, mine.bytes);
    const wire = new WireReader(socket);
    const theirs = await readPreamble(
      wire,
      () =>
        new HandshakeError(
          "closed",
          `${o.peer} closed the connection without answering: is it an octane ${role}?`,
        ),
    );
    const wrong = mismatch(mine, theirs);
    if (wrong) {
      throw new HandshakeError(
        wrong,
        describeMismatch(wrong, { side: "initiator", mine, theirs, peer: o.peer }),
        { theirs },
      );
    }
    const hs = new HandshakeState(o.key ? NOISE_PSK : NOISE_NN, {
      initiator: true,
      prologue: concatBytes(mine.bytes, theirs.bytes),
      ...(o.key ? { psk: o.key } : {}),
    });
    const first = lengthPrefixed(hs.writeMessage());
    await writeAll(socket, first);
    const keyDiffers = (cause?: unknown) =>
      new HandshakeError(
        "key",
        `${them} and this ${me} hold different farm keys (or the connection was tampered with): copy one key file to every node`,
        { theirs, cause },
      );
    const answer = await wire.message("the handshake", HANDSHAKE_MESSAGE_MAX);
    if (answer === null) throw keyDiffers();
    if (answer.length === 0) throw keyDiffers();
    try {
      hs.readMessage(answer.slice());
    } catch (error: unknown) {
      if (error instanceof NoiseError) throw keyDiffers(error);
      throw error;
    }
    const { send, receive } = hs.result();
    const channel = new SecureChannel(socket, wire, send, receive, mine.bytes.length + first.length);
    return { channel, service, release: theirs.release };
  });
}

/**
 * The responder's side: reads the initiator's preamble, answers with its own (for the service asked when
 * `services` has it), then runs the Noise handshake. A failed first message gets a zero-length answer, so
 * that the initiator can say the keys differ.
 * @throws {HandshakeError} with the line to log
 */
export function respond(
  socket: Socket,
  services: readonly Service[],
  o: HandshakeOptions,
): Promise<Established> {
  return bounded(socket, o, { initiator: false, role: "peer" }, async () => {
    const wire = new WireReader(socket);
    const theirs = await readPreamble(
      wire,
      () => new HandshakeError("closed", `${o.peer} closed the connection before its preamble`),
    );
    const service = theirs.service && services.includes(theirs.service) ? theirs.service : services[0]!;
    const [role, me] = ROLES[service];
    const mine = preamble(service, {
      keyed: o.key !== undefined,
      ...(o.release ? { release: o.release } : {}),
    });
    await writeAll(socket, mine.bytes);
    const wrong = mismatch(mine, theirs);
    if (wrong) {
      throw new HandshakeError(
        wrong,
        describeMismatch(wrong, { side: "responder", mine, theirs, peer: o.peer }),
        {
          theirs,
        },
      );
    }
    const hs = new HandshakeState(o.key ? NOISE_PSK : NOISE_NN, {
      initiator: false,
      prologue: concatBytes(theirs.bytes, mine.bytes), // the initiator's preamble first, on both sides
      ...(o.key ? { psk: o.key } : {}),
    });
    const first = await wire.message("the handshake", HANDSHAKE_MESSAGE_MAX);
    if (first === null) {
      throw new HandshakeError("closed", `${o.peer} closed the connection during the handshake`, { theirs });
    }
    try {
      hs.readMessage(first.slice());
    } catch (error: unknown) {
      if (!(error instanceof NoiseError)) throw error;
      await writeAll(socket, new Uint8Array(2)).catch(() => {});
      throw new HandshakeError(
        "key",
        `Refused ${role} ${o.peer}: the handshake failed: its farm key differs from this ${me}'s (or the bytes were altered)`,
        { theirs, cause: error },
      );
    }
    const answer = lengthPrefixed(hs.writeMessage());
    await writeAll(socket, answer);
    const { send, receive } = hs.result();
    const channel = new SecureChannel(socket, wire, send, receive, mine.bytes.length + answer.length);
    return { channel, service, release: theirs.release };
  });
}
