import {
  contentHash,
  RenderDataError,
  renderDataFromSections,
  renderDataSections,
  SECTION,
  type SectionName,
  sha256,
} from "./sections.ts";
import type { RenderData } from "./types.ts";

/**
 * The `.ocrd` container of compiled render data, all little-endian:
 *
 * | offset | size    | field                                                           |
 * |--------|---------|-----------------------------------------------------------------|
 * | 0      | 8       | magic `OCRD\r\n\x1a\n`                                           |
 * | 8      | 4       | format version (u32)                                            |
 * | 12     | 4       | section count N (u32)                                           |
 * | 16     | 32      | content hash: SHA-256 of every section's (kind, SHA-256) in order |
 * | 48     | 56 x N  | section table: kind u32, flags u32 (0), offset u64, length u64, SHA-256 |
 * | ...    |         | section payloads, each starting on a 16-byte boundary           |
 *
 * Each section is an array of the records mod/gpu_layout declares (the settings section is JSON). A changed
 * camera changes the camera section's hash (and so the content hash) and nothing else.
 * @module
 */

/** The magic bytes every `.ocrd` file starts with. */
export const OCRD_MAGIC = new Uint8Array([0x4f, 0x43, 0x52, 0x44, 0x0d, 0x0a, 0x1a, 0x0a]);
/**
 * The format version this octane writes and reads. 2: textures carry their mip chains (a texture
 * reference's fourth word is its level count), the attributes section a LOD bias per triangle and the
 * second texture coordinate set's records; materials grew texture slots and an extension block (clearcoat,
 * sheen, volume absorption, specular colour). Since then the settings record the scene's features (files
 * without them get them derived).
 */
export const OCRD_VERSION = 2;
const HEADER_BYTES = 48;
const ENTRY_BYTES = 56;
const MAX_SECTIONS = 64;

const NAMES = Object.fromEntries(Object.entries(SECTION).map(([k, v]) => [v, k])) as Record<
  number,
  SectionName
>;

/** Serializes render data into an `.ocrd` file. */
export function encodeRenderData(data: RenderData): Uint8Array {
  const sections = renderDataSections(data);
  const tableEnd = HEADER_BYTES + sections.length * ENTRY_BYTES;
  let at = align16(tableEnd);
  const offsets = sections.map((s) => {
    const o = at;
    at = align16(at + s.bytes.length);
    return o;
  });
  const out = new Uint8Array(at);
  const dv = new DataView(out.buffer);
  out.set(OCRD_MAGIC, 0);
  dv.setUint32(8, OCRD_VERSION, true);
  dv.setUint32(12, sections.length, true);
  const hashes = sections.map((s) => s.digest);
  out.set(contentHash(sections.map((s) => SECTION[s.name]), hashes), 16);
  sections.forEach((s, i) => {
    const e = HEADER_BYTES + i * ENTRY_BYTES;
    dv.setUint32(e, SECTION[s.name], true);
    dv.setBigUint64(e + 8, BigInt(offsets[i]!), true);
    dv.setBigUint64(e + 16, BigInt(s.bytes.length), true);
    out.set(hashes[i]!, e + 24);
    out.set(s.bytes, offsets[i]!);
  });
  return out;
}

/**
 * Parses and checks an `.ocrd` file: magic, version, table bounds, every section's SHA-256 and the content
 * hash here; then section sizes and everything `validate.ts` checks (BVH children and leaves, materials,
 * lights, texture chains and their mip headers, set-1 records, the environment map, the punctual section)
 * and the recorded features, so that no file can make the GPU read out of bounds or loop forever.
 * @throws {RenderDataError} naming the first problem found
 */
export function decodeRenderData(file: Uint8Array, name = "render data"): RenderData {
  const fail = (what: string): never => {
    throw new RenderDataError(`Cannot load "${name}": ${what}`);
  };
  if (file.length < HEADER_BYTES) {
    fail(`the file is truncated (${file.length} bytes, the header alone is ${HEADER_BYTES})`);
  }
  if (!OCRD_MAGIC.every((b, i) => file[i] === b)) {
    fail("not an octane render data file (wrong magic); compile scenes with 'octane compile'");
  }
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const version = dv.getUint32(8, true);
  if (version !== OCRD_VERSION) {
    fail(
      version > OCRD_VERSION
        ? `it is format version ${version}, newer than this octane reads (${OCRD_VERSION}); upgrade octane`
        : `it is format version ${version}, which this octane no longer reads; recompile the scene`,
    );
  }
  const count = dv.getUint32(12, true);
  if (count > MAX_SECTIONS) fail(`its section count ${count} is over the limit of ${MAX_SECTIONS}`);
  if (file.length < HEADER_BYTES + count * ENTRY_BYTES) {
    fail("the file is truncated inside the section table");
  }
  const found = new Map<SectionName, Uint8Array>();
  const kinds: number[] = [], hashes: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const e = HEADER_BYTES + i * ENTRY_BYTES;
    const kind = dv.getUint32(e, true);
    const offset = dv.getBigUint64(e + 8, true), length = dv.getBigUint64(e + 16, true);
    const section = NAMES[kind] ?? fail(`section ${i} has unknown kind ${kind}`);
    if (dv.getUint32(e + 4, true) !== 0) {
      fail(`the ${section} section has flags this octane does not know; upgrade octane`);
    }
    if (found.has(section)) fail(`the ${section} section appears twice`);
    if (offset + length > BigInt(file.length)) {
      fail(`the ${section} section runs past the end of the file (truncated?)`);
    }
    const bytes = file.subarray(Number(offset), Number(offset + length));
    const want = file.subarray(e + 24, e + 56);
    const got = sha256(bytes);
    if (!got.every((b, k) => b === want[k])) {
      fail(`the ${section} section's SHA-256 does not match (the file is corrupt)`);
    }
    found.set(section, bytes);
    kinds.push(kind);
    hashes.push(got);
  }
  const whole = contentHash(kinds, hashes);
  if (!whole.every((b, k) => b === file[16 + k])) {
    fail("the content hash does not match the section table (the file is corrupt)");
  }
  return renderDataFromSections(found, name);
}

function align16(n: number): number {
  return Math.ceil(n / 16) * 16;
}
