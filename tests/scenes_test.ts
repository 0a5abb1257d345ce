/**
 * Every real model in ../shared/scenes (written by others; see each folder's licence) loads, compiles,
 * renders a few samples to a non-black image, and renders the same from its compiled .ocrd.
 */
import assert from "node:assert/strict";
import { openGpu } from "../mod/gpu/mod.ts";
import { decodeRenderData, encodeRenderData, loadRenderData } from "../mod/render_data/mod.ts";
import { GpuRenderer } from "../mod/render/mod.ts";
import {
  bitsOf,
  compareBits,
  readGoldenRecord,
  SHARED_SCENE_RENDER,
  SHARED_SCENES as shared,
  sharedScenes,
} from "../mod/render/_golden_scenes.ts";

const scenes = sharedScenes();
const gpu = await openGpu();
globalThis.addEventListener("unload", () => gpu.device.destroy());
const record = await readGoldenRecord();

Deno.test("the shared scenes are all found", () => {
  assert.ok(
    scenes.length >= 6,
    `found ${scenes.length} scenes in ${shared}: the shared test scenes must sit beside the repository`,
  );
});

for (const name of scenes) {
  Deno.test(`shared scene ${name}: loads, compiles, renders non-black and the recorded bits, and its .ocrd renders the same`, async () => {
    // compiled, and its automatic camera placed as render and master do (compiling alone does not place it)
    const data = await loadRenderData(`${shared}${name}`);
    assert.ok(data.stats.triangles > 0);
    const { settings, spp } = SHARED_SCENE_RENDER;
    const images: Float32Array[] = [];
    for (const d of [data, decodeRenderData(encodeRenderData(data))]) {
      const r = await GpuRenderer.create(gpu, d, settings);
      try {
        const tile = await r.render({ start: 0, count: spp });
        assert.equal(tile.droppedSamples, 0, "no non-finite samples");
        images.push(tile.sums);
        if (d === data) {
          const problem = compareBits(record, gpu.summary.name, bitsOf(name, tile, spp));
          assert.equal(problem, undefined, problem);
        }
      } finally {
        r.destroy();
      }
    }
    const lit = images[0]!.filter((v) => v > 1e-3).length;
    assert.ok(lit > images[0]!.length / 20, `${lit} of ${images[0]!.length} values lit`);
    assert.deepEqual(images[1], images[0]);
  });
}
