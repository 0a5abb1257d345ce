import { PROTOCOL_VERSION, VERSION } from "../../version.ts";
import { defaultKeyHint } from "../key.ts";
import { ProtocolError } from "./messages.ts";

/**
 * The clear preamble each side sends before the Noise handshake, so that another version, another
 * service or another key mode is refused with a clear line on both sides:
 *
 * | offset | size | field                                                        |
 * | ------ | ---- | ------------------------------------------------------------ |
 * | 0      | 4    | magic `OCTN`                                                 |
 * | 4      | 2    | protocol version, u16 little-endian                          |
 * | 6      | 1    | service: 1 render (master↔slave), 2 daemon, 3 watch          |
 * | 7      | 1    | key mode: 0 none (Noise_NN), 1 farm key (Noise_NNpsk0)       |
 * | 8      | 1    | length L of the release string (at most 32)                  |
 * | 9      | L    | the octane release, ASCII (e.g. `0.1.0`)                     |
 *
 * These fields keep their places in every protocol version. Both preambles, the initiator's first, are
 * the Noise prologue: a changed byte fails the handshake, and a handshake for one service is worthless
 * for another.
 */

/** First four bytes of every connection: "OCTN". */
export const PREAMBLE_MAGIC = new Uint8Array([0x4f, 0x43, 0x54, 0x4e]);
/** Bytes before the release string. */
export const PREAMBLE_FIXED_BYTES = 9;
/** Longest release string. */
export const MAX_RELEASE_BYTES = 32;

/** What a link is for: master↔slave rendering, master→daemon control (and probes), slave→daemon heartbeat. */
export type Service = "render" | "daemon" | "watch";
const SERVICE_CODES: Record<Service, number> = { render: 1, daemon: 2, watch: 3 };

/** One side's preamble. */
export interface Preamble {
  /** Protocol version. */
  protocol: number;
  /** The service asked for (initiator) or offered (responder); undefined for a code this version lacks. */
  service: Service | undefined;
  /** The raw service code. */
  serviceCode: number;
  /** True when this side uses a farm key. */
  keyed: boolean;
  /** The octane release. */
  release: string;
  /** The bytes on the wire. */
  bytes: Uint8Array;
}

/** This node's preamble for `service`: with or without a farm key, announcing `release` (this octane's). */
export function preamble(service: Service, o: { keyed: boolean; release?: string }): Preamble {
  const { keyed, release = VERSION } = o;
  const text = new TextEncoder().encode(release.slice(0, MAX_RELEASE_BYTES));
  const bytes = new Uint8Array(PREAMBLE_FIXED_BYTES + text.length);
  bytes.set(PREAMBLE_MAGIC);
  new DataView(bytes.buffer).setUint16(4, PROTOCOL_VERSION, true);
  bytes[6] = SERVICE_CODES[service];
  bytes[7] = keyed ? 1 : 0;
  bytes[8] = text.length;
  bytes.set(text, PREAMBLE_FIXED_BYTES);
  return { protocol: PROTOCOL_VERSION, service, serviceCode: bytes[6], keyed, release, bytes };
}

/** The fixed part did not start with the magic: not an octane peer (an HTTP client, a port scanner). */
export class NotOctaneError extends SyntaxError {
  /** What the peer seems to be, from its first bytes: "an HTTP server", "an SSH server", … */
  readonly found: string;

  /** Creates the error for a peer whose first bytes are `first`. */
  constructor(first: Uint8Array = new Uint8Array(0)) {
    super("not an octane peer (wrong magic)");
    this.name = "NotOctaneError";
    this.found = identify(first);
  }
}

/** Names the kind of server that sends `first` as its first bytes, or quotes them. */
function identify(first: Uint8Array): string {
  const text = new TextDecoder().decode(first);
  if (text.startsWith("HTTP/")) return "an HTTP server";
  if (text.startsWith("SSH-")) return "an SSH server";
  if (/^(220|\+OK|\* OK)/.test(text)) return "a mail or FTP server";
  const shown = text.replace(/[^\x20-\x7e]/g, "?");
  return `something that sent "${shown}"`;
}

/**
 * Parses a preamble from its fixed part and, once `releaseLength(fixed)` more bytes are read, the release.
 * @throws {NotOctaneError} for wrong magic
 */
export function parsePreamble(fixed: Uint8Array, release: Uint8Array): Preamble {
  checkMagic(fixed);
  const code = fixed[6]!;
  const service = (Object.keys(SERVICE_CODES) as Service[]).find((s) => SERVICE_CODES[s] === code);
  const text = new TextDecoder().decode(release).replace(/[^\x20-\x7e]/g, "?");
  const bytes = new Uint8Array(fixed.length + release.length);
  bytes.set(fixed), bytes.set(release, fixed.length);
  return {
    protocol: new DataView(fixed.buffer, fixed.byteOffset).getUint16(4, true),
    service,
    serviceCode: code,
    keyed: fixed[7] === 1,
    release: text,
    bytes,
  };
}

/**
 * Bytes of the release string a fixed part announces (after checking the magic).
 * @throws {ProtocolError} for a length over MAX_RELEASE_BYTES
 */
export function releaseLength(fixed: Uint8Array): number {
  checkMagic(fixed);
  if (fixed[8]! > MAX_RELEASE_BYTES) {
    throw new ProtocolError(`the preamble's release is ${fixed[8]} bytes, over ${MAX_RELEASE_BYTES}`);
  }
  return fixed[8]!;
}

function checkMagic(fixed: Uint8Array): void {
  if (!PREAMBLE_MAGIC.every((b, i) => fixed[i] === b)) throw new NotOctaneError(fixed);
}

/** What each side of a service's link is called in messages: the initiator, then the responder. */
export const ROLES: Record<Service, [initiator: string, responder: string]> = {
  render: ["slave", "master"],
  daemon: ["master", "daemon"],
  watch: ["slave", "daemon"],
};

/** Why two preambles cannot go on to a handshake, or undefined when they can. */
export type Mismatch = "protocol" | "service" | "key-missing" | "key-unexpected";

/** Compares our preamble with the peer's. `mine.service` is what we asked for or what we serve. */
export function mismatch(mine: Preamble, theirs: Preamble): Mismatch | undefined {
  if (theirs.protocol !== mine.protocol) return "protocol";
  if (theirs.serviceCode !== mine.serviceCode) return "service";
  if (theirs.keyed && !mine.keyed) return "key-unexpected";
  if (!theirs.keyed && mine.keyed) return "key-missing";
  return undefined;
}

/**
 * The one line that says what is wrong and what to do, from the point of view of `side` (the initiator
 * or the responder) of a link with `peer` ("127.0.0.1:21000"); the responder's line starts "Refused".
 */
export function describeMismatch(
  kind: Mismatch,
  o: { side: "initiator" | "responder"; mine: Preamble; theirs: Preamble; peer: string },
): string {
  const service = o.mine.service ?? "render";
  const [initiator, responder] = ROLES[service];
  const initiating = o.side === "initiator";
  const me = initiating ? initiator : responder;
  const them = initiating ? responder : initiator;
  const subject = initiating
    ? `${them[0]!.toUpperCase()}${them.slice(1)} ${o.peer}`
    : `Refused ${them} ${o.peer}: it`;
  const place = defaultKeyHint();
  switch (kind) {
    case "protocol":
      return `${subject} runs octane ${o.theirs.release} (protocol ${o.theirs.protocol}), this ${me} runs octane ${o.mine.release} (protocol ${o.mine.protocol}): run the same octane on every node`;
    case "service": {
      const theirs = o.theirs.service;
      return initiating
        ? `${o.peer} is ${theirs ? PORT_NAMES[theirs] : "another service"}, not ${
          PORT_NAMES[service]
        }: check the address and port`
        : `Refused ${o.peer}: it looks for ${theirs ? WANTS[theirs] : "another service"}, and this is ${
          PORT_NAMES[service]
        }`;
    }
    case "key-missing":
      return initiating
        ? `${subject} has no farm key and this ${me} has one: give the ${them} the same key (--key-file FILE, or ${place} there)`
        : `${subject} has no farm key and this ${me} requires one: copy this ${me}'s key to that node (--key-file FILE, or ${place} there)`;
    case "key-unexpected":
      return initiating
        ? `${subject} requires a farm key and this ${me} has none: copy the ${them}'s key here and pass --key-file FILE (or put it in ${place})`
        : `${subject} uses a farm key and this ${me} has none: give this ${me} the same key (--key-file FILE, or ${place})`;
  }
}

const PORT_NAMES: Record<Service, string> = {
  render: "an octane master's port",
  daemon: "an octane daemon's port",
  watch: "an octane daemon's port",
};
const WANTS: Record<Service, string> = { render: "a master", daemon: "a daemon", watch: "a daemon" };
