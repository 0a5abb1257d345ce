import assert from "node:assert/strict";
import { decodePfm, decodePng } from "../render/mod.ts";
import { type OutputDenoiser, rawPath, wantsAovs, writeImages, writtenFiles } from "./outputs.ts";

Deno.test("raw images go beside the denoised ones; the files written are named in order", () => {
  assert.equal(rawPath("out/render.png"), "out/render.raw.png");
  assert.equal(rawPath("x.exr"), "x.raw.exr");
  const files = { output: "a.png", hdr: "a.pfm", report: "r.json", aov: "aovs", denoise: true };
  assert.deepEqual(writtenFiles(files), ["a.png", "a.pfm", "a.raw.png", "a.raw.pfm", "r.json", "aovs"]);
  assert.deepEqual(writtenFiles({ output: "a.png" }), ["a.png"]);
});

Deno.test("the AOVs are rendered for an EXR, --aov or --denoise, not for a PNG or a PFM", () => {
  assert.equal(wantsAovs({ output: "a.png" }), false);
  assert.equal(wantsAovs({ output: "a.png", hdr: "a.pfm" }), false);
  assert.equal(wantsAovs({ output: "a.png", hdr: "a.EXR" }), true);
  assert.equal(wantsAovs({ output: "a.png", aov: "d" }), true);
  assert.equal(wantsAovs({ output: "a.png", denoise: true }), true);
});

Deno.test("with a denoiser the denoised image goes to -o and --hdr, the raw one beside, and what it did is said", async () => {
  const dir = await Deno.makeTempDir({ prefix: "octane-outputs-" });
  try {
    const image = { width: 2, height: 1, rgb: new Float32Array([0.25, 0.25, 0.25, 0.5, 0.5, 0.5]) };
    const denoiser: OutputDenoiser = {
      aux: false,
      weightsPath: "/weights/rt_hdr.tza",
      denoise: (input) =>
        Promise.resolve({
          image: input.color.map(() => 1),
          ms: 1500,
          adapter: "fake",
          weights: "rt_hdr",
        }),
    };
    const files = { output: `${dir}/a.png`, hdr: `${dir}/a.pfm`, denoise: true };
    const report = await writeImages(files, image, { denoiser });
    assert.deepEqual(report, {
      ms: 1500,
      adapter: "fake",
      weights: "rt_hdr",
      weightsFile: "rt_hdr.tza",
      raw: [`${dir}/a.raw.png`, `${dir}/a.raw.pfm`],
    });
    assert.deepEqual([...decodePfm(await Deno.readFile(`${dir}/a.pfm`)).rgb], [1, 1, 1, 1, 1, 1]);
    assert.deepEqual([...decodePfm(await Deno.readFile(`${dir}/a.raw.pfm`)).rgb], [...image.rgb]);
    assert.equal(decodePng(await Deno.readFile(`${dir}/a.raw.png`)).width, 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
