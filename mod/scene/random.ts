/** A seeded uniform generator in [0, 1) (mulberry32): the same seed gives the same sequence. */
export function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A seeded triangle soup in the cube [0, 100]³ (for tests and benchmarks).
 * @returns 9 floats per triangle
 */
export function randomTriangles(count: number, seed: number, size = 6): Float32Array {
  const rand = mulberry32(seed);
  const soup = new Float32Array(count * 9);
  for (let i = 0; i < count; i++) {
    const c = [rand() * 100, rand() * 100, rand() * 100];
    for (let k = 0; k < 9; k++) soup[i * 9 + k] = c[k % 3]! + (rand() - 0.5) * size;
  }
  return soup;
}
