import { createHash } from "node:crypto";
import { constants, zstdCompressSync, zstdDecompressSync } from "node:zlib";
import { SECTION_ZSTD_LEVEL, SECTION_ZSTD_MAX_RATIO, SECTION_ZSTD_MIN_BYTES } from "../defaults.ts";
import type { SectionName } from "../../render_data/mod.ts";
import { ProtocolError, type SectionInfo } from "./messages.ts";

/**
 * Compresses float32 sums: the bytes are split into four planes (all first bytes, all second bytes…),
 * which puts the slowly varying exponents together, then zstd.
 */
export function compressFloats(values: Float32Array): Uint8Array {
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const n = values.length;
  const planes = new Uint8Array(bytes.length);
  for (let i = 0; i < n; i++) {
    planes[i] = bytes[i * 4]!;
    planes[n + i] = bytes[i * 4 + 1]!;
    planes[2 * n + i] = bytes[i * 4 + 2]!;
    planes[3 * n + i] = bytes[i * 4 + 3]!;
  }
  return new Uint8Array(zstdCompressSync(planes));
}

/** Inverts {@linkcode compressFloats}; `count` floats are expected. */
export function decompressFloats(data: Uint8Array, count: number): Float32Array {
  let planes: Uint8Array;
  try {
    planes = new Uint8Array(zstdDecompressSync(data, { maxOutputLength: count * 4 + 1 }));
  } catch (error: unknown) {
    throw new ProtocolError("result data is not valid zstd", { cause: error });
  }
  if (planes.length !== count * 4) {
    throw new ProtocolError(`result data holds ${planes.length} bytes, not ${count * 4}`);
  }
  const out = new Float32Array(count);
  const bytes = new Uint8Array(out.buffer);
  for (let i = 0; i < count; i++) {
    bytes[i * 4] = planes[i]!;
    bytes[i * 4 + 1] = planes[count + i]!;
    bytes[i * 4 + 2] = planes[2 * count + i]!;
    bytes[i * 4 + 3] = planes[3 * count + i]!;
  }
  return out;
}

/** Uncompressed float32 sums: exactly `count` floats. */
export function rawFloats(data: Uint8Array, count: number): Float32Array {
  if (data.length !== count * 4) {
    throw new ProtocolError(`result holds ${data.length} bytes, not ${count * 4}`);
  }
  return new Float32Array(data.slice().buffer);
}

/** A render-data section as it travels: its entry in the scene offer and the bytes its chunks carry. */
export interface WireSection {
  /** What the offer says of it. */
  info: SectionInfo;
  /** Its wire bytes (the raw bytes themselves when raw). */
  bytes: Uint8Array;
}

/**
 * The wire form of a section (its hash is of its raw `bytes`): one zstd frame (at SECTION_ZSTD_LEVEL) where
 * that pays (the section has at least SECTION_ZSTD_MIN_BYTES and compresses to at most
 * SECTION_ZSTD_MAX_RATIO of them), else the raw bytes; always raw when `o.compress` is false.
 */
export function encodeSection(
  section: { name: SectionName; hash: string; bytes: Uint8Array },
  o: { compress?: boolean } = {},
): WireSection {
  const { name, hash, bytes } = section;
  const raw = {
    info: { name, hash, length: bytes.length, encoding: "raw", wireLength: bytes.length },
    bytes,
  } as const;
  if (o.compress === false || bytes.length < SECTION_ZSTD_MIN_BYTES) return raw;
  const packed = zstdCompressSync(bytes, {
    params: { [constants.ZSTD_c_compressionLevel]: SECTION_ZSTD_LEVEL },
  });
  if (packed.length > bytes.length * SECTION_ZSTD_MAX_RATIO) return raw;
  return {
    info: { ...raw.info, encoding: "zstd", wireLength: packed.length },
    bytes: new Uint8Array(packed.buffer, packed.byteOffset, packed.length),
  };
}

/**
 * The raw bytes of a section whose wire bytes (`info.wireLength` of them) have all arrived: decompressed
 * when zstd, never past `info.length` bytes, then checked to be exactly `info.length` bytes with SHA-256
 * `info.hash`.
 * @throws {ProtocolError} naming the section and what is wrong with it
 */
export function decodeSection(info: SectionInfo, wire: Uint8Array): Uint8Array {
  const what = `render-data section "${info.name}"`;
  let bytes = wire;
  if (info.encoding === "zstd") {
    let out: Uint8Array;
    try {
      // inflating stops at the offered length: a zip bomb costs no more memory than an honest section
      out = zstdDecompressSync(wire, { maxOutputLength: Math.max(1, info.length) });
    } catch (error: unknown) {
      if ((error as { code?: string }).code === "ERR_BUFFER_TOO_LARGE") {
        throw new ProtocolError(`${what} decompresses past the ${info.length} bytes offered`, {
          cause: error,
        });
      }
      throw new ProtocolError(`${what} is not valid zstd`, { cause: error });
    }
    bytes = new Uint8Array(out.buffer, out.byteOffset, out.length);
  }
  if (bytes.length !== info.length) {
    throw new ProtocolError(`${what} decompresses to ${bytes.length} bytes, not the ${info.length} offered`);
  }
  if (createHash("sha256").update(bytes).digest("hex") !== info.hash) {
    throw new ProtocolError(`${what} does not match its SHA-256 (the master sent other bytes)`);
  }
  return bytes;
}
