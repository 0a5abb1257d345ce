import assert from "node:assert/strict";
import { openGpu } from "../gpu/mod.ts";
import { compileScene } from "../render_data/mod.ts";
import { cornellBox, cornellSpheres, material, type Scene, type Vec3 } from "../scene/mod.ts";
import { quadMesh } from "../scene/cornell.ts";
import { type AovImages, aovMeans } from "./aov.ts";
import { GpuRenderer } from "./gpu_renderer.ts";
import { renderLocal } from "./local.ts";

const gpu = await openGpu();

/** The AOV means of `scene` at `size`x`size`, `spp` samples. */
async function aovsOf(scene: Scene, size: number, spp: number): Promise<AovImages> {
  const r = await renderLocal(gpu, compileScene(scene), { spp, width: size, height: size, aovs: true });
  assert.ok(r.aovs, "AOV sums come back when asked for");
  return aovMeans(r.aovs, r.samples, size, size);
}

function pixel(values: Float32Array, size: number, x: number, y: number): Vec3 {
  const p = (y * size + x) * 3;
  return [values[p]!, values[p + 1]!, values[p + 2]!];
}

function unit(v: Vec3): Vec3 {
  const l = Math.hypot(...v);
  return [v[0] / l, v[1] / l, v[2] / l];
}

function dot(a: Vec3, b: Vec3): number {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

/** Unit normal of triangle abc (the winding's front side). */
function triangleNormal(a: Vec3, b: Vec3, c: Vec3): Vec3 {
  const e1: Vec3 = [b[0] - a[0], b[1] - a[1], b[2] - a[2]];
  const e2: Vec3 = [c[0] - a[0], c[1] - a[1], c[2] - a[2]];
  return unit([e1[1] * e2[2] - e1[2] * e2[1], e1[2] * e2[0] - e1[0] * e2[2], e1[0] * e2[1] - e1[1] * e2[0]]);
}

function assertNear(got: Vec3, want: Vec3, tolerance: number, what: string): void {
  for (let c = 0; c < 3; c++) {
    assert.ok(Math.abs(got[c]! - want[c]!) <= tolerance, `${what}: ${got} instead of ${want}`);
  }
}

Deno.test("AOVs of the Cornell box: each wall's albedo is its colour, each face's normal its unit normal toward the camera", async () => {
  const size = 32;
  const box = cornellBox();
  const { albedo, normal } = await aovsOf(box, size, 4);
  const colour = (i: number) => box.materials[i]!.baseColor as Vec3;
  const camera = box.camera.position;
  // pixels well inside each face (the red wall is on the left, the green on the right)
  const faces: { name: string; pixels: [number, number][]; colour: Vec3; quad: Vec3[] }[] = [
    // (quads as cornell.ts has them; the published ones are not all flat: a pixel sees one of two triangles)
    {
      name: "red wall",
      pixels: [[2, 10], [3, 16], [4, 20]],
      colour: colour(1),
      quad: [[552.8, 0, 0], [549.6, 0, 559.2], [556, 548.8, 559.2], [556, 548.8, 0]],
    },
    {
      name: "green wall",
      pixels: [[28, 10], [29, 16], [27, 20]],
      colour: colour(2),
      quad: [[0, 0, 559.2], [0, 0, 0], [0, 548.8, 0], [0, 548.8, 559.2]],
    },
    {
      name: "floor",
      pixels: [[6, 29], [12, 30], [20, 30], [26, 29]],
      colour: colour(0),
      quad: [[552.8, 0, 0], [0, 0, 0], [0, 0, 559.2], [549.6, 0, 559.2]],
    },
    {
      name: "ceiling",
      pixels: [[8, 2], [16, 2], [22, 3]],
      colour: colour(0),
      quad: [[556, 548.8, 0], [556, 548.8, 227], [0, 548.8, 227], [0, 548.8, 0]],
    },
    {
      name: "back wall",
      pixels: [[12, 9], [20, 8]],
      colour: colour(0),
      quad: [[549.6, 0, 559.2], [0, 0, 559.2], [0, 548.8, 559.2], [556, 548.8, 559.2]],
    },
  ];
  for (const face of faces) {
    const [a, b, c, d] = face.quad as [Vec3, Vec3, Vec3, Vec3];
    const normals = [triangleNormal(a, b, c), triangleNormal(a, c, d)];
    // the face's front side is toward the camera
    for (const n of normals) assert.ok(dot(n, [camera[0] - a[0], camera[1] - a[1], camera[2] - a[2]]) > 0);
    for (const [x, y] of face.pixels) {
      const what = `${face.name} at ${x},${y}`;
      assertNear(pixel(albedo, size, x, y), face.colour, 1e-6, `albedo of the ${what}`);
      const got = pixel(normal, size, x, y);
      assert.ok(Math.abs(Math.hypot(...got) - 1) < 1e-5, `normal of the ${what} is not unit: ${got}`);
      assert.ok(
        normals.some((n) => dot(got, n) > 0.99999),
        `normal of the ${what}: ${got} instead of ${normals.join(" or ")}`,
      );
    }
  }
});

/** A coloured diffuse wall seen through `front` (a quad of material 1) from (0, 0, -5). */
function seenThrough(front: Vec3[], frontMaterial: ReturnType<typeof material>, wall: Vec3[]): Scene {
  return {
    materials: [material({ name: "wall", color: [0.2, 0.5, 0.8] }), frontMaterial],
    meshes: [quadMesh([wall], 0), quadMesh([front], 1)],
    camera: {
      position: [0, 0, -5],
      target: [0, 0, 0],
      up: [0, 1, 0],
      fovY: 12,
      lensRadius: 0,
      focusDistance: 5,
    },
    textures: [],
    // the environment's colour is the wall's: a path reflected off glass into it has the same albedo
    environment: { color: [0.2, 0.5, 0.8] },
  };
}

Deno.test("AOVs through a mirror are those of the surface it reflects", async () => {
  // a mirror in the plane x + z = 0 facing the camera reflects the view to -x, onto a wall facing +x
  const mirror: Vec3[] = [[-1, -1, 1], [-1, 1, 1], [1, 1, -1], [1, -1, -1]];
  const wall: Vec3[] = [[-3, -10, -10], [-3, 10, -10], [-3, 10, 10], [-3, -10, 10]];
  const size = 16;
  const { albedo, normal } = await aovsOf(
    seenThrough(mirror, material({ kind: "conductor", color: [0.95, 0.95, 0.95], roughness: 0 }), wall),
    size,
    4,
  );
  for (let y = 4; y < 12; y++) {
    for (let x = 4; x < 12; x++) {
      assertNear(pixel(albedo, size, x, y), [0.2, 0.5, 0.8], 1e-6, `albedo at ${x},${y}`);
      assertNear(pixel(normal, size, x, y), [1, 0, 0], 1e-5, `normal at ${x},${y}`);
    }
  }
  // a rough metal there keeps its own: the rule follows perfect mirrors only
  const rough = await aovsOf(
    seenThrough(mirror, material({ kind: "conductor", color: [0.9, 0.6, 0.3], roughness: 0.3 }), wall),
    size,
    4,
  );
  assertNear(pixel(rough.albedo, size, 8, 8), [0.9, 0.6, 0.3], 1e-6, "albedo of rough metal");
  assertNear(pixel(rough.normal, size, 8, 8), unit([-1, 0, -1]), 1e-5, "normal of rough metal");
});

Deno.test("AOVs through smooth glass are those of the surface behind it", async () => {
  // a glass pane tilted 30° about y, a wall behind it facing the camera
  const c = Math.cos(Math.PI / 6), s = Math.sin(Math.PI / 6);
  const pane: Vec3[] = [[-c, -1, s], [-c, 1, s], [c, 1, -s], [c, -1, -s]];
  const wall: Vec3[] = [[-10, -10, 2], [-10, 10, 2], [10, 10, 2], [10, -10, 2]];
  const size = 16;
  const { albedo, normal } = await aovsOf(
    seenThrough(pane, material({ kind: "dielectric", color: [1, 1, 1], ior: 1.5 }), wall),
    size,
    32,
  );
  for (let y = 5; y < 11; y++) {
    for (let x = 5; x < 11; x++) {
      // refracted paths reach the wall, reflected ones the environment of the same colour: never the
      // glass's own white
      assertNear(pixel(albedo, size, x, y), [0.2, 0.5, 0.8], 1e-5, `albedo at ${x},${y}`);
      // the wall's normal, shortened by the few samples reflected into the environment (normal 0)
      const n = pixel(normal, size, x, y);
      assert.ok(dot(unit(n), [0, 0, -1]) > 0.99999, `normal at ${x},${y}: ${n}`);
      assert.ok(Math.hypot(...n) > 0.75 && Math.hypot(...n) <= 1, `normal length at ${x},${y}: ${n}`);
    }
  }
});

Deno.test("AOVs change no radiance: the sums with AOVs on equal those without, bit for bit", async () => {
  for (const scene of [cornellBox(), cornellSpheres()]) {
    const data = compileScene(scene);
    const settings = { width: 24, height: 24, seed: 5, maxDepth: 16 };
    const off = await GpuRenderer.create(gpu, data, settings);
    const on = await GpuRenderer.create(gpu, data, { ...settings, aovs: true });
    try {
      // the same sample range, one call each (renderLocal's batches follow timing, and so its f64 sums'
      // rounding)
      const [a, b] = [await off.render({ start: 0, count: 6 }), await on.render({ start: 0, count: 6 })];
      assert.equal(a.aovs, undefined);
      assert.ok(b.aovs);
      assert.deepEqual(b.sums, a.sums);
      assert.equal(b.rays, a.rays);
    } finally {
      off.destroy();
      on.destroy();
    }
  }
});

Deno.test("AOVs of a miss: the environment's colour clamped to [0, 1], normal 0", async () => {
  const scene = cornellBox();
  scene.environment = { color: [0.5, 2, 0.25] };
  const size = 16;
  // looking away from the box: every path misses
  scene.camera = { ...scene.camera, target: [278, 273, -1600] };
  const { albedo, normal } = await aovsOf(scene, size, 2);
  for (let p = 0; p < size * size; p++) {
    assertNear(pixel(albedo, size, p % size, p / size | 0), [0.5, 1, 0.25], 0, "albedo of the environment");
    assertNear(pixel(normal, size, p % size, p / size | 0), [0, 0, 0], 0, "normal of the environment");
  }
});

Deno.test("AOV sums: rendered in bands of rows, and as two sample ranges, they equal one render of the whole", async () => {
  const data = compileScene(cornellBox());
  const settings = { width: 40, height: 21, seed: 3, maxDepth: 8, aovs: true };
  const whole = await GpuRenderer.create(gpu, data, settings);
  // an accumulator of 48 bytes a pixel that holds 7 rows: three bands
  const banded = await GpuRenderer.create({ ...gpu, maxBindingBytes: 40 * 7 * 48 }, data, settings);
  try {
    const a = await whole.render({ start: 0, count: 4 });
    const b = await banded.render({ start: 0, count: 4 });
    assert.deepEqual(b.sums, a.sums);
    assert.deepEqual(b.aovs, a.aovs);
    const first = await whole.render({ start: 0, count: 2 });
    const second = await whole.render({ start: 2, count: 2 });
    for (let i = 0; i < a.aovs!.length; i++) {
      const split = first.aovs![i]! + second.aovs![i]!;
      assert.ok(Math.abs(a.aovs![i]! - split) <= 1e-5 * Math.max(1, Math.abs(split)), `AOV value ${i}`);
    }
  } finally {
    whole.destroy();
    banded.destroy();
  }
});
