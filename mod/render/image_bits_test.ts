// The kernel's image, bit for bit: the built-in scenes and synthetic scenes that turn on every feature the
// kernel compiles in or out render the bits recorded in tests/data/image_bits.json (on another adapter, the
// same means within 5%). A change to the kernel, the GPU data layout or the compiler that moves a bit fails
// here; record an intended change with `deno task bits --write`. The shared scenes are checked the same way
// by tests/scenes_test.ts.
import assert from "node:assert/strict";
import { openGpu } from "../gpu/mod.ts";
import { compareBits, GOLDEN_SCENES, goldenBits, readGoldenRecord } from "./_golden_scenes.ts";

const gpu = await openGpu();
globalThis.addEventListener("unload", () => gpu.device.destroy());
const record = await readGoldenRecord();

for (const scene of GOLDEN_SCENES) {
  Deno.test(`image bits: ${scene.name} renders as recorded`, async () => {
    const problem = compareBits(record, gpu.summary.name, await goldenBits(gpu, scene));
    assert.equal(problem, undefined, problem);
  });
}
