import assert from "node:assert/strict";
import { openGpu } from "../gpu/mod.ts";
import { compileScene } from "../render_data/mod.ts";
import { cornellBox, type EnvMap, furnace, material, uvSphere } from "../scene/mod.ts";
import { GpuRenderer } from "./gpu_renderer.ts";
import { SOFTWARE_LOOP_LIMIT } from "./_dispatch_plan.ts";
import { meanImage } from "./image.ts";
import { renderLocal } from "./local.ts";
import { close, misAndBsdfMeans } from "./testing.ts";

const gpu = await openGpu();

Deno.test("white furnace: an albedo-1 sphere under a uniform environment of 1 vanishes", async () => {
  const size = 48;
  const r = await renderLocal(gpu, compileScene(furnace(1)), { spp: 16, width: size, height: size });
  const image = meanImage(r.sums, r.samples, size, size);
  for (let i = 0; i < image.rgb.length; i++) {
    assert.ok(close(image.rgb[i]!, 1, 0.01), `value ${image.rgb[i]} at ${i}`);
  }
});

Deno.test("white furnace: an albedo-0.5 sphere shows 0.5 (one bounce off a convex body) on a background of 1", async () => {
  const size = 48;
  const r = await renderLocal(gpu, compileScene(furnace(0.5)), { spp: 16, width: size, height: size });
  const image = meanImage(r.sums, r.samples, size, size);
  // the sphere (radius 1, 4 away, 40° field of view) covers a disc of radius ~0.72 of the half height
  let inside = 0;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const dx = (x + 0.5) / size * 2 - 1, dy = (y + 0.5) / size * 2 - 1, d = Math.hypot(dx, dy);
      const v = image.rgb[(y * size + x) * 3]!;
      assert.ok(v >= 0.5 * 0.99 && v <= 1.01, `value ${v} at ${x},${y}`);
      if (d < 0.6) inside++, assert.ok(close(v, 0.5, 0.01), `sphere pixel ${x},${y} = ${v}`);
      if (d > 0.9) assert.ok(close(v, 1, 0.01), `background pixel ${x},${y} = ${v}`);
    }
  }
  assert.ok(inside > 500);
});

Deno.test("furnace: a smooth glass sphere conserves energy (image mean within 2% of 1)", async () => {
  const size = 32;
  const scene = furnace(1);
  scene.materials = [material({ kind: "dielectric", color: [1, 1, 1], ior: 1.5 })];
  scene.meshes = [uvSphere([0, 0, 0], 1, 0, { segments: 96, rings: 48 })];
  const r = await renderLocal(gpu, compileScene(scene), { spp: 64, width: size, height: size, maxDepth: 64 });
  const image = meanImage(r.sums, r.samples, size, size);
  const mean = image.rgb.reduce((s, v) => s + v, 0) / image.rgb.length;
  assert.ok(close(mean, 1, 0.02), `mean ${mean}`);
});

Deno.test("split samples: [0,64) equals [0,32) + [32,64) to 1e-5 relative, and tiles equal the whole", async () => {
  const settings = { width: 40, height: 30, seed: 7, maxDepth: 16 };
  const renderer = await GpuRenderer.create(gpu, compileScene(cornellBox()), settings);
  try {
    const whole = await renderer.render({ start: 0, count: 64 });
    const first = await renderer.render({ start: 0, count: 32 });
    const second = await renderer.render({ start: 32, count: 32 });
    let nonzero = 0;
    for (let i = 0; i < whole.sums.length; i++) {
      const split = first.sums[i]! + second.sums[i]!;
      assert.ok(close(whole.sums[i]!, split, 1e-5), `pixel value ${i / 3 | 0}: ${whole.sums[i]} vs ${split}`);
      if (whole.sums[i]! > 0) nonzero++;
    }
    assert.ok(nonzero > whole.sums.length / 2, "the image is not black");
    assert.equal(whole.rays, first.rays + second.rays);
    // the same samples rendered as two regions of the image
    const left = await renderer.render({ start: 0, count: 64 }, { x: 0, y: 0, width: 17, height: 30 });
    const right = await renderer.render({ start: 0, count: 64 }, { x: 17, y: 0, width: 23, height: 30 });
    for (let y = 0; y < 30; y++) {
      for (let x = 0; x < 40; x++) {
        const tile = x < 17 ? left.sums[(y * 17 + x) * 3]! : right.sums[(y * 23 + x - 17) * 3]!;
        assert.ok(close(tile, whole.sums[(y * 40 + x) * 3]!, 1e-6), `tile pixel ${x},${y}`);
      }
    }
    // a different seed gives a different image
    const other = await GpuRenderer.create(gpu, compileScene(cornellBox()), { ...settings, seed: 8 });
    const reseeded = await other.render({ start: 0, count: 32 });
    other.destroy();
    assert.ok(reseeded.sums.some((v, i) => v !== first.sums[i]));
  } finally {
    renderer.destroy();
  }
});

Deno.test("renderLocal's adaptive batches give the same sums as one call", async () => {
  const data = compileScene(cornellBox());
  const a = await renderLocal(gpu, data, { spp: 24, width: 24, height: 24, seed: 3, batchSeconds: 0.001 });
  const renderer = await GpuRenderer.create(gpu, data, { width: 24, height: 24, seed: 3, maxDepth: 16 });
  const b = await renderer.render({ start: 0, count: 24 });
  renderer.destroy();
  assert.equal(a.samples, 24);
  for (let i = 0; i < b.sums.length; i++) assert.ok(close(a.sums[i]!, b.sums[i]!, 1e-5));
});

Deno.test("Cornell box converges: image means of two seeds at 256 spp agree to 1%", async () => {
  const data = compileScene(cornellBox());
  const means: number[] = [];
  for (const seed of [1, 2]) {
    const r = await renderLocal(gpu, data, { spp: 256, width: 48, height: 48, seed });
    means.push(r.sums.reduce((s, v) => s + v, 0) / (r.sums.length * r.samples));
  }
  assert.ok(means[0]! > 0.05, `the box is lit (mean ${means[0]})`);
  assert.ok(close(means[0]!, means[1]!, 0.01), `means ${means.join(" vs ")}`);
});

Deno.test("GpuRenderer rejects regions outside the image and empty sample ranges", async () => {
  const renderer = await GpuRenderer.create(gpu, compileScene(cornellBox()), {
    width: 8,
    height: 8,
    seed: 1,
    maxDepth: 4,
  });
  try {
    await assert.rejects(
      renderer.render({ start: 0, count: 1 }, { x: 4, y: 0, width: 5, height: 8 }),
      RangeError,
    );
    await assert.rejects(renderer.render({ start: 0, count: 0 }), RangeError);
  } finally {
    renderer.destroy();
  }
});

Deno.test("on a software adapter a long render lets the event loop turn between its dispatches", async () => {
  if (!gpu.summary.software) return; // a hardware queue.submit returns at once: nothing to let through
  const renderer = await GpuRenderer.create(gpu, compileScene(cornellBox()), {
    width: 64,
    height: 64,
    seed: 1,
    maxDepth: 16,
  });
  const queue = gpu.device.queue;
  const submit = queue.submit.bind(queue);
  let submits = 0;
  queue.submit = (buffers) => (submits++, submit(buffers));
  try {
    // a timer set as the render starts fires between its dispatches, not after the last of them
    let seenAt = -1;
    setTimeout(() => (seenAt = submits), 0);
    await renderer.render({ start: 0, count: 64 });
    assert.ok(seenAt >= 0 && seenAt < submits - 1, `the timer ran after ${seenAt} of ${submits} submits`);
  } finally {
    queue.submit = submit;
    renderer.destroy();
  }
});

globalThis.addEventListener("unload", () => gpu.device.destroy());

Deno.test("NEE+MIS and BSDF sampling alone agree on diffuse and rough-conductor scenes (image means to 2%)", async () => {
  const scene = cornellBox();
  const gold = scene.materials.push(material({ kind: "conductor", color: [1, 0.8, 0.4], roughness: 0.3 })) -
    1;
  const mixed =
    scene.materials.push(material({ color: [0.3, 0.6, 0.9], metallic: 0.5, roughness: 0.4, specular: 1 })) -
    1;
  scene.meshes.push(uvSphere([370, 270, 300], 90, gold, { segments: 48, rings: 24 }));
  scene.meshes.push(uvSphere([170, 120, 200], 90, mixed, { segments: 48, rings: 24 }));
  const data = compileScene(scene);
  const [mis, bsdf] = await misAndBsdfMeans(gpu, data);
  assert.ok(close(mis, bsdf, 0.02), `MIS ${mis} vs BSDF-only ${bsdf}`);
});

Deno.test("many samples in one call equal the same samples one call each (no work is cut short)", async () => {
  // llvmpipe ends every loop of an invocation after 65535 iterations in total; 512 samples per pixel in one
  // call would pass that if the renderer let one invocation run them all, and the image would come out dark.
  const renderer = await GpuRenderer.create(gpu, compileScene(cornellBox()), {
    width: 16,
    height: 16,
    seed: 4,
    maxDepth: 16,
  });
  try {
    const whole = await renderer.render({ start: 0, count: 512 });
    const parts = new Float64Array(whole.sums.length);
    for (let s = 0; s < 512; s += 8) {
      const p = await renderer.render({ start: s, count: 8 });
      for (let i = 0; i < parts.length; i++) parts[i]! += p.sums[i]!;
    }
    for (let i = 0; i < parts.length; i++) {
      assert.ok(close(whole.sums[i]!, parts[i]!, 1e-4), `pixel value ${i}: ${whole.sums[i]} vs ${parts[i]}`);
    }
    assert.equal(whole.droppedSamples, 0);
    if (gpu.summary.software) {
      assert.ok(whole.loopIterations * 16 < SOFTWARE_LOOP_LIMIT, `${whole.loopIterations} iterations`);
    }
  } finally {
    renderer.destroy();
  }
});

/** A map: uniform 1, or a sky with a soft bright disc (for importance sampling to matter). */
function envMap(kind: "uniform" | "sun"): EnvMap {
  const width = 64, height = 32, rgb = new Float32Array(width * height * 3).fill(1);
  if (kind === "sun") {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const d = Math.hypot(x - 20, y - 10);
        const v = d < 4 ? 40 : y < height / 2 ? 0.6 : 0.1;
        rgb.set([v, v * 0.9, v * 0.8], (y * width + x) * 3);
      }
    }
  }
  return { width, height, rgb };
}

Deno.test("environment-map furnace: a uniform map of 1 makes an albedo-1 sphere vanish (env NEE + MIS)", async () => {
  // a sampler whose density disagrees with env_pdf shows as a fixed pattern over the sphere, not as noise
  const scene = furnace(1);
  scene.environment = { color: [0, 0, 0], map: envMap("uniform") };
  const size = 16;
  const r = await renderLocal(gpu, compileScene(scene), { spp: 1024, width: size, height: size });
  const image = meanImage(r.sums, r.samples, size, size);
  const mean = image.rgb.reduce((s, v) => s + v, 0) / image.rgb.length;
  assert.ok(close(mean, 1, 0.01), `mean ${mean}`);
  for (let i = 0; i < image.rgb.length; i++) {
    assert.ok(close(image.rgb[i]!, 1, 0.04), `value ${image.rgb[i]} at ${i}`);
  }
});

Deno.test("environment map: NEE+MIS and BSDF sampling alone agree under a sky with a bright disc (quadrant means to 3%)", async () => {
  const scene = furnace(0.8);
  const gold = scene.materials.push(material({ kind: "conductor", color: [1, 0.8, 0.4], roughness: 0.3 })) -
    1;
  scene.meshes.push(uvSphere([1.2, 0.6, -0.5], 0.5, gold, { segments: 32, rings: 16 }));
  scene.environment = { color: [0, 0, 0], map: envMap("sun"), intensity: 0.5 };
  const data = compileScene(scene);
  const quadrants: number[][] = [];
  for (const strategy of ["mis", "bsdf"] as const) {
    // 4096 spp: at 1024 the quadrant next to the disc still varies by 3% from seed to seed
    const r = await renderLocal(gpu, data, { spp: 4096, width: 16, height: 16, seed: 5, strategy });
    const q = [0, 0, 0, 0];
    for (let i = 0; i < r.sums.length; i++) {
      const p = Math.floor(i / 3), x = p % 16, y = Math.floor(p / 16);
      q[(y < 8 ? 0 : 2) + (x < 8 ? 0 : 1)]! += r.sums[i]! / (64 * 3 * r.samples);
    }
    quadrants.push(q);
  }
  quadrants[0]!.forEach((m, k) =>
    assert.ok(close(m, quadrants[1]![k]!, 0.03), `quadrant ${k}: MIS ${m} vs BSDF-only ${quadrants[1]![k]}`)
  );
});

Deno.test("a BVH that is not a tree (shared subtrees: 2^30 visits a ray) is refused before it reaches the GPU; a tree's traversals never reach the step cap", async () => {
  const base = compileScene(cornellBox());
  // node 0 -> 1, 2; nodes 2k+1 and 2k+2 both -> 2k+3, 2k+4; 30 levels; the last two are leaves
  const levels = 30, count = 1 + 2 * levels;
  const nodes = new ArrayBuffer(count * 32);
  const f = new Float32Array(nodes), u = new Uint32Array(nodes);
  const root = new Float32Array(base.nodes, 0, 8);
  for (let n = 0; n < count; n++) {
    f.set(root, n * 8);
    const level = n === 0 ? 0 : Math.ceil(n / 2);
    if (level < levels) u[n * 8 + 3] = 2 * level + 1, u[n * 8 + 7] = 0;
    else u[n * 8 + 3] = 0, u[n * 8 + 7] = 1;
  }
  const t0 = performance.now();
  await assert.rejects(
    GpuRenderer.create(gpu, { ...base, nodes, stats: { ...base.stats, nodes: count } }, {
      width: 8,
      height: 8,
      seed: 1,
      maxDepth: 2,
    }),
    /BVH is not a tree/,
  );
  assert.ok(performance.now() - t0 < 30_000);
  // a real tree never reaches the cap
  const tree = await GpuRenderer.create(gpu, base, { width: 8, height: 8, seed: 1, maxDepth: 8 });
  try {
    assert.equal((await tree.render({ start: 0, count: 4 })).cappedTraversals, 0);
  } finally {
    tree.destroy();
  }
});

Deno.test("an image larger than one binding renders in bands of rows that give the same sums, bit for bit", async () => {
  const settings = { width: 40, height: 30, seed: 3, maxDepth: 8 };
  const data = compileScene(cornellBox());
  const whole = await GpuRenderer.create(gpu, data, settings);
  // 7 rows of 40 pixels a binding: 5 bands over the image, 4 over the region below
  const banded = await GpuRenderer.create({ ...gpu, maxBindingBytes: 40 * 7 * 16 }, data, settings);
  try {
    const region = { x: 0, y: 3, width: 40, height: 23 };
    for (const r of [undefined, region]) {
      const a = await whole.render({ start: 0, count: 2 }, r);
      const b = await banded.render({ start: 0, count: 2 }, r);
      assert.deepEqual(b.sums, a.sums);
      assert.equal(b.rays, a.rays);
    }
    // the accumulator and its readback copy hold one band, not the image
    assert.equal(banded.bufferBytes, whole.bufferBytes - 2 * (30 - 7) * 40 * 16);
  } finally {
    whole.destroy();
    banded.destroy();
  }
});

Deno.test("a row wider than one binding is refused, naming the widest image that fits", async () => {
  await assert.rejects(
    GpuRenderer.create({ ...gpu, maxBindingBytes: 100 * 16 }, compileScene(cornellBox()), {
      width: 200,
      height: 10,
      seed: 1,
      maxDepth: 4,
    }),
    { name: "RangeError", message: /Cannot render 200x10: .* images are at most 100 pixels wide/ },
  );
});

Deno.test("4096x2160 renders in bands of rows; a band rendered alone equals its rows", async () => {
  const settings = { width: 4096, height: 2160, seed: 5, maxDepth: 4 };
  const renderer = await GpuRenderer.create(gpu, compileScene(furnace(0.5)), settings);
  try {
    const image = await renderer.render({ start: 0, count: 1 });
    assert.equal(image.sums.length, 4096 * 2160 * 3);
    // a grey sphere under a white sky: one sample lights nearly every pixel (a path may end unlit)
    let lit = 0;
    for (const v of image.sums) lit += v > 0 ? 1 : 0;
    assert.ok(lit > image.sums.length * 0.9, `${lit} of ${image.sums.length} values lit`);
    // on any GPU: the accumulator and its readback copy hold a band, not the image
    assert.ok(renderer.bufferBytes < 2 * 4096 * 2160 * 16, `${renderer.bufferBytes} bytes`);
    // random numbers depend on (pixel, sample, seed) only: rows rendered alone are the same rows
    const band = { x: 0, y: 1077, width: 4096, height: 6 };
    const alone = await renderer.render({ start: 0, count: 1 }, band);
    assert.deepEqual(alone.sums, image.sums.subarray(1077 * 4096 * 3, 1083 * 4096 * 3));
  } finally {
    renderer.destroy();
  }
});
