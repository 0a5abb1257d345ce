import type { Bvh } from "./bvh.ts";

/** The closest hit of a ray cast on the CPU. */
export interface CpuHit {
  /** Distance along the unit direction. */
  t: number;
  /** Input triangle index (before BVH order). */
  triangle: number;
  /** Whether the ray meets the triangle's front (counter-clockwise) side. */
  front: boolean;
}

/**
 * Casts rays against triangles through their BVH on the CPU: for the few rays scene set-up needs (the
 * automatic camera's look around), where starting the GPU would cost more than the rays.
 */
export class RayCaster {
  #soup: Float32Array;
  #f: Float32Array;
  #u: Uint32Array;
  #order: Uint32Array;
  #stack = new Uint32Array(128);

  /**
   * @param soup 9 floats per triangle (three xyz vertices), the array the BVH was built from
   * @param bvh its BVH
   */
  constructor(soup: Float32Array, bvh: Bvh) {
    this.#soup = soup;
    this.#f = new Float32Array(bvh.nodes);
    this.#u = new Uint32Array(bvh.nodes);
    this.#order = bvh.order;
  }

  /** The closest hit of the ray from `o` along unit `d` within `tMax`, or undefined. */
  cast(o: readonly number[], d: readonly number[], tMax = Infinity): CpuHit | undefined {
    const f = this.#f, u = this.#u, s = this.#soup, stack = this.#stack;
    if (f.length < 8 || this.#order.length === 0) return undefined;
    const ox = o[0]!, oy = o[1]!, oz = o[2]!, dx = d[0]!, dy = d[1]!, dz = d[2]!;
    // a zero component would make (plane - origin) * (1 / 0) NaN for an origin on that plane, and NaN culls
    const ix = 1 / (dx || 1e-30), iy = 1 / (dy || 1e-30), iz = 1 / (dz || 1e-30);
    let best = tMax, bestTri = -1, bestFront = false;
    let top = 0;
    stack[top++] = 0;
    while (top > 0) {
      const node = stack[--top]!, b = node * 8;
      // slab test
      let t0 = 0, t1 = best;
      let a = (f[b]! - ox) * ix, c = (f[b + 4]! - ox) * ix;
      t0 = Math.max(t0, Math.min(a, c)), t1 = Math.min(t1, Math.max(a, c));
      a = (f[b + 1]! - oy) * iy, c = (f[b + 5]! - oy) * iy;
      t0 = Math.max(t0, Math.min(a, c)), t1 = Math.min(t1, Math.max(a, c));
      a = (f[b + 2]! - oz) * iz, c = (f[b + 6]! - oz) * iz;
      t0 = Math.max(t0, Math.min(a, c)), t1 = Math.min(t1, Math.max(a, c));
      if (!(t0 <= t1)) continue;
      const first = u[b + 3]!, count = u[b + 7]!;
      if (count === 0) {
        if (top + 2 > stack.length) continue;
        stack[top++] = first;
        stack[top++] = first + 1;
        continue;
      }
      for (let i = first; i < first + count; i++) {
        const tri = this.#order[i]!, p = tri * 9;
        // Möller-Trumbore
        const e1x = s[p + 3]! - s[p]!, e1y = s[p + 4]! - s[p + 1]!, e1z = s[p + 5]! - s[p + 2]!;
        const e2x = s[p + 6]! - s[p]!, e2y = s[p + 7]! - s[p + 1]!, e2z = s[p + 8]! - s[p + 2]!;
        const px = dy * e2z - dz * e2y, py = dz * e2x - dx * e2z, pz = dx * e2y - dy * e2x;
        const det = e1x * px + e1y * py + e1z * pz;
        if (det === 0) continue;
        const inv = 1 / det;
        const tx = ox - s[p]!, ty = oy - s[p + 1]!, tz = oz - s[p + 2]!;
        const uu = (tx * px + ty * py + tz * pz) * inv;
        if (uu < 0 || uu > 1) continue;
        const qx = ty * e1z - tz * e1y, qy = tz * e1x - tx * e1z, qz = tx * e1y - ty * e1x;
        const vv = (dx * qx + dy * qy + dz * qz) * inv;
        if (vv < 0 || uu + vv > 1) continue;
        const t = (e2x * qx + e2y * qy + e2z * qz) * inv;
        if (t > 0 && t < best) {
          best = t, bestTri = tri;
          // det = dot(e1, d x e2) = -dot(d, e1 x e2): positive when d meets the front side
          bestFront = det > 0;
        }
      }
    }
    return bestTri < 0 ? undefined : { t: best, triangle: bestTri, front: bestFront };
  }
}
