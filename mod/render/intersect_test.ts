import assert from "node:assert/strict";
import { openGpu } from "../gpu/mod.ts";
import { TRI } from "../gpu_layout/mod.ts";
import { compileScene, type RenderData } from "../render_data/mod.ts";
import { loadScene, material, mulberry32, randomTriangles, type Scene } from "../scene/mod.ts";
import { intersectRays } from "./intersect.ts";
import { textureShift } from "./traversal.ts";

/** Brute-force closest hit over every triangle (double precision Möller-Trumbore). */
function bruteForce(
  tris: Float32Array,
  count: number,
  o: number[],
  d: number[],
): { t: number; triangle: number } {
  let best = { t: Infinity, triangle: -1 };
  for (let i = 0; i < count; i++) {
    const tri = TRI.read(tris, i);
    const v0 = tri.v0;
    const e1 = tri.v1.map((x, k) => x - v0[k]!);
    const e2 = tri.v2.map((x, k) => x - v0[k]!);
    const p = [
      d[1]! * e2[2]! - d[2]! * e2[1]!,
      d[2]! * e2[0]! - d[0]! * e2[2]!,
      d[0]! * e2[1]! - d[1]! * e2[0]!,
    ];
    const det = e1[0]! * p[0]! + e1[1]! * p[1]! + e1[2]! * p[2]!;
    if (Math.abs(det) < 1e-20) continue;
    const s = [o[0]! - v0[0]!, o[1]! - v0[1]!, o[2]! - v0[2]!];
    const u = (s[0]! * p[0]! + s[1]! * p[1]! + s[2]! * p[2]!) / det;
    if (u < 0 || u > 1) continue;
    const q = [
      s[1]! * e1[2]! - s[2]! * e1[1]!,
      s[2]! * e1[0]! - s[0]! * e1[2]!,
      s[0]! * e1[1]! - s[1]! * e1[0]!,
    ];
    const v = (d[0]! * q[0]! + d[1]! * q[1]! + d[2]! * q[2]!) / det;
    if (v < 0 || u + v > 1) continue;
    const t = (e2[0]! * q[0]! + e2[1]! * q[1]! + e2[2]! * q[2]!) / det;
    if (t > 0 && t < best.t) best = { t, triangle: i };
  }
  return best;
}

/**
 * The GPU's hits of `rays` (6 floats each) against brute force over every triangle of `data`: how many rays
 * hit, and how many disagree on the triangle (a tie within float precision between two triangles at the same
 * distance is not a traversal bug). Where they agree the distances must too.
 */
function compareHits(
  data: RenderData,
  rays: Float32Array,
  hits: { t: number; triangle: number }[],
): { hitCount: number; mismatches: number } {
  const n = TRI.count(data.triangles);
  let hitCount = 0, mismatches = 0;
  for (let i = 0; i < hits.length; i++) {
    const ref = bruteForce(data.triangles, n, [...rays.subarray(i * 6, i * 6 + 3)], [
      ...rays.subarray(i * 6 + 3, i * 6 + 6),
    ]);
    const got = hits[i]!;
    if (ref.triangle >= 0) hitCount++;
    const same = got.triangle === ref.triangle ||
      (got.triangle >= 0 && ref.triangle >= 0 && Math.abs(got.t - ref.t) <= 1e-4 * Math.max(1, ref.t));
    if (!same) mismatches++;
    else if (ref.triangle >= 0) {
      assert.ok(Math.abs(got.t - ref.t) <= 1e-3 * Math.max(1, ref.t), `ray ${i}: t ${got.t} vs ${ref.t}`);
    }
  }
  return { hitCount, mismatches };
}

/** A scene of one mesh of the triangles of `soup` (9 floats each), seen from in front of the 100-unit cube. */
function soupScene(soup: Float32Array): Scene {
  const n = soup.length / 9;
  return {
    materials: [material({})],
    textures: [],
    meshes: [{ positions: soup, indices: Uint32Array.from({ length: n * 3 }, (_, i) => i), material: 0 }],
    camera: {
      position: [50, 50, -100],
      target: [50, 50, 50],
      up: [0, 1, 0],
      fovY: 45,
      lensRadius: 0,
      focusDistance: 1,
    },
    environment: { color: [0, 0, 0] },
  };
}

Deno.test("GPU BVH traversal finds the same closest hits as brute force", async () => {
  const n = 3000;
  const data = compileScene(soupScene(randomTriangles(n, 11, 20)));
  const rand = mulberry32(3);
  const count = 4000;
  const rays = new Float32Array(count * 6);
  for (let i = 0; i < count; i++) {
    // origins inside and around the cloud, directions uniform on the sphere
    const o = [rand() * 140 - 20, rand() * 140 - 20, rand() * 140 - 20];
    const z = rand() * 2 - 1, phi = rand() * 2 * Math.PI, r = Math.sqrt(1 - z * z);
    rays.set([...o, r * Math.cos(phi), r * Math.sin(phi), z], i * 6);
  }
  const gpu = await openGpu();
  try {
    const { hitCount, mismatches } = compareHits(data, rays, await intersectRays(gpu, data, rays));
    assert.ok(hitCount > count / 4, `enough rays hit (${hitCount})`);
    // f32 on the GPU against f64 here: a grazing ray may disagree at a shared edge, nothing more
    assert.ok(mismatches <= count * 0.001, `${mismatches} of ${count} rays disagree`);
  } finally {
    gpu.device.destroy();
  }
});

/**
 * Rays from random points in and around the scene's bounds in random directions, and from its camera through
 * random points of the image; their GPU hits (traversal layout) against brute force.
 * @returns rays that hit something
 */
async function checkAgainstBruteForce(
  data: RenderData,
  count: number,
  seed: number,
  rowShift?: number,
): Promise<number> {
  const tris = data.triangles, n = TRI.count(tris);
  const lo = [Infinity, Infinity, Infinity], hi = [-Infinity, -Infinity, -Infinity];
  for (let i = 0; i < n; i++) {
    for (let v = 0; v < 3; v++) {
      for (let c = 0; c < 3; c++) {
        const x = tris[i * TRI.words + [TRI.word.v0, TRI.word.v1, TRI.word.v2][v]! + c]!;
        lo[c] = Math.min(lo[c]!, x), hi[c] = Math.max(hi[c]!, x);
      }
    }
  }
  const rand = mulberry32(seed);
  const rays = new Float32Array(count * 6);
  const cam = data.camera;
  for (let i = 0; i < count; i++) {
    let o: number[], d: number[];
    if (i % 2 === 0) {
      o = [0, 1, 2].map((c) => lo[c]! + (hi[c]! - lo[c]!) * (rand() * 1.2 - 0.1));
      const z = rand() * 2 - 1, phi = rand() * 2 * Math.PI, r = Math.sqrt(1 - z * z);
      d = [r * Math.cos(phi), r * Math.sin(phi), z];
    } else {
      // camera: position, tan(fov/2), right, lens, up, focus, forward (render-data camera layout)
      const sx = (rand() * 2 - 1) * cam[3]!, sy = (rand() * 2 - 1) * cam[3]!;
      o = [cam[0]!, cam[1]!, cam[2]!];
      d = [0, 1, 2].map((c) => cam[12 + c]! + sx * cam[4 + c]! + sy * cam[8 + c]!);
      const len = Math.hypot(d[0]!, d[1]!, d[2]!);
      d = d.map((x) => x / len);
    }
    rays.set([...o, ...d], i * 6);
  }
  const gpu = await openGpu();
  try {
    const hits = await intersectRays(gpu, data, rays, rowShift === undefined ? {} : { rowShift });
    const { hitCount, mismatches } = compareHits(data, rays, hits);
    assert.ok(mismatches <= count * 0.002, `${mismatches} of ${count} rays disagree`);
    return hitCount;
  } finally {
    gpu.device.destroy();
  }
}

Deno.test("the traversal layout finds brute force's closest hits on the shared scenes' rays", async () => {
  for (const file of ["cornell-box/CornellBox-Original.obj", "water-bottle/WaterBottle.gltf"]) {
    const data = compileScene(
      await loadScene(new URL(`../../../shared/scenes/${file}`, import.meta.url).pathname),
    );
    const hits = await checkAgainstBruteForce(data, 1500, 7);
    assert.ok(hits > 500, `${file}: ${hits} of 1500 rays hit`);
  }
});

Deno.test("leaves of more than 15 triangles (render data from another builder) are traversed whole", async () => {
  const n = 40;
  const data = compileScene(soupScene(randomTriangles(n, 5, 40)));
  // one leaf of all 40 triangles under the root's box
  const nodes = new ArrayBuffer(32);
  new Float32Array(nodes).set(new Float32Array(data.nodes, 0, 8));
  new Uint32Array(nodes)[3] = 0;
  new Uint32Array(nodes)[7] = n;
  const hits = await checkAgainstBruteForce({ ...data, nodes, stats: { ...data.stats, nodes: 1 } }, 600, 9);
  assert.ok(hits > 20, `${hits} of 600 rays hit`);
});

Deno.test("a scene too tall for 4096-texel rows takes wider ones: addresses split by the row shift", async () => {
  assert.equal(textureShift(4096 * 8192, 8192), 12);
  assert.equal(textureShift(4096 * 8192 + 1, 8192), 13);
  assert.equal(textureShift(16384 * 16384, 16384), 14);
  assert.throws(() => textureShift(16384 * 16384 + 1, 16384), /largest texture holds 268435456/);
  // the kernel reads the same hits through rows of 8192 and 16384 texels
  const data = compileScene(
    await loadScene(
      new URL("../../../shared/scenes/water-bottle/WaterBottle.gltf", import.meta.url).pathname,
    ),
  );
  for (const shift of [13, 14]) assert.ok(await checkAgainstBruteForce(data, 400, 11, shift) > 100);
});
