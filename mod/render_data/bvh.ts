import { NODE } from "../gpu_layout/mod.ts";

/** Bytes of one flattened BVH node (a NODE record: bmin, first, bmax, count). */
export const NODE_BYTES = NODE.size;
/** NODE's words, by field. */
const BMIN = NODE.word.bmin, FIRST = NODE.word.first, BMAX = NODE.word.bmax, COUNT = NODE.word.count;
/** Deepest level the builder makes; the GPU traversal stack holds 64 entries. */
export const MAX_DEPTH = 60;

/** A flattened bounding volume hierarchy over triangles. */
export interface Bvh {
  /** NODE_BYTES per node; node 0 is the root, an interior node's children are `first` and `first + 1`. */
  nodes: ArrayBuffer;
  /** Number of nodes. */
  nodeCount: number;
  /** Triangle order: leaf ranges index this array, whose values are input triangle indices. */
  order: Uint32Array;
}

/** Options of {@linkcode buildBvh}. */
export interface BvhOptions {
  /** SAH bins per axis. */
  bins?: number;
  /** Largest leaf the SAH may choose. */
  maxLeafSize?: number;
}

const defaults = { bins: 16, maxLeafSize: 8 } satisfies BvhOptions;
const TRAVERSAL_COST = 1.0;

/**
 * Builds a BVH with the binned surface area heuristic.
 * @param triangles 9 floats per triangle (three xyz vertices)
 * @example
 * ```ts
 * const bvh = buildBvh(new Float32Array([0, 0, 0, 1, 0, 0, 0, 1, 0]));
 * ```
 */
export function buildBvh(triangles: Float32Array, options: BvhOptions = {}): Bvh {
  const { bins, maxLeafSize } = { ...defaults, ...options };
  const n = triangles.length / 9;
  if (!Number.isInteger(n)) {
    throw new RangeError(`Cannot build a BVH: ${triangles.length} floats is not 9 per triangle`);
  }
  const boxes = new Float32Array(n * 6);
  const centers = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < 3; a++) {
      const x = triangles[i * 9 + a]!, y = triangles[i * 9 + 3 + a]!, z = triangles[i * 9 + 6 + a]!;
      const lo = Math.min(x, y, z), hi = Math.max(x, y, z);
      boxes[i * 6 + a] = lo;
      boxes[i * 6 + 3 + a] = hi;
      centers[i * 3 + a] = (lo + hi) * 0.5;
    }
  }
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;

  const capacity = Math.max(1, 2 * n - 1);
  const nodes = new ArrayBuffer(capacity * NODE_BYTES);
  const f = new Float32Array(nodes);
  const u = new Uint32Array(nodes);
  let nodeCount = 1;

  // per-bin scratch
  const binBox = new Float64Array(bins * 6);
  const binCount = new Uint32Array(bins);
  const rightArea = new Float64Array(bins);
  const rightCount = new Uint32Array(bins);

  const stack: number[] = [0, 0, n, 0]; // node, start, end, depth
  while (stack.length > 0) {
    const depth = stack.pop()!, end = stack.pop()!, start = stack.pop()!, node = stack.pop()!;
    // bounds of triangles and of their centres
    let bx0 = Infinity, by0 = Infinity, bz0 = Infinity, bx1 = -Infinity, by1 = -Infinity, bz1 = -Infinity;
    let cx0 = Infinity, cy0 = Infinity, cz0 = Infinity, cx1 = -Infinity, cy1 = -Infinity, cz1 = -Infinity;
    for (let i = start; i < end; i++) {
      const t = order[i]!, b = t * 6, c = t * 3;
      bx0 = Math.min(bx0, boxes[b]!), by0 = Math.min(by0, boxes[b + 1]!), bz0 = Math.min(bz0, boxes[b + 2]!);
      bx1 = Math.max(bx1, boxes[b + 3]!),
        by1 = Math.max(by1, boxes[b + 4]!),
        bz1 = Math.max(bz1, boxes[b + 5]!);
      const x = centers[c]!, y = centers[c + 1]!, z = centers[c + 2]!;
      cx0 = Math.min(cx0, x), cy0 = Math.min(cy0, y), cz0 = Math.min(cz0, z);
      cx1 = Math.max(cx1, x), cy1 = Math.max(cy1, y), cz1 = Math.max(cz1, z);
    }
    const o = node * NODE.words;
    if (end === start) {
      bx0 =
        by0 =
        bz0 =
        bx1 =
        by1 =
        bz1 =
          0;
    }
    f[o + BMIN] = bx0, f[o + BMIN + 1] = by0, f[o + BMIN + 2] = bz0;
    f[o + BMAX] = bx1, f[o + BMAX + 1] = by1, f[o + BMAX + 2] = bz1;
    const count = end - start;
    const makeLeaf = () => {
      u[o + FIRST] = start;
      u[o + COUNT] = count;
    };
    if (count <= 2 || depth >= MAX_DEPTH) {
      makeLeaf();
      continue;
    }
    const parentArea = area(bx1 - bx0, by1 - by0, bz1 - bz0);
    let bestCost = Infinity, bestAxis = -1, bestSplit = 0;
    const cmin = [cx0, cy0, cz0], cmax = [cx1, cy1, cz1];
    for (let axis = 0; axis < 3; axis++) {
      const lo = cmin[axis]!, extent = cmax[axis]! - lo;
      if (!(extent > 0)) continue;
      const scale = bins / extent;
      binBox.fill(Infinity);
      for (let k = 0; k < bins; k++) for (let a = 3; a < 6; a++) binBox[k * 6 + a] = -Infinity;
      binCount.fill(0);
      for (let i = start; i < end; i++) {
        const t = order[i]!;
        const k = Math.min(bins - 1, Math.floor((centers[t * 3 + axis]! - lo) * scale));
        binCount[k]!++;
        const b = t * 6, q = k * 6;
        for (let a = 0; a < 3; a++) {
          binBox[q + a] = Math.min(binBox[q + a]!, boxes[b + a]!);
          binBox[q + 3 + a] = Math.max(binBox[q + 3 + a]!, boxes[b + 3 + a]!);
        }
      }
      // sweep from the right, then from the left
      let rx0 = Infinity,
        ry0 = Infinity,
        rz0 = Infinity,
        rx1 = -Infinity,
        ry1 = -Infinity,
        rz1 = -Infinity,
        rc = 0;
      for (let k = bins - 1; k > 0; k--) {
        const q = k * 6;
        rc += binCount[k]!;
        if (binCount[k]! > 0) {
          rx0 = Math.min(rx0, binBox[q]!),
            ry0 = Math.min(ry0, binBox[q + 1]!),
            rz0 = Math.min(rz0, binBox[q + 2]!);
          rx1 = Math.max(rx1, binBox[q + 3]!),
            ry1 = Math.max(ry1, binBox[q + 4]!),
            rz1 = Math.max(rz1, binBox[q + 5]!);
        }
        rightCount[k] = rc;
        rightArea[k] = rc > 0 ? area(rx1 - rx0, ry1 - ry0, rz1 - rz0) : 0;
      }
      let lx0 = Infinity,
        ly0 = Infinity,
        lz0 = Infinity,
        lx1 = -Infinity,
        ly1 = -Infinity,
        lz1 = -Infinity,
        lc = 0;
      for (let k = 0; k < bins - 1; k++) {
        const q = k * 6;
        lc += binCount[k]!;
        if (binCount[k]! > 0) {
          lx0 = Math.min(lx0, binBox[q]!),
            ly0 = Math.min(ly0, binBox[q + 1]!),
            lz0 = Math.min(lz0, binBox[q + 2]!);
          lx1 = Math.max(lx1, binBox[q + 3]!),
            ly1 = Math.max(ly1, binBox[q + 4]!),
            lz1 = Math.max(lz1, binBox[q + 5]!);
        }
        const r = rightCount[k + 1]!;
        if (lc === 0 || r === 0) continue;
        const cost = TRAVERSAL_COST +
          (area(lx1 - lx0, ly1 - ly0, lz1 - lz0) * lc + rightArea[k + 1]! * r) / Math.max(parentArea, 1e-30);
        if (cost < bestCost) bestCost = cost, bestAxis = axis, bestSplit = k + 1;
      }
    }
    let mid: number;
    if (bestAxis < 0) {
      // every centre coincides: split the range in half, or keep a small leaf
      if (count <= maxLeafSize) {
        makeLeaf();
        continue;
      }
      mid = start + (count >> 1);
    } else {
      if (bestCost >= count && count <= maxLeafSize) {
        makeLeaf();
        continue;
      }
      const lo = cmin[bestAxis]!, scale = bins / (cmax[bestAxis]! - lo);
      let i = start, j = end - 1;
      while (i <= j) {
        const t = order[i]!;
        const k = Math.min(bins - 1, Math.floor((centers[t * 3 + bestAxis]! - lo) * scale));
        if (k < bestSplit) i++;
        else {
          order[i] = order[j]!;
          order[j] = t;
          j--;
        }
      }
      mid = i;
      if (mid === start || mid === end) mid = start + (count >> 1);
    }
    const left = nodeCount;
    nodeCount += 2;
    u[o + FIRST] = left;
    u[o + COUNT] = 0;
    stack.push(left + 1, mid, end, depth + 1, left, start, mid, depth + 1);
  }
  return { nodes: nodes.slice(0, nodeCount * NODE_BYTES), nodeCount, order };
}

function area(x: number, y: number, z: number): number {
  return 2 * (x * y + y * z + z * x);
}
