/**
 * `deno task bench:denoise`: the denoiser's figures on this machine's adapter.
 *
 * - denoise time per megapixel (OIDN's U-Net through oidn-web's WGSL, after one warm-up run) at a few sizes;
 * - image quality at equal wall time: the built-in Cornell box rendered raw with N spp, and with M spp plus
 *   denoising where M spp's render time plus the denoise time is about N spp's render time; both compared
 *   with a high-spp reference by OIDN's relMSE (squared error over reference squared plus 0.01). The
 *   reference's own noise (about relMSE(N spp) x N / reference spp) is part of every figure.
 *
 * With guides (the default, as `--denoise` runs it) the denoised renders also accumulate the first-hit albedo
 * and normal AOVs (their cost is in the render time) and the network is `rt_hdr_alb_nrm`; `--no-guides` runs
 * `rt_hdr` on colour alone.
 *
 * Prints figures; asserts nothing. Options: --size S (Cornell side, default 128), --ref-spp N (default
 * 1024), --spp N,N,... (raw sample counts, default 16,64,256), --no-guides, --json FILE.
 * @module
 */
import { parseArgs } from "node:util";
import { openDenoiser } from "../mod/denoise/mod.ts";
import { openGpu } from "../mod/gpu/mod.ts";
import { compileScene } from "../mod/render_data/mod.ts";
import { aovMeans, meanImage, renderLocal } from "../mod/render/mod.ts";
import { cornellBox } from "../mod/scene/mod.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    size: { type: "string", default: "128" },
    "ref-spp": { type: "string", default: "1024" },
    spp: { type: "string", default: "16,64,256" },
    "no-guides": { type: "boolean", default: false },
    json: { type: "string" },
  },
  strict: true,
});
const size = Number(values.size);
const refSpp = Number(values["ref-spp"]);
const sppList = values.spp.split(",").map(Number);

const gpu = await openGpu();
const guides = !values["no-guides"];
const denoiser = await openDenoiser(gpu, { aux: guides });
const figures: Record<string, unknown> = { adapter: gpu.summary.name, weights: denoiser.weights };
console.log(
  `Denoiser benchmark on ${gpu.summary.name} (weights ${denoiser.weights}, ${denoiser.weightsPath})`,
);

// denoise time per megapixel
const perMp: Record<string, number> = {};
for (const side of [256, 512]) {
  const color = new Float32Array(side * side * 3).map(() => Math.random());
  const aux = guides
    ? { albedo: color.map(() => Math.random()), normal: color.map(() => Math.random() * 2 - 1) }
    : {};
  const input = { width: side, height: side, color, ...aux };
  await denoiser.denoise(input); // warm-up: this shape's buffers and pipelines
  const runs = side <= 256 ? 3 : 1;
  let ms = Infinity;
  for (let i = 0; i < runs; i++) ms = Math.min(ms, (await denoiser.denoise(input)).ms);
  perMp[`${side}x${side}`] = ms / (side * side / 1e6);
  console.log(
    `denoise ${side}x${side}: ${ms.toFixed(0)} ms (best of ${runs}) = ${
      (ms / (side * side / 1e6) / 1000).toFixed(2)
    } s per megapixel`,
  );
}
figures.denoiseMsPerMegapixel = perMp;

// equal wall time
const data = compileScene(cornellBox());
const render = async (spp: number, seed: number, aovs = false) => {
  const r = await renderLocal(gpu, data, { spp, width: size, height: size, seed, aovs });
  const guide = r.aovs ? aovMeans(r.aovs, r.samples, size, size) : undefined;
  return {
    image: meanImage(r.sums, r.samples, size, size).rgb,
    ms: r.elapsedMs,
    guides: guide ? { albedo: guide.albedo, normal: guide.normal } : {},
  };
};
const relMse = (a: Float32Array, ref: Float32Array) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - ref[i]!) ** 2 / (ref[i]! * ref[i]! + 0.01);
  return s / a.length;
};
console.log(`Cornell box ${size}x${size}: reference ${refSpp} spp…`);
const reference = await render(refSpp, 1);
console.log(`  reference rendered in ${(reference.ms / 1000).toFixed(1)} s`);
const warm = await render(1, 4, guides);
await denoiser.denoise({ width: size, height: size, color: warm.image, ...warm.guides }); // warm-up at this size
const rows = [];
for (const n of sppList) {
  const raw = await render(n, 2);
  const perSpp = raw.ms / n;
  const probe = await denoiser.denoise({ width: size, height: size, color: raw.image, ...warm.guides });
  const m = Math.max(1, Math.floor((raw.ms - probe.ms) / perSpp));
  const low = await render(m, 3, guides);
  const denoised = await denoiser.denoise({ width: size, height: size, color: low.image, ...low.guides });
  const row = {
    rawSpp: n,
    rawMs: raw.ms,
    rawRelMse: relMse(raw.image, reference.image),
    denoisedSpp: m,
    denoisedRenderMs: low.ms,
    denoiseMs: denoised.ms,
    denoisedRelMse: relMse(denoised.image, reference.image),
  };
  rows.push(row);
  console.log(
    `  raw ${n} spp in ${(raw.ms / 1000).toFixed(2)} s: relMSE ${
      row.rawRelMse.toFixed(5)
    }  |  ${m} spp + denoise in ${((low.ms + denoised.ms) / 1000).toFixed(2)} s (${
      (low.ms / 1000).toFixed(2)
    } + ${(denoised.ms / 1000).toFixed(2)}): relMSE ${row.denoisedRelMse.toFixed(5)}  (${
      (row.rawRelMse / row.denoisedRelMse).toFixed(1)
    }x less error)`,
  );
}
figures.equalTime = { size, referenceSpp: refSpp, rows };
await denoiser.close();
if (values.json) await Deno.writeTextFile(values.json, JSON.stringify(figures, null, 2) + "\n");
