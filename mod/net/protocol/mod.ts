/**
 * The octane wire protocol: every link (master↔slave, master↔daemon, slave↔daemon) opens with a short clear
 * preamble, then a Noise handshake (Noise_NNpsk0_25519_ChaChaPoly_BLAKE2b with the farm key,
 * Noise_NN_25519_ChaChaPoly_BLAKE2b without); typed application frames ride inside its transport messages.
 * @module
 */
export { type AcceptOptions, type ConnectOptions, Link } from "./link.ts";
export { HandshakeError, type HandshakeFailure } from "./handshake.ts";
export { type GateOptions, HandshakeGate, LogBudget } from "./gate.ts";
export { serveLinks, type ServeOptions } from "./server.ts";
export {
  type Bodies,
  type DaemonState,
  type Empty,
  FLAG_COMPRESSED,
  type Hello,
  type Message,
  type MessageType,
  type NodeFacts,
  parseSectionHead,
  type Probe,
  ProtocolError,
  type Refuse,
  type Result,
  type SceneOffer,
  SECTION_HEAD_BYTES,
  type SectionChunk,
  type SectionEncoding,
  type SectionInfo,
  type Status,
  type Watch,
  type Work,
} from "./messages.ts";
export {
  compressFloats,
  decodeSection,
  decompressFloats,
  encodeSection,
  rawFloats,
  type WireSection,
} from "./codec.ts";
export { type Service } from "./preamble.ts";
export { NOISE_NN, NOISE_PSK } from "./noise.ts";
