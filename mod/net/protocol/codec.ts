import { zstdCompressSync, zstdDecompressSync } from "node:zlib";
import { ProtocolError } from "./messages.ts";

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
