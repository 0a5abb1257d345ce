import type { Camera, Mesh, Vec3 } from "./types.ts";

/** The closest hit of one ray: its distance (Infinity on a miss) and whether it met the triangle's front. */
export interface CpuHit {
  /** Distance along the unit direction; Infinity on a miss. */
  t: number;
  /** The hit triangle's front face (counter-clockwise winding, as glTF defines it) faces the ray's origin. */
  front: boolean;
}

/**
 * Closest hits of rays from one origin against every triangle, on the CPU by brute force (the automatic
 * camera casts a few hundred rays once per load; no BVH exists yet at that point).
 */
export function castRays(meshes: Mesh[], origin: Vec3, dirs: Vec3[]): CpuHit[] {
  const hits: CpuHit[] = dirs.map(() => ({ t: Infinity, front: false }));
  const [ox, oy, oz] = origin;
  for (const m of meshes) {
    const p = m.positions, idx = m.indices;
    for (let i = 0; i + 2 < idx.length; i += 3) {
      const a = idx[i]! * 3, b = idx[i + 1]! * 3, c = idx[i + 2]! * 3;
      const ax = p[a]!, ay = p[a + 1]!, az = p[a + 2]!;
      const e1x = p[b]! - ax, e1y = p[b + 1]! - ay, e1z = p[b + 2]! - az;
      const e2x = p[c]! - ax, e2y = p[c + 1]! - ay, e2z = p[c + 2]! - az;
      // geometric normal e1 × e2, and the origin's offset from the first vertex
      const nx = e1y * e2z - e1z * e2y, ny = e1z * e2x - e1x * e2z, nz = e1x * e2y - e1y * e2x;
      const sx = ox - ax, sy = oy - ay, sz = oz - az;
      const sn = sx * nx + sy * ny + sz * nz;
      // Cramer's rule on [−d, e1, e2]·(t, u, v) = s, whose determinant is −d·n: t = (s·n) / (−d·n)
      const qx = sy * e1z - sz * e1y, qy = sz * e1x - sx * e1z, qz = sx * e1y - sy * e1x;
      const rx = e2y * sz - e2z * sy, ry = e2z * sx - e2x * sz, rz = e2x * sy - e2y * sx;
      for (let k = 0; k < dirs.length; k++) {
        const d = dirs[k]!;
        const det = -(d[0] * nx + d[1] * ny + d[2] * nz);
        if (det === 0) continue;
        const t = sn / det;
        const hit = hits[k]!;
        if (!(t > 1e-9 && t < hit.t)) continue;
        // barycentrics (Cramer's rule): u = d·(e2 × s) / det, v = d·(s × e1) / det
        const u = (d[0] * rx + d[1] * ry + d[2] * rz) / det;
        if (u < 0 || u > 1) continue;
        const v = (d[0] * qx + d[1] * qy + d[2] * qz) / det;
        if (v < 0 || u + v > 1) continue;
        hit.t = t;
        hit.front = det > 0;
      }
    }
  }
  return hits;
}

/** `n` unit directions spread evenly over the sphere (a Fibonacci lattice): the same every time. */
export function sphereDirections(n: number): Vec3[] {
  const golden = Math.PI * (3 - Math.sqrt(5));
  return Array.from({ length: n }, (_, i) => {
    const y = 1 - (2 * i + 1) / n;
    const r = Math.sqrt(1 - y * y);
    return [Math.cos(golden * i) * r, y, Math.sin(golden * i) * r] as Vec3;
  });
}

/** How many directions the interior test casts from each candidate point. */
export const INTERIOR_RAYS = 128;
/** The share of them that must meet a front face for the scene to count as an interior. */
export const INTERIOR_SHARE = 0.75;
/** A candidate point that sees more backs of faces than this share is inside a solid or a closed object. */
const BACK_SHARE = 0.25;
/** The interior camera's eye height above the floor, in scene units (glTF's metres). */
export const EYE_HEIGHT = 1.6;
/** The interior camera's vertical field of view in degrees. */
export const INTERIOR_FOV = 60;

type Bounds = { min: Vec3; max: Vec3 };

/**
 * The share of rays from `origin` (over {@linkcode INTERIOR_RAYS} even directions) whose first hit is a
 * front face, or 0 where more than a quarter meet the backs of faces. An interior (a room, a flat)
 * surrounds a point in it with surfaces facing in; a closed object (a car body, a bottle) also surrounds
 * its centre, but shows it the backs of its faces, as does the inside of a wall.
 */
export function enclosure(meshes: Mesh[], origin: Vec3): number {
  const hits = castRays(meshes, origin, sphereDirections(INTERIOR_RAYS));
  const back = hits.filter((h) => !h.front && Number.isFinite(h.t)).length;
  if (back > BACK_SHARE * hits.length) return 0;
  return hits.filter((h) => h.front).length / hits.length;
}

/**
 * The point of an interior to stand at: the centre of the bounds, or where the centre is inside a wall or
 * furniture (or sees out), the most enclosed of a 3×3 grid across the bounds at the centre's height; none
 * where no point is enclosed by at least {@linkcode INTERIOR_SHARE} of its directions.
 */
export function interiorPoint(meshes: Mesh[], bounds: Bounds): Vec3 | undefined {
  const { min, max } = bounds;
  const at = (fx: number, fz: number): Vec3 => [
    min[0] + fx * (max[0] - min[0]),
    (min[1] + max[1]) / 2,
    min[2] + fz * (max[2] - min[2]),
  ];
  const centre = at(0.5, 0.5);
  const first = enclosure(meshes, centre);
  if (first >= INTERIOR_SHARE) return centre;
  let best = { share: first, point: centre };
  for (const fx of [0.25, 0.5, 0.75]) {
    for (const fz of [0.25, 0.5, 0.75]) {
      if (fx === 0.5 && fz === 0.5) continue;
      const point = at(fx, fz);
      const share = enclosure(meshes, point);
      if (share > best.share) best = { share, point };
    }
  }
  return best.share >= INTERIOR_SHARE ? best.point : undefined;
}

/**
 * A camera inside the scene when it is an interior (see {@linkcode interiorPoint}), else undefined: at eye
 * height above the floor under that point (or 60% of the way up to the ceiling in a low room), backed off
 * along the longest horizontal axis toward the side with more free space (an open side of a box: its
 * opening) and looking back along that axis into the room.
 */
export function interiorCamera(meshes: Mesh[], bounds: Bounds): Camera | undefined {
  const point = interiorPoint(meshes, bounds);
  if (!point) return undefined;
  const { min, max } = bounds;
  const [down, up] = castRays(meshes, point, [[0, -1, 0], [0, 1, 0]]);
  const floor = Number.isFinite(down!.t) ? point[1] - down!.t : min[1];
  const ceiling = Number.isFinite(up!.t) ? point[1] + up!.t : max[1];
  const eyeY = floor + Math.min(EYE_HEIGHT, 0.6 * (ceiling - floor));
  const eye: Vec3 = [point[0], eyeY, point[2]];
  const a = max[0] - min[0] >= max[2] - min[2] ? 0 : 2;
  const extent = max[a]! - min[a]!;
  const plus: Vec3 = a === 0 ? [1, 0, 0] : [0, 0, 1];
  const minus: Vec3 = a === 0 ? [-1, 0, 0] : [0, 0, -1];
  const [hitPlus, hitMinus] = castRays(meshes, eye, [plus, minus]);
  // free room each way, within the bounds
  const roomPlus = Math.min(hitPlus!.t, max[a]! - eye[a]!);
  const roomMinus = Math.min(hitMinus!.t, eye[a]! - min[a]!);
  const backwards = hitMinus!.t > hitPlus!.t || (hitMinus!.t === hitPlus!.t && roomMinus >= roomPlus);
  const [back, look, behind, ahead] = backwards
    ? [minus, plus, roomMinus, roomPlus]
    : [plus, minus, roomPlus, roomMinus];
  // back off toward the wall (or opening) behind, keeping clear of it: more of the room is in view
  const step = Math.max(0, Math.min(0.8 * behind, behind - 0.05 * extent));
  const position: Vec3 = [eye[0] + back[0] * step, eyeY, eye[2] + back[2] * step];
  const distance = step + Math.max(ahead / 2, 0.05 * extent);
  const target: Vec3 = [position[0] + look[0] * distance, eyeY, position[2] + look[2] * distance];
  const scale = Math.hypot(max[0] - min[0], max[1] - min[1], max[2] - min[2]);
  return {
    position: position.map((x) => roundTo(x, scale)) as Vec3,
    target: target.map((x) => roundTo(x, scale)) as Vec3,
    up: [0, 1, 0],
    fovY: INTERIOR_FOV,
    lensRadius: 0,
    focusDistance: distance,
  };
}

/**
 * `x` rounded to four significant digits of `scale` (the scene's size), so that the camera the render
 * prints as flags reads short and, passed back, is exactly the same camera.
 */
export function roundTo(x: number, scale: number): number {
  const digits = Math.min(20, Math.max(0, 3 - Math.floor(Math.log10(Math.max(scale, 1e-12)))));
  return Number(x.toFixed(digits));
}
