import type { Mesh, Vec3 } from "./types.ts";

/** Options of {@linkcode uvSphere}. */
export interface SphereOptions {
  /** Segments around the axis. */
  segments?: number;
  /** Rings from pole to pole. */
  rings?: number;
  /** Radial displacement as a function of the unit direction, added to the radius. */
  displace?: (x: number, y: number, z: number) => number;
}

const defaults = { segments: 48, rings: 24 } satisfies SphereOptions;

/**
 * A closed, outward-facing UV sphere.
 * @returns a mesh of `segments * rings * 2` triangles (poles included as degenerate-free fans)
 */
export function uvSphere(center: Vec3, radius: number, material: number, options: SphereOptions = {}): Mesh {
  const { segments, rings, displace } = { ...defaults, ...options };
  const positions = new Float32Array((rings + 1) * (segments + 1) * 3);
  let p = 0;
  for (let r = 0; r <= rings; r++) {
    const theta = Math.PI * r / rings;
    for (let s = 0; s <= segments; s++) {
      const phi = 2 * Math.PI * (s % segments) / segments;
      const x = Math.sin(theta) * Math.cos(phi), y = Math.cos(theta), z = Math.sin(theta) * Math.sin(phi);
      const rad = radius + (displace ? displace(x, y, z) : 0);
      positions[p++] = center[0] + rad * x;
      positions[p++] = center[1] + rad * y;
      positions[p++] = center[2] + rad * z;
    }
  }
  const indices: number[] = [];
  for (let r = 0; r < rings; r++) {
    for (let s = 0; s < segments; s++) {
      const a = r * (segments + 1) + s, b = a + segments + 1;
      // outward winding: (a, a+1, b) has normal away from the centre
      if (r > 0) indices.push(a, a + 1, b);
      if (r < rings - 1) indices.push(a + 1, b + 1, b);
    }
  }
  return { positions, indices: new Uint32Array(indices), material };
}
