import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { zstdCompressSync, zstdDecompressSync } from "node:zlib";
import { ProtocolError } from "./frame.ts";

/** Encodes a JSON control message. */
export function jsonPayload(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}

/** Decodes a JSON control message that must be an object. */
export function parseJson(payload: Uint8Array, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(payload));
  } catch {
    throw new ProtocolError(`${what} is not valid JSON`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ProtocolError(`${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

/** Reads a non-negative integer field of a message, or fails with a ProtocolError. */
export function intField(
  m: Record<string, unknown>,
  key: string,
  what: string,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const v = m[key];
  if (!Number.isSafeInteger(v) || (v as number) < 0 || (v as number) > max) {
    throw new ProtocolError(`${what}: field "${key}" is ${JSON.stringify(v)}`);
  }
  return v as number;
}

/** Reads a string field of a message, or fails with a ProtocolError. */
export function stringField(m: Record<string, unknown>, key: string, what: string): string {
  const v = m[key];
  if (typeof v !== "string" || v.length > 4096) {
    throw new ProtocolError(`${what}: field "${key}" is not a string`);
  }
  return v;
}

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

/** A random nonce, hex. */
export function nonce(): string {
  return randomBytes(16).toString("hex");
}

/** Who proves the shared secret: the role is part of the HMAC, so one side's proof never passes as another's. */
export type ProofRole = "master" | "slave" | "daemon";

/** HMAC-SHA256 of `role:nonce` under the shared secret, hex. */
export function proof(secret: string, role: ProofRole, challenge: string): string {
  return createHmac("sha256", secret).update(`${role}:${challenge}`).digest("hex");
}

/** Compares a received proof with the expected one in constant time. */
export function proofMatches(
  secret: string,
  role: ProofRole,
  challenge: string,
  got: unknown,
): boolean {
  if (typeof got !== "string" || !/^[0-9a-f]{64}$/.test(got)) return false;
  return timingSafeEqual(
    new TextEncoder().encode(proof(secret, role, challenge)),
    new TextEncoder().encode(got),
  );
}

/** The bytes of a hex string (a SHA-256 section hash). */
export function hexBytes(hex: string): Uint8Array {
  return Uint8Array.from(hex.match(/../g)!, (h) => parseInt(h, 16));
}

/** Awaits `work`, or fails with a ProtocolError saying `what` after `ms` milliseconds. */
export async function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((
    _,
    reject,
  ) => (timer = setTimeout(() => reject(new ProtocolError(what)), ms)));
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Bytes of a section chunk's head: the section's SHA-256, then the chunk's offset (u64). */
export const SECTION_HEAD_BYTES = 40;

/** The head of a section chunk for section `hash` (hex SHA-256) at `offset`. */
export function sectionHead(hash: string, offset: number): Uint8Array {
  const head = new Uint8Array(SECTION_HEAD_BYTES);
  head.set(hexBytes(hash), 0);
  new DataView(head.buffer).setBigUint64(32, BigInt(offset), true);
  return head;
}

/** Reads a section chunk's head: the section's SHA-256 (hex) and the chunk's offset. */
export function parseSectionHead(head: Uint8Array): { hash: string; offset: number } {
  const hash = Array.from(head.subarray(0, 32), (b) => b.toString(16).padStart(2, "0")).join("");
  return { hash, offset: Number(new DataView(head.buffer, head.byteOffset).getBigUint64(32, true)) };
}
