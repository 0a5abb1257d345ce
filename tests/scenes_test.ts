/**
 * Every real model in ../shared/scenes (written by others; see each folder's licence) loads, compiles,
 * renders a few samples to a non-black image, and renders the same from its compiled .ocrd.
 */
import assert from "node:assert/strict";
import { openGpu } from "../mod/gpu/mod.ts";
import { compileScene, decodeRenderData, encodeRenderData } from "../mod/render_data/mod.ts";
import { GpuRenderer } from "../mod/render/mod.ts";
import { loadScene } from "../mod/scene/mod.ts";

const shared = new URL("../../shared/scenes/", import.meta.url).pathname;
const scenes: string[] = [];
try {
  for (const dir of Deno.readDirSync(shared)) {
    if (!dir.isDirectory) continue;
    for (const f of Deno.readDirSync(`${shared}${dir.name}`)) {
      if (/\.(gltf|glb|obj)$/i.test(f.name)) scenes.push(`${dir.name}/${f.name}`);
    }
  }
} catch (error: unknown) {
  if (!(error instanceof Deno.errors.NotFound)) throw error;
}
const gpu = await openGpu();
globalThis.addEventListener("unload", () => gpu.device.destroy());

Deno.test("the shared scenes are all found", () => {
  assert.ok(
    scenes.length >= 6,
    `found ${scenes.length} scenes in ${shared}: the shared test scenes must sit beside the repository`,
  );
});

for (const name of scenes.sort()) {
  Deno.test(`shared scene ${name}: loads, compiles, renders non-black, and its .ocrd renders the same`, async () => {
    const data = compileScene(await loadScene(`${shared}${name}`));
    assert.ok(data.stats.triangles > 0);
    const settings = { width: 32, height: 24, seed: 1, maxDepth: 6 };
    const images: Float32Array[] = [];
    for (const d of [data, decodeRenderData(encodeRenderData(data))]) {
      const r = await GpuRenderer.create(gpu, d, settings);
      try {
        const tile = await r.render({ start: 0, count: 2 });
        assert.equal(tile.droppedSamples, 0, "no non-finite samples");
        images.push(tile.sums);
      } finally {
        r.destroy();
      }
    }
    const lit = images[0]!.filter((v) => v > 1e-3).length;
    assert.ok(lit > images[0]!.length / 20, `${lit} of ${images[0]!.length} values lit`);
    assert.deepEqual(images[1], images[0]);
  });
}
