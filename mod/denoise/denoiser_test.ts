import assert from "node:assert/strict";
import { openGpu } from "../gpu/mod.ts";
import { compileScene } from "../render_data/mod.ts";
import { meanImage, renderLocal } from "../render/mod.ts";
import { cornellBox } from "../scene/mod.ts";
import { autoexposure, openDenoiser } from "./mod.ts";

const gpu = await openGpu();

/** OIDN's relative MSE: squared error over the reference squared plus 0.01, averaged over every value. */
function relMse(image: Float32Array, reference: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < image.length; i++) {
    const r = reference[i]!;
    sum += (image[i]! - r) ** 2 / (r * r + 0.01);
  }
  return sum / image.length;
}

Deno.test("denoised 16-spp Cornell box: relMSE against a 512-spp render at most 1/8 of the raw image's", async () => {
  const size = 128;
  const data = compileScene(cornellBox());
  const render = async (spp: number, seed: number) => {
    const r = await renderLocal(gpu, data, { spp, width: size, height: size, seed });
    return meanImage(r.sums, r.samples, size, size).rgb;
  };
  const reference = await render(512, 1);
  const noisy = await render(16, 2);
  const denoiser = await openDenoiser(gpu);
  try {
    const result = await denoiser.denoise({ width: size, height: size, color: noisy });
    assert.equal(result.weights, "rt_hdr");
    assert.equal(result.adapter, gpu.summary.name);
    assert.ok(result.ms > 0);
    const raw = relMse(noisy, reference);
    const denoised = relMse(result.image, reference);
    assert.ok(denoised <= raw / 8, `relMSE raw ${raw.toFixed(5)}, denoised ${denoised.toFixed(5)}`);
    // the image keeps its brightness: the means agree to 2%
    const mean = (a: Float32Array) => a.reduce((s, v) => s + v, 0) / a.length;
    assert.ok(Math.abs(mean(result.image) / mean(reference) - 1) < 0.02);
  } finally {
    await denoiser.close();
  }
});

Deno.test("denoiser: an image wider than one tile is denoised in overlapping tiles without seams", async () => {
  // a smooth ramp: the network leaves it as it is, so any tile seam or misplaced tile would show
  const width = 1000, height = 40;
  const color = new Float32Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      color.fill(0.2 + 0.6 * x / width, (y * width + x) * 3, (y * width + x) * 3 + 3);
    }
  }
  const denoiser = await openDenoiser(gpu);
  try {
    const { image } = await denoiser.denoise({ width, height, color });
    for (let x = 8; x < width - 8; x++) {
      const i = (20 * width + x) * 3;
      assert.ok(Math.abs(image[i]! / color[i]! - 1) < 0.05, `pixel ${x}: ${image[i]} for ${color[i]}`);
    }
  } finally {
    await denoiser.close();
  }
});

Deno.test("denoiser: albedo and normal need the rt_hdr_alb_nrm weights, and sizes must match", async () => {
  const denoiser = await openDenoiser(gpu);
  try {
    const color = new Float32Array(16 * 16 * 3);
    await assert.rejects(
      denoiser.denoise({ width: 16, height: 16, color, albedo: color, normal: color }),
      RangeError,
    );
    await assert.rejects(denoiser.denoise({ width: 16, height: 8, color }), RangeError);
  } finally {
    await denoiser.close();
  }
  const aux = await openDenoiser(gpu, { aux: true });
  try {
    assert.equal(aux.weights, "rt_hdr_alb_nrm");
    const n = 32 * 32 * 3;
    const color = new Float32Array(n).fill(0.5), albedo = new Float32Array(n).fill(0.5);
    const normal = new Float32Array(n).map((_, i) => (i % 3 === 2 ? 1 : 0));
    const { image } = await aux.denoise({ width: 32, height: 32, color, albedo, normal });
    // a flat grey image stays flat grey (away from the edges, where the network sees the zero padding)
    for (let y = 8; y < 24; y++) {
      for (let x = 8; x < 24; x++) {
        const v = image[(y * 32 + x) * 3]!;
        assert.ok(Math.abs(v - 0.5) < 0.01, `pixel ${x},${y}: ${v}`);
      }
    }
  } finally {
    await aux.close();
  }
});

Deno.test("autoexposure: key 0.18 over the geometric mean of 16x16 bins' luminance, as OIDN's", () => {
  const w = 32, h = 16;
  const color = new Float32Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) color.fill(x < 16 ? 2 : 8, (y * w + x) * 3, (y * w + x) * 3 + 3);
  }
  // luminance weights sum to 1: bins of 2 and 8, geometric mean 4
  assert.ok(Math.abs(autoexposure(color, w, h) - 0.18 / 4) < 1e-6);
  assert.equal(autoexposure(new Float32Array(w * h * 3), w, h), 1);
});
