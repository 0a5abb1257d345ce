/**
 * The trust boundary of render data: checks that sections read from a file or received from a master cannot
 * make the GPU read out of bounds or loop without end. Every index (BVH children and leaves, materials,
 * lights, texture chains, set-1 records, the environment map) is in range and the BVH is a tree.
 * @module
 */
import {
  ATTR,
  ENVIRONMENT,
  LIGHT_ENTRY,
  MATERIAL,
  NODE,
  PUNCTUAL,
  PUNCTUAL_HEADER,
  PUNCTUAL_KIND,
  TEX_REF,
  TEXTURE_SLOTS,
  TRI,
  UV1,
} from "../gpu_layout/mod.ts";
import { hasEnvironmentMap } from "./features.ts";
import { mipHeader, mipSizes, storedChainWords } from "./mips.ts";
import type { RenderData } from "./types.ts";

/** Largest texture side render data may declare (images are at most 8192 a side; this leaves room). */
const MAX_TEXTURE_SIDE = 1 << 16;

/** Levels a BVH may have below its root: the GPU traversal stack holds 64 entries. */
export const MAX_BVH_LEVELS = 64;

/** Reports a problem (with what is wrong) and does not return. */
export type Fail = (what: string) => never;

/**
 * Checks the sections of render data whose sizes were already checked: the environment map lies inside the
 * texels, every index is in range, the BVH is a tree, and the punctual section is sound.
 */
export function checkRenderData(
  d: Omit<RenderData, "features" | "stats" | "view">,
  counts: { triangles: number; lights: number },
  fail: Fail,
): void {
  checkEnvironment(d.environment, d.texels, fail);
  checkTree(d.nodes, counts.triangles, fail);
  checkTriangles(d, counts.triangles, fail);
  checkTextures(d.materials, d.texels, fail);
  // by word offsets: a scene may have as many emissive triangles as triangles
  const lights = new Uint32Array(d.lights);
  for (let l = 0; l < counts.lights; l++) {
    if (lights[l * LIGHT_ENTRY.words + LIGHT_ENTRY.word.tri]! >= counts.triangles) {
      fail(`light ${l} names a triangle past the ${counts.triangles} there are`);
    }
  }
  if (d.punctual) {
    checkPunctual(d.punctual, {
      envMap: hasEnvironmentMap(d.environment),
      triangleLights: counts.lights,
    }, fail);
  }
}

/** The environment map, if any, lies inside the texels. */
function checkEnvironment(environment: Float32Array, texels: Uint8Array, fail: Fail): void {
  const env = ENVIRONMENT.read(environment, 0);
  if (env.has_map === 0) return;
  const [w, h] = env.map_size as [number, number];
  const words = texels.length / 4;
  if (w < 1 || h < 1 || env.texel_offset + w * h > words || env.cdf_offset + w * h + h > words) {
    fail("the environment map lies outside the texels");
  }
}

/** Every triangle names a material that exists and a set-1 record inside the attributes. */
function checkTriangles(
  d: Pick<RenderData, "triangles" | "materials" | "attributes">,
  triCount: number,
  fail: Fail,
) {
  const materialCount = d.materials.length / MATERIAL.words;
  const extraAttrs = d.attributes.length / ATTR.words - d.triangles.length / TRI.words;
  if (extraAttrs < 0) fail("the attributes section does not match the triangles");
  const bits = new Uint32Array(d.triangles.buffer, d.triangles.byteOffset, d.triangles.length);
  for (let t = 0; t < triCount; t++) {
    const material = bits[t * TRI.words + TRI.word.material]!;
    if (material >= materialCount) fail(`triangle ${t} names material ${material} of ${materialCount}`);
    const record = bits[t * TRI.words + TRI.word.uv1_record]!;
    if (record > extraAttrs * (ATTR.size / UV1.size)) {
      fail(`triangle ${t} names texture coordinate record ${record} past the attributes`);
    }
  }
}

/** Every texture reference's chain lies inside the texels, with levels its size has and a true header. */
function checkTextures(materials: Float32Array, texels: Uint8Array, fail: Fail): void {
  const materialCount = materials.length / MATERIAL.words;
  const texelCount = texels.length / 4;
  const words = new DataView(texels.buffer, texels.byteOffset, texels.byteLength);
  const tex = MATERIAL.field("tex").offset;
  for (let m = 0; m < materialCount; m++) {
    for (let slot = 0; slot < TEXTURE_SLOTS.length; slot++) {
      const ref = TEX_REF.readAt(materials, m * MATERIAL.size + tex + slot * TEX_REF.size);
      const { offset, width, height, levels } = ref;
      const what = `material ${m}'s ${TEXTURE_SLOTS[slot]} texture`;
      if (levels === 0) continue;
      if (width < 1 || height < 1 || width > MAX_TEXTURE_SIDE || height > MAX_TEXTURE_SIDE) {
        fail(`${what} is ${width}x${height}`);
      }
      if (levels > mipSizes(width, height).length) {
        fail(`${what} has ${levels} mip levels, more than its size has`);
      }
      if (offset + storedChainWords(width, height, levels) > texelCount) {
        fail(`${what} lies outside the texels`);
      }
      const header = mipHeader(width, height, levels);
      if (header.some((want, k) => words.getUint32((offset + k) * 4, true) !== want)) {
        fail(`${what}'s mip level offsets are not its sizes'`);
      }
    }
  }
}

/**
 * Checks the punctual section: its count matches its records, every kind is known, every number is
 * finite and every probability in [0, 1], and the picks it shares out go only to light sources the scene
 * has (an environment map, emissive triangles), so the GPU's pick and shading stay in bounds.
 */
function checkPunctual(
  block: Float32Array,
  scene: { envMap: boolean; triangleLights: number },
  fail: Fail,
): void {
  const header = PUNCTUAL_HEADER.read(block, 0);
  const records = (block.byteLength - PUNCTUAL_HEADER.size) / PUNCTUAL.size;
  if (header.count < 1 || header.count !== records) {
    fail(`the punctual section says ${header.count} lights and holds ${records}`);
  }
  const p = (v: number) => Number.isFinite(v) && v >= 0 && v <= 1;
  const shares = [header.env_share, header.triangle_share, header.punctual_share];
  if (!shares.every(p)) fail("the punctual section's pick probabilities are not in [0, 1]");
  if (Math.abs(shares[0]! + shares[1]! + shares[2]! - 1) > 1e-4 || !(header.punctual_share > 0)) {
    fail("the punctual section's pick probabilities do not add up to 1 with a share for its lights");
  }
  if (header.env_share > 0 && !scene.envMap) {
    fail("the punctual section picks an environment map the scene lacks");
  }
  if (header.triangle_share > 0 && scene.triangleLights === 0) {
    fail("the punctual section picks emissive triangles the scene lacks");
  }
  const kinds: number[] = Object.values(PUNCTUAL_KIND);
  const floats = new Float32Array(
    block.buffer,
    block.byteOffset + PUNCTUAL_HEADER.size,
    records * PUNCTUAL.words,
  );
  for (let k = 0; k < header.count; k++) {
    const l = PUNCTUAL.read(floats, k);
    if (!kinds.includes(l.kind)) fail(`punctual light ${k} has unknown kind ${l.kind}`);
    if (!floats.subarray(k * PUNCTUAL.words, (k + 1) * PUNCTUAL.words).every(Number.isFinite)) {
      fail(`punctual light ${k} has a value that is not finite`);
    }
    if (!p(l.cdf) || !p(l.prob) || l.intensity.some((i) => i < 0)) {
      fail(`punctual light ${k} has a negative intensity or a probability outside [0, 1]`);
    }
  }
}

/**
 * Checks that the BVH is a tree the GPU can walk in bounded time: children come after their parent (no
 * cycles), every node but the root has exactly one parent (no shared subtrees, whose visits multiply per
 * ray), a lone node is a leaf, at most MAX_BVH_LEVELS levels, and leaves name triangles that exist.
 */
function checkTree(nodes: ArrayBuffer, triCount: number, fail: Fail): void {
  const u = new Uint32Array(nodes);
  const nodeCount = u.length / NODE.words;
  const FIRST = NODE.word.first, COUNT = NODE.word.count;
  const parents = new Uint8Array(nodeCount);
  const depth = new Uint16Array(nodeCount);
  if (nodeCount === 1 && u[COUNT] === 0) {
    fail("BVH node 0 is the only node and has children: it must be a leaf");
  }
  for (let n = 0; n < nodeCount; n++) {
    const first = u[n * NODE.words + FIRST]!, count = u[n * NODE.words + COUNT]!;
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
