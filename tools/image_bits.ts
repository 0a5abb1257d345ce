/**
 * Renders the scenes that guard the kernel's image bits (mod/render/_golden_scenes.ts: built-in and
 * synthetic scenes, and every shared scene as tests/scenes_test.ts renders it) and prints each one's SHA-256
 * and mean; with --write records them in tests/data/image_bits.json, which image_bits_test.ts and
 * scenes_test.ts compare with. Run it before and after a change that must keep the image (`deno task bits`),
 * and record with `deno task bits --write` once a change of the image is intended (say why in the commit).
 */
import { openGpu } from "../mod/gpu/mod.ts";
import { loadRenderData } from "../mod/render_data/mod.ts";
import { GpuRenderer } from "../mod/render/mod.ts";
import {
  bitsOf,
  GOLDEN_RECORD,
  GOLDEN_SCENES,
  type GoldenBits,
  goldenBits,
  type GoldenRecord,
  SHARED_SCENE_RENDER,
  SHARED_SCENES,
  sharedScenes,
} from "../mod/render/_golden_scenes.ts";

const gpu = await openGpu();
try {
  const scenes: GoldenBits[] = [];
  const show = (s: GoldenBits) =>
    console.log(`${s.sha256.slice(0, 16)}  ${s.mean.toPrecision(8).padEnd(12)}  ${s.name}`);
  for (const scene of GOLDEN_SCENES) {
    scenes.push(await goldenBits(gpu, scene));
    show(scenes.at(-1)!);
  }
  for (const name of sharedScenes()) {
    // compiled, and its automatic camera placed, as render and master do
    const data = await loadRenderData(`${SHARED_SCENES}${name}`);
    const renderer = await GpuRenderer.create(gpu, data, SHARED_SCENE_RENDER.settings);
    try {
      const tile = await renderer.render({ start: 0, count: SHARED_SCENE_RENDER.spp });
      scenes.push(bitsOf(name, tile, SHARED_SCENE_RENDER.spp));
      show(scenes.at(-1)!);
    } finally {
      renderer.destroy();
    }
  }
  if (Deno.args.includes("--write")) {
    const record: GoldenRecord = { adapter: gpu.summary.name, scenes };
    await Deno.writeTextFile(GOLDEN_RECORD, JSON.stringify(record, null, 2) + "\n");
    console.log(
      `Recorded ${scenes.length} scenes rendered on ${gpu.summary.name} in ${GOLDEN_RECORD.pathname}`,
    );
  }
} finally {
  gpu.device.destroy();
}
