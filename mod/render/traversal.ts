/**
 * The BVH and the triangles as the GPU traverses them: one rgba32uint texture whose rows are a power of two
 * texels wide (4096, or wider where a large scene would otherwise be taller than the GPU allows: see
 * {@linkcode textureShift}), 4 texels per record so that no record straddles two rows.
 *
 * Why a texture: on llvmpipe (Mesa's software Vulkan, what CI and CPU-only nodes render on) every read of a
 * storage buffer at an address that differs between SIMD lanes becomes a scalar loop over the lanes, one
 * loop per 32-bit word; a texel fetch reads 16 bytes for all lanes at once. And why one texture: llvmpipe
 * runs both sides of every branch for a whole SIMD group, so the traversal fetches the 4 texels of one
 * record per step, an interior node for some lanes and a triangle for others, instead of a node's texels
 * and a triangle's in every step. GPUs have read BVHs through their texture units for as long as they have
 * traced rays.
 *
 * - Record 0, the header: root box min xyz + the root's entry word; root box max xyz + the most steps a
 *   traversal may take (interior nodes plus triangles); the first triangle's texel; unused.
 * - Interior node j, record j + 1: its first child's box min xyz + entry word, that box's max xyz + 0, then
 *   the same for its second child.
 * - Triangle i, at texel `first triangle's texel + 4i`: v0, v1, v2 with their .w words as in the triangles
 *   section, then an unused texel.
 *
 * An entry word is `index << 4 | count`: count 0 is an interior node (index j), count 1-15 a leaf of that
 * many triangles from triangle `index`. The children's boxes live in their parent, so a traversal reads
 * one record per interior node and one per triangle it visits. {@linkcode EMPTY_ENTRY} marks a scene
 * without triangles.
 * @module
 */
import { NODE, TRAVERSAL_HEADER, TRAVERSAL_NODE, TRI } from "../gpu_layout/mod.ts";
import type { RenderData } from "../render_data/mod.ts";

/** Texels (16 bytes each) of one record: the header, an interior node, a triangle (a TRI and a spare texel). */
const RECORD_TEXELS = 4;
/** NODE's words, by field. */
const N = NODE.word;

/** log2 of the texels per texture row of a scene that fits (the kernel splits addresses with a shift). */
const MIN_SHIFT = 12;
/** Entry word of an empty scene. */
export const EMPTY_ENTRY = 0xffffffff;
/** Most triangles of one leaf entry (the entry word's 4 count bits). */
const MAX_LEAF = 15;
const NOT_A_TREE =
  "Cannot render scene: its BVH is not a tree over its triangles (render data from a broken or hostile source)";
/** Largest index an entry word holds (28 bits). */
const MAX_INDEX = 2 ** 28 - 1;

/** The traversal layout of render data. */
export interface TraversalLayout {
  /** The texels, 4 words each (the texture pads them to whole rows). */
  texels: Uint32Array<ArrayBuffer>;
  /** Interior nodes. */
  interior: number;
}

/**
 * Converts the flattened BVH (NODE records, children of an interior node at `first` and `first + 1`)
 * and the triangles into the traversal layout. A leaf of more than 15 triangles (render data from another
 * builder) becomes a small tree of leaves of at most 15 with the leaf's box.
 * @throws {RangeError} when the BVH is not a tree over the triangles (a node reached twice, an index out of
 * range), or an index does not fit an entry word's 28 bits
 */
export function traversalLayout(data: RenderData): TraversalLayout {
  const f = new Float32Array(data.nodes);
  const u = new Uint32Array(data.nodes);
  const nodeCount = data.nodes.byteLength / NODE.size;
  const triCount = data.triangles.length / TRI.words;
  if (triCount > MAX_INDEX) {
    throw new RangeError(
      `Cannot trace ${triCount} triangles: the traversal layout indexes at most ${MAX_INDEX}`,
    );
  }
  const boxOf = (i: number) => f.subarray(i * NODE.words, (i + 1) * NODE.words);
  // interior nodes in the order they are reached: their two children's boxes and entry words
  const records: { boxes: Float32Array[]; words: number[] }[] = [];
  let leaves = 0;
  const leafEntry = (box: Float32Array, first: number, count: number): number => {
    if (count <= MAX_LEAF) {
      leaves++;
      return (first << 4 | count) >>> 0;
    }
    // an oversized leaf: interior nodes over its halves, every box the leaf's own
    const j = records.length;
    records.push({ boxes: [box, box], words: [] });
    const half = count >> 1;
    records[j]!.words = [leafEntry(box, first, half), leafEntry(box, first + half, count - half)];
    return j << 4;
  };
  const stack: [number, number][] = [];
  const seen = new Uint8Array(nodeCount);
  const entryOf = (i: number): number => {
    // each node once: render data whose BVH is not a tree (shared subtrees) would expand without bound
    if (i >= nodeCount || seen[i]) throw new RangeError(NOT_A_TREE);
    seen[i] = 1;
    const count = u[i * NODE.words + N.count]!, first = u[i * NODE.words + N.first]!;
    if (count > 0) {
      if (first + count > triCount) throw new RangeError(NOT_A_TREE);
      return leafEntry(boxOf(i), first, count);
    }
    const j = records.length;
    records.push({ boxes: [], words: [] });
    stack.push([i, j]);
    return j << 4;
  };
  const start = triCount > 0 && nodeCount > 0 ? entryOf(0) : EMPTY_ENTRY;
  // depth first with an explicit stack: render data from a peer may be a deep chain
  while (stack.length > 0) {
    const [i, j] = stack.pop()!;
    const first = u[i * NODE.words + N.first]!;
    records[j] = { boxes: [boxOf(first), boxOf(first + 1)], words: [entryOf(first), entryOf(first + 1)] };
  }
  if (records.length > MAX_INDEX) {
    throw new RangeError(`Cannot trace a BVH of ${records.length} interior nodes: at most ${MAX_INDEX}`);
  }
  const triBase = RECORD_TEXELS * (records.length + 1);
  const texels = new Uint32Array((triBase + RECORD_TEXELS * triCount) * 4);
  const tf = new Float32Array(texels.buffer);
  const min = (b: Float32Array) => b.subarray(N.bmin, N.bmin + 3);
  const max = (b: Float32Array) => b.subarray(N.bmax, N.bmax + 3);
  TRAVERSAL_HEADER.write(texels, 0, {
    ...(nodeCount > 0 ? { root_min: min(boxOf(0)), root_max: max(boxOf(0)) } : {}),
    root_entry: start,
    max_steps: records.length + triCount,
    triangle_texel: triBase,
  });
  // interior nodes by word offsets (millions of them in large scenes)
  const T = TRAVERSAL_NODE.word;
  records.forEach(({ boxes, words }, j) => {
    const at = (j + 1) * TRAVERSAL_NODE.words;
    tf.set(min(boxes[0]!), at + T.a_min);
    texels[at + T.a_entry] = words[0]!;
    tf.set(max(boxes[0]!), at + T.a_max);
    tf.set(min(boxes[1]!), at + T.b_min);
    texels[at + T.b_entry] = words[1]!;
    tf.set(max(boxes[1]!), at + T.b_max);
  });
  const src = new Uint32Array(data.triangles.buffer, data.triangles.byteOffset, data.triangles.length);
  for (let i = 0; i < triCount; i++) {
    texels.set(src.subarray(i * TRI.words, (i + 1) * TRI.words), (triBase + RECORD_TEXELS * i) * 4);
  }
  return { texels, interior: records.length };
}

/**
 * log2 of the row width a traversal texture of `texels` texels takes on a device whose 2D textures are at most
 * `maxDimension` texels a side: 12 (4096 texels), or more for a scene that would be taller than that.
 * @throws {RangeError} when even square rows of `maxDimension` texels would not hold it
 */
export function textureShift(texels: number, maxDimension: number): number {
  for (let shift = MIN_SHIFT; 2 ** shift <= maxDimension; shift++) {
    if (Math.ceil(texels / 2 ** shift) <= maxDimension) return shift;
  }
  throw new RangeError(
    `Cannot render scene: its BVH and triangles need ${texels} texels of 16 bytes and the GPU's largest texture holds ${
      maxDimension * maxDimension
    }`,
  );
}

/**
 * Uploads the traversal layout as a texture (the scene_texels binding of the kernels that trace) with rows of 2^`shift`
 * texels: by default the narrowest that fits the device ({@linkcode textureShift}). The kernels take the
 * shift as their TEXEL_ROW_SHIFT.
 * @throws {RangeError} when the device's largest texture cannot hold the layout
 */
export function traversalTexture(
  device: GPUDevice,
  layout: TraversalLayout,
  shift: number = textureShift(layout.texels.length / 4, device.limits.maxTextureDimension2D),
): { texture: GPUTexture; shift: number } {
  const width = 2 ** shift;
  const rows = Math.max(1, Math.ceil(layout.texels.length / 4 / width));
  const texels = new Uint32Array(rows * width * 4);
  texels.set(layout.texels);
  const texture = device.createTexture({
    label: "BVH and triangle texels",
    size: [width, rows],
    format: "rgba32uint",
    usage: GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.COPY_DST,
  });
  device.queue.writeTexture({ texture }, texels, { bytesPerRow: width * 16, rowsPerImage: rows }, [
    width,
    rows,
  ]);
  return { texture, shift };
}
