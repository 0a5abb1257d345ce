import assert from "node:assert/strict";
import { openGpu } from "../../mod/gpu/mod.ts";
import { compileScene } from "../../mod/render_data/mod.ts";
import {
  cornellBox,
  type EnvMap,
  furnace,
  material,
  type PunctualLight,
  quadMesh,
  type Scene,
  type Vec3,
} from "../../mod/scene/mod.ts";
import { GpuRenderer } from "../../mod/render/gpu_renderer.ts";
import { meanImage } from "../../mod/render/image.ts";
import { renderLocal } from "../../mod/render/local.ts";

// Analytic cases: a Lambertian plane y = 0 of albedo ρ seen from straight above, lit by one punctual light
// and nothing else (black environment, and the plane cannot see itself), so every pixel is direct light
// alone: I cosθ ρ / (π r²) under a point light, E cosθ ρ / π under a directional one.

const gpu = await openGpu();
globalThis.addEventListener("unload", () => gpu.device.destroy());

const SIZE = 32;
const RHO = 0.5;
const CAMERA_HEIGHT = 3;
const FOV = 60;

function plane(lights: PunctualLight[], extra: Partial<Scene> = {}): Scene {
  const h = 20;
  return {
    materials: [material({ color: [RHO, RHO, RHO] })],
    meshes: [quadMesh([[[-h, 0, -h], [-h, 0, h], [h, 0, h], [h, 0, -h]]], 0)],
    textures: [],
    camera: {
      position: [0, CAMERA_HEIGHT, 0],
      target: [0, 0, 0],
      up: [0, 0, -1],
      fovY: FOV,
      lensRadius: 0,
      focusDistance: 1,
    },
    environment: { color: [0, 0, 0] },
    lights,
    ...extra,
  };
}

function light(fields: Partial<PunctualLight>): PunctualLight {
  return {
    kind: "point",
    position: [0, 1, 0],
    direction: [0, -1, 0],
    intensity: [1, 1, 1],
    innerConeAngle: 0,
    outerConeAngle: Math.PI / 4,
    ...fields,
  };
}

/** Where the camera ray through image point (x, y) (pixels) meets the plane y = 0. */
function planePoint(x: number, y: number): Vec3 {
  const t = Math.tan(FOV * Math.PI / 360);
  const sx = (2 * x / SIZE - 1) * t, sy = (1 - 2 * y / SIZE) * t;
  // camera basis looking down: forward -y, right +x, up -z
  const d: Vec3 = [sx, -1, -sy];
  const k = CAMERA_HEIGHT / -d[1];
  return [d[0] * k, 0, d[2] * k];
}

/** A pixel's expected value: `radiance` at the plane point averaged over an 8x8 grid of the pixel's area. */
function expected(radiance: (p: Vec3) => number): Float64Array {
  const out = new Float64Array(SIZE * SIZE);
  for (let py = 0; py < SIZE; py++) {
    for (let px = 0; px < SIZE; px++) {
      let sum = 0;
      for (let j = 0; j < 8; j++) {
        for (let i = 0; i < 8; i++) sum += radiance(planePoint(px + (i + 0.5) / 8, py + (j + 0.5) / 8));
      }
      out[py * SIZE + px] = sum / 64;
    }
  }
  return out;
}

async function render(scene: Scene, spp = 64): Promise<Float32Array> {
  const r = await renderLocal(gpu, compileScene(scene), { spp, width: SIZE, height: SIZE, seed: 3 });
  return meanImage(r.sums, r.samples, SIZE, SIZE).rgb;
}

/** Irradiance-free part of a point light at `at`: cosθ / r² at plane point p (normal +y). */
function pointFactor(at: Vec3, p: Vec3): number {
  const dx = at[0] - p[0], dy = at[1] - p[1], dz = at[2] - p[2];
  const r2 = dx * dx + dy * dy + dz * dz;
  return Math.max(0, dy) / Math.sqrt(r2) / r2;
}

function assertClose(got: number, want: number, what: string, relative = 0.01, absolute = 1e-5): void {
  assert.ok(
    Math.abs(got - want) <= relative * Math.abs(want) + absolute,
    `${what}: got ${got}, want ${want}`,
  );
}

Deno.test("point light: a Lambertian plane shows I cosθ ρ / (π r²) at every pixel (1.5%, image mean 0.2%)", async () => {
  const at: Vec3 = [0.3, 1, -0.2];
  const intensity: [number, number, number] = [2, 1, 0.5];
  const image = await render(plane([light({ position: at, intensity })]), 256);
  const want = expected((p) => pointFactor(at, p) * RHO / Math.PI);
  // the light is close, so a pixel's value varies across it: its jittered samples' mean is within ~1%
  let got = 0, sum = 0;
  for (let i = 0; i < SIZE * SIZE; i++) {
    for (let c = 0; c < 3; c++) {
      assertClose(image[i * 3 + c]!, intensity[c]! * want[i]!, `pixel ${i} channel ${c}`, 0.015);
    }
    got += image[i * 3]!, sum += intensity[0] * want[i]!;
  }
  assertClose(got, sum, "image mean", 0.002);
});

Deno.test("directional light: a Lambertian plane shows E cosθ ρ / π everywhere, and nothing facing away", async () => {
  const len = Math.hypot(0.3, -1, 0.2);
  const direction: Vec3 = [0.3 / len, -1 / len, 0.2 / len];
  const intensity: [number, number, number] = [1.5, 1, 0.25];
  const image = await render(plane([light({ kind: "directional", direction, intensity })]), 4);
  const cos = -direction[1];
  for (let i = 0; i < SIZE * SIZE; i++) {
    for (let c = 0; c < 3; c++) {
      assertClose(image[i * 3 + c]!, intensity[c]! * cos * RHO / Math.PI, `pixel ${i}`);
    }
  }
  const below = await render(plane([light({ kind: "directional", direction: [0, 1, 0] })]), 4);
  assert.ok(below.every((v) => v === 0), "a light shining from below the plane lit its top");
});

Deno.test("spot light: full inside the inner cone, nothing outside the outer one, the smooth ramp between", async () => {
  const at: Vec3 = [0, 1, 0];
  const inner = 20 * Math.PI / 180, outer = 40 * Math.PI / 180;
  const spot = light({
    kind: "spot",
    position: at,
    direction: [0, -1, 0],
    innerConeAngle: inner,
    outerConeAngle: outer,
  });
  const image = await render(plane([spot]), 256);
  const cosIn = Math.cos(inner), cosOut = Math.cos(outer);
  const falloff = (p: Vec3) => {
    const r = Math.hypot(p[0] - at[0], p[1] - at[1], p[2] - at[2]);
    const c = (at[1] - p[1]) / r;
    const t = Math.min(1, Math.max(0, (c - cosOut) / (cosIn - cosOut)));
    return t * t;
  };
  const want = expected((p) => falloff(p) * pointFactor(at, p) * RHO / Math.PI);
  const full = expected((p) => (falloff(p) === 1 ? 1 : 0));
  const none = expected((p) => (falloff(p) === 0 ? 1 : 0));
  let inside = 0, outside = 0, between = 0;
  for (let i = 0; i < SIZE * SIZE; i++) {
    const v = image[i * 3]!;
    if (full[i] === 1) {
      inside++;
      assertClose(
        v,
        pointFactor(at, planePoint(i % SIZE + 0.5, Math.floor(i / SIZE) + 0.5)) * RHO / Math.PI,
        `inner pixel ${i}`,
        0.01,
      );
    } else if (none[i] === 1) {
      outside++;
      assert.equal(v, 0, `pixel ${i} outside the outer cone is lit`);
    } else {
      between++;
      // pixels across the ramp: the jittered samples' mean converges to the pixel's mean more slowly
      assertClose(v, want[i]!, `ramp pixel ${i}`, 0.05, 2e-3 * want.reduce((a, b) => Math.max(a, b)));
    }
  }
  assert.ok(
    inside > 20 && outside > 20 && between > 20,
    `pixels inside ${inside}, outside ${outside}, between ${between}`,
  );
});

function imageMean(sums: ArrayLike<number>, samples: number): number {
  let s = 0;
  for (let i = 0; i < sums.length; i++) s += sums[i]!;
  return s / (sums.length * samples);
}

/** The image means of a scene lit by A, by B, and by both: light adds up, whatever share each gets picked. */
async function additive(a: Scene, b: Scene, both: Scene, spp: number): Promise<number[]> {
  const means: number[] = [];
  for (const scene of [a, b, both]) {
    const r = await renderLocal(gpu, compileScene(scene), { spp, width: 24, height: 24, seed: 5 });
    means.push(imageMean(r.sums, r.samples));
  }
  return means;
}

Deno.test("emissive triangles and a point light picked together by power: the Cornell box lit by both is the sum of each (2%)", async () => {
  const point = light({ position: [278, 420, 280], intensity: [90000, 80000, 70000] });
  const lamp = cornellBox();
  const dark = cornellBox();
  dark.materials = dark.materials.map((m) => ({ ...m, emission: [0, 0, 0] }));
  const [a, b, both] = await additive(lamp, { ...dark, lights: [point] }, { ...lamp, lights: [point] }, 512);
  assert.ok(a! > 0 && b! > 0.3 * a!, `the point light is too weak to tell: ${a}, ${b}`);
  assert.ok(Math.abs(both! - (a! + b!)) <= 0.02 * both!, `both ${both} vs ${a} + ${b}`);
});

Deno.test("an environment map, an emitter-free scene and a directional light picked by power: lit by both is the sum (2%)", async () => {
  const width = 32, height = 16, rgb = new Float32Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      rgb.fill(y < 6 ? 0.8 : 0.1, (y * width + x) * 3, (y * width + x + 1) * 3);
    }
  }
  const map: EnvMap = { width, height, rgb };
  const sky = furnace(0.7);
  sky.environment = { color: [0, 0, 0], map };
  const sun = light({ kind: "directional", direction: [0.4, -0.8, 0.45], intensity: [2, 2, 2] });
  const dark = furnace(0.7);
  dark.environment = { color: [0, 0, 0] };
  const [a, b, both] = await additive(sky, { ...dark, lights: [sun] }, { ...sky, lights: [sun] }, 256);
  assert.ok(a! > 0 && b! > 0.1 * a!, `the sun is too weak to tell: ${a}, ${b}`);
  assert.ok(Math.abs(both! - (a! + b!)) <= 0.02 * both!, `both ${both} vs ${a} + ${b}`);
});

Deno.test("split samples with punctual lights: [0,32) equals [0,16) + [16,32) and tiles equal the whole", async () => {
  const scene = cornellBox();
  scene.lights = [
    light({ kind: "spot", position: [278, 500, 280], direction: [0, -1, 0], intensity: [4000, 4000, 4000] }),
    light({ position: [100, 300, 200], intensity: [3000, 2000, 1000] }),
  ];
  const settings = { width: 24, height: 20, seed: 11, maxDepth: 8 };
  const renderer = await GpuRenderer.create(gpu, compileScene(scene), settings);
  try {
    const whole = await renderer.render({ start: 0, count: 32 });
    const first = await renderer.render({ start: 0, count: 16 });
    const second = await renderer.render({ start: 16, count: 16 });
    for (let i = 0; i < whole.sums.length; i++) {
      const split = first.sums[i]! + second.sums[i]!;
      assertClose(whole.sums[i]!, split, `pixel value ${i}`, 1e-5, 1e-6);
    }
    const left = await renderer.render({ start: 0, count: 32 }, { x: 0, y: 0, width: 9, height: 20 });
    const right = await renderer.render({ start: 0, count: 32 }, { x: 9, y: 0, width: 15, height: 20 });
    for (let y = 0; y < 20; y++) {
      for (let x = 0; x < 24; x++) {
        const tile = x < 9 ? left.sums[(y * 9 + x) * 3]! : right.sums[(y * 15 + x - 9) * 3]!;
        assert.equal(tile, whole.sums[(y * 24 + x) * 3]!, `tile pixel ${x},${y}`);
      }
    }
  } finally {
    renderer.destroy();
  }
});
