import { createHash } from "node:crypto";
import { toHex } from "../bytes.ts";
import { NODE_BYTES } from "./bvh.ts";
import type { RenderData } from "./compile.ts";
import {
  ATTR_FLOATS,
  CAMERA_FLOATS,
  ENVIRONMENT_FLOATS,
  LIGHT_BYTES,
  MATERIAL_BASE_FLOATS,
  MATERIAL_FLOATS,
  PUNCTUAL_FLOATS,
  TEXREF_FLOATS,
  TEXTURE_SLOTS,
  TRI_FLOATS,
  UV1_FLOATS,
} from "./layout.ts";
import { mipHeader, mipSizes, storedChainWords } from "./mips.ts";

/** Largest texture side a `.ocrd` may declare (images are at most 8192 a side; this leaves room). */
const MAX_TEXTURE_SIDE = 1 << 16;

/**
 * The `.ocrd` container of compiled render data, all little-endian:
 *
 * | offset | size    | field                                                           |
 * |--------|---------|-----------------------------------------------------------------|
 * | 0      | 8       | magic `OCRD\r\n\x1a\n`                                           |
 * | 8      | 4       | format version (u32)                                            |
 * | 12     | 4       | section count N (u32)                                           |
 * | 16     | 32      | content hash: SHA-256 of every section's (kind, SHA-256) in order |
 * | 48     | 56 x N  | section table: kind u32, reserved u32, offset u64, length u64, SHA-256 |
 * | ...    |         | section payloads, each starting on a 16-byte boundary           |
 *
 * A changed camera changes the camera section's hash (and so the content hash) and nothing else.
 */
export const OCRD_MAGIC = new Uint8Array([0x4f, 0x43, 0x52, 0x44, 0x0d, 0x0a, 0x1a, 0x0a]);
/**
 * The format version this octane writes and reads. 2: textures carry their mip chains (a texture
 * reference's fourth word is its level count), triangles their LOD bias and second texture coordinate set;
 * materials grew texture slots and an extension block (clearcoat, sheen, volume absorption, specular colour).
 */
export const OCRD_VERSION = 2;
const HEADER_BYTES = 48;
const ENTRY_BYTES = 56;
const MAX_SECTIONS = 64;

/** Section kinds of format version 1. */
export const SECTION = {
  camera: 1,
  nodes: 2,
  triangles: 3,
  materials: 4,
  lights: 5,
  environment: 6,
  settings: 7,
  attributes: 8,
  textures: 9,
  /** Punctual lights (KHR_lights_punctual); only in render data that has some. */
  punctual: 10,
} as const;
/** The name of a section kind. */
export type SectionName = keyof typeof SECTION;
const NAMES = Object.fromEntries(Object.entries(SECTION).map(([k, v]) => [v, k])) as Record<
  number,
  SectionName
>;

/** Raised for a malformed, truncated, tampered or unsupported `.ocrd` file. */
export class RenderDataError extends SyntaxError {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "RenderDataError";
  }
}

/** One section of serialized render data. */
export interface Section {
  /** Its kind. */
  name: SectionName;
  /** Its bytes. */
  bytes: Uint8Array;
  /** SHA-256 of the bytes, hex. */
  hash: string;
  /** The same SHA-256, as bytes. */
  digest: Uint8Array;
}

function view(data: ArrayBuffer | ArrayBufferView): Uint8Array {
  return data instanceof ArrayBuffer
    ? new Uint8Array(data)
    : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function sha256(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha256").update(bytes).digest());
}

function contentHash(kinds: number[], hashes: Uint8Array[]): Uint8Array {
  const h = createHash("sha256");
  kinds.forEach((kind, i) => {
    const k = new Uint8Array(4);
    new DataView(k.buffer).setUint32(0, kind, true);
    h.update(k).update(hashes[i]!);
  });
  return new Uint8Array(h.digest());
}

/** Splits render data into its sections, each with its SHA-256 (what a master sends and a slave caches). */
export function renderDataSections(data: RenderData): Section[] {
  const settings = new TextEncoder().encode(
    JSON.stringify({ triangles: data.stats.triangles, nodes: data.stats.nodes, lights: data.stats.lights }),
  );
  const parts: [SectionName, Uint8Array][] = [
    ["camera", view(data.camera)],
    ["nodes", view(data.nodes)],
    ["triangles", view(data.triangles)],
    ["attributes", view(data.attributes)],
    ["materials", view(data.materials)],
    ["lights", view(data.lights)],
    ["textures", view(data.texels)],
    ["environment", view(data.environment)],
    ["settings", settings],
    ...(data.punctual ? [["punctual", view(data.punctual)] as [SectionName, Uint8Array]] : []),
  ];
  return parts.map(([name, bytes]) => {
    const digest = sha256(bytes);
    return { name, bytes, hash: toHex(digest), digest };
  });
}

/** The content hash of sections already hashed by {@linkcode renderDataSections}, hex. */
export function sectionsHash(sections: readonly Section[]): string {
  return toHex(contentHash(sections.map((s) => SECTION[s.name]), sections.map((s) => s.digest)));
}

/** The content hash of render data, hex: equal for render data that renders the same image. */
export function renderDataHash(data: RenderData): string {
  return sectionsHash(renderDataSections(data));
}

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
 * Parses and checks an `.ocrd` file: magic, version, table bounds, every section's SHA-256, the content
 * hash, section sizes, and that every index (BVH children and leaves, materials, lights) is in range, so
 * that no file can make the GPU read out of bounds or loop forever.
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

/**
 * Builds render data from its sections (read from a file, or received from a master), checking sizes and
 * that every index is in range.
 * @throws {RenderDataError} naming the first problem found
 */
export function renderDataFromSections(
  found: ReadonlyMap<SectionName, Uint8Array>,
  name = "render data",
): RenderData {
  const fail = (what: string): never => {
    throw new RenderDataError(`Cannot load "${name}": ${what}`);
  };
  const get = (s: SectionName) => found.get(s) ?? fail(`the ${s} section is missing`);
  const copy = (s: SectionName, unit: number) => {
    const b = get(s);
    if (b.length % unit !== 0 || b.length === 0) {
      fail(`the ${s} section's length ${b.length} is not a positive multiple of ${unit}`);
    }
    return b.slice().buffer;
  };
  const camera = new Float32Array(copy("camera", CAMERA_FLOATS * 4));
  const nodes = copy("nodes", NODE_BYTES);
  const triangles = new Float32Array(copy("triangles", TRI_FLOATS * 4));
  const attributes = new Float32Array(copy("attributes", ATTR_FLOATS * 4));
  const materials = new Float32Array(copy("materials", MATERIAL_FLOATS * 4));
  const texels = new Uint8Array(copy("textures", 4));
  const lights = copy("lights", LIGHT_BYTES);
  const environment = new Float32Array(copy("environment", ENVIRONMENT_FLOATS * 4));
  const env = new Uint32Array(environment.buffer);
  if (env[9] !== 0) {
    const [w, h, offset, cdf] = env.subarray(4, 8);
    if (
      w! < 1 || h! < 1 || offset! + w! * h! > texels.length / 4 || cdf! + w! * h! + h! > texels.length / 4
    ) {
      fail("the environment map lies outside the texels");
    }
  }
  let settings: { triangles?: unknown; nodes?: unknown; lights?: unknown };
  try {
    settings = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(get("settings")));
  } catch {
    return fail("the settings section is not valid JSON");
  }
  const int = (v: unknown, what: string, max: number) =>
    Number.isSafeInteger(v) && (v as number) >= 0 && (v as number) <= max
      ? v as number
      : fail(`settings ${what} is ${JSON.stringify(v)}`);
  const triCount = int(settings.triangles, "triangles", triangles.length / TRI_FLOATS);
  const nodeCount = int(settings.nodes, "nodes", nodes.byteLength / NODE_BYTES);
  const lightCount = int(settings.lights, "lights", lights.byteLength / LIGHT_BYTES);
  if (nodeCount !== nodes.byteLength / NODE_BYTES) {
    fail(`settings say ${nodeCount} nodes, the section holds ${nodes.byteLength / NODE_BYTES}`);
  }
  const extraAttrs = attributes.length / ATTR_FLOATS - triangles.length / TRI_FLOATS;
  if (extraAttrs < 0) fail("the attributes section does not match the triangles");
  checkIndices({ nodes, triangles, materials, lights, texels }, triCount, lightCount, fail);
  const triBits = new Uint32Array(triangles.buffer);
  for (let t = 0; t < triCount; t++) {
    const record = triBits[t * TRI_FLOATS + 11]!;
    if (record > extraAttrs * (ATTR_FLOATS / UV1_FLOATS)) {
      fail(`triangle ${t} names texture coordinate record ${record} past the attributes`);
    }
  }
  const punctual = found.has("punctual")
    ? checkPunctual(new Float32Array(copy("punctual", PUNCTUAL_FLOATS * 4)), {
      envMap: env[9] !== 0,
      triangleLights: lightCount,
    }, fail)
    : undefined;
  return {
    camera,
    nodes,
    triangles,
    attributes,
    materials,
    texels,
    lights,
    environment,
    ...(punctual ? { punctual } : {}),
    stats: { triangles: triCount, nodes: nodeCount, lights: lightCount, bvhMs: 0 },
  };
}

function checkIndices(
  d: {
    nodes: ArrayBuffer;
    triangles: Float32Array;
    materials: Float32Array;
    lights: ArrayBuffer;
    texels: Uint8Array;
  },
  triCount: number,
  lightCount: number,
  fail: (what: string) => never,
): void {
  checkTree(new Uint32Array(d.nodes), triCount, fail);
  const materialCount = d.materials.length / MATERIAL_FLOATS;
  const bits = new Uint32Array(d.triangles.buffer);
  for (let t = 0; t < triCount; t++) {
    if (bits[t * TRI_FLOATS + 3]! >= materialCount) {
      fail(`triangle ${t} names material ${bits[t * TRI_FLOATS + 3]} of ${materialCount}`);
    }
  }
  const mbits = new Uint32Array(d.materials.buffer);
  const texelCount = d.texels.length / 4;
  const words = new DataView(d.texels.buffer, d.texels.byteOffset, d.texels.byteLength);
  for (let m = 0; m < materialCount; m++) {
    for (let slot = 0; slot < TEXTURE_SLOTS.length; slot++) {
      const at = m * MATERIAL_FLOATS + MATERIAL_BASE_FLOATS + slot * TEXREF_FLOATS;
      const [offset, width, height, levels] = mbits.subarray(at, at + 4);
      if (levels === 0) continue;
      if (width! < 1 || height! < 1 || width! > MAX_TEXTURE_SIDE || height! > MAX_TEXTURE_SIDE) {
        fail(`material ${m}'s ${TEXTURE_SLOTS[slot]} texture is ${width}x${height}`);
      }
      if (levels! > mipSizes(width!, height!).length) {
        fail(
          `material ${m}'s ${TEXTURE_SLOTS[slot]} texture has ${levels} mip levels, more than its size has`,
        );
      }
      if (offset! + storedChainWords(width!, height!, levels!) > texelCount) {
        fail(`material ${m}'s ${TEXTURE_SLOTS[slot]} texture lies outside the texels`);
      }
      const header = mipHeader(width!, height!, levels!);
      if (header.some((want, k) => words.getUint32((offset! + k) * 4, true) !== want)) {
        fail(`material ${m}'s ${TEXTURE_SLOTS[slot]} texture's mip level offsets are not its sizes'`);
      }
    }
  }
  const lv = new DataView(d.lights);
  for (let l = 0; l < lightCount; l++) {
    if (lv.getUint32(l * LIGHT_BYTES, true) >= triCount) {
      fail(`light ${l} names a triangle past the ${triCount} there are`);
    }
  }
}

/**
 * Checks the punctual-light section: its count matches its records, every kind is known, every number is
 * finite and every probability in [0, 1], and the picks it shares out go only to light sources the scene
 * has (an environment map, emissive triangles), so the GPU's pick and shading stay in bounds.
 */
function checkPunctual(
  block: Float32Array,
  scene: { envMap: boolean; triangleLights: number },
  fail: (what: string) => never,
): Float32Array {
  const bits = new Uint32Array(block.buffer, block.byteOffset, block.length);
  const count = bits[0]!;
  if (count < 1 || count !== block.length / PUNCTUAL_FLOATS - 1) {
    fail(`the punctual section says ${count} lights and holds ${block.length / PUNCTUAL_FLOATS - 1}`);
  }
  const p = (v: number) => Number.isFinite(v) && v >= 0 && v <= 1;
  if (![block[1]!, block[2]!, block[3]!].every(p)) {
    fail("the punctual section's pick probabilities are not in [0, 1]");
  }
  if (Math.abs(block[1]! + block[2]! + block[3]! - 1) > 1e-4 || !(block[3]! > 0)) {
    fail("the punctual section's pick probabilities do not add up to 1 with a share for its lights");
  }
  if (block[1]! > 0 && !scene.envMap) fail("the punctual section picks an environment map the scene lacks");
  if (block[2]! > 0 && scene.triangleLights === 0) {
    fail("the punctual section picks emissive triangles the scene lacks");
  }
  for (let k = 1; k <= count; k++) {
    const o = k * PUNCTUAL_FLOATS;
    if (![0, 1, 2].includes(block[o + 3]!)) fail(`punctual light ${k - 1} has unknown kind ${block[o + 3]}`);
    for (let i = 0; i < PUNCTUAL_FLOATS; i++) {
      if (!Number.isFinite(block[o + i]!)) {
        fail(`punctual light ${k - 1} has a value that is not finite`);
      }
    }
    if (
      !p(block[o + 7]!) || !p(block[o + 11]!) || block[o + 8]! < 0 || block[o + 9]! < 0 || block[o + 10]! < 0
    ) {
      fail(`punctual light ${k - 1} has a negative intensity or a probability outside [0, 1]`);
    }
  }
  return block;
}

/** Levels a BVH may have below its root: the GPU traversal stack holds 64 entries. */
export const MAX_BVH_LEVELS = 64;

/**
 * Checks that the BVH is a tree the GPU can walk in bounded time: children come after their parent (no
 * cycles), every node but the root has exactly one parent (no shared subtrees, whose visits multiply per
 * ray), a lone node is a leaf, at most MAX_BVH_LEVELS levels, and leaves name triangles that exist.
 */
function checkTree(u: Uint32Array, triCount: number, fail: (what: string) => never): void {
  const nodeCount = u.length / 8;
  const parents = new Uint8Array(nodeCount);
  const depth = new Uint16Array(nodeCount);
  if (nodeCount === 1 && u[7] === 0) fail("BVH node 0 is the only node and has children: it must be a leaf");
  for (let n = 0; n < nodeCount; n++) {
    const first = u[n * 8 + 3]!, count = u[n * 8 + 7]!;
    if (count > 0) {
      if (first + count > triCount) fail(`BVH leaf ${n} names triangles past the ${triCount} there are`);
      continue;
    }
    if (first <= n || first + 1 >= nodeCount) {
      fail(`BVH node ${n} has children ${first} and ${first + 1} out of order or out of range`);
    }
    for (const child of [first, first + 1]) {
      if (++parents[child]! > 1) fail(`BVH node ${child} has 2 parents: not a tree`);
      depth[child] = depth[n]! + 1;
      if (depth[child]! > MAX_BVH_LEVELS) {
        fail(`BVH is ${depth[child]} levels deep; at most ${MAX_BVH_LEVELS}`);
      }
    }
  }
  for (let n = 1; n < nodeCount; n++) if (parents[n] === 0) fail(`BVH node ${n} has no parent: not a tree`);
}

function align16(n: number): number {
  return Math.ceil(n / 16) * 16;
}
