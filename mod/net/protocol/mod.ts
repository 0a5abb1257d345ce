/**
 * The octane wire protocol: framed messages over raw TCP with a fixed little-endian header and hard
 * limits, JSON control messages, binary render-data chunks and compressed results, an HMAC handshake.
 * @module
 */
export {
  type ByteSource,
  type DirectSink,
  encodeFrame,
  FLAG_COMPRESSED,
  type Frame,
  FRAME_MAGIC,
  frameHeader,
  FrameReader,
  HEADER_BYTES,
  MAX_PAYLOAD_BYTES,
  type MessageName,
  MSG,
  ProtocolError,
  streamSource,
} from "./frame.ts";
export {
  compressFloats,
  decompressFloats,
  hexBytes,
  intField,
  jsonPayload,
  nonce,
  parseJson,
  parseSectionHead,
  proof,
  proofMatches,
  type ProofRole,
  SECTION_HEAD_BYTES,
  sectionHead,
  stringField,
  withTimeout,
} from "./codec.ts";
export { HEARTBEAT_SECONDS, Peer } from "./peer.ts";
