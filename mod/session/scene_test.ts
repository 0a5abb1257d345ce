import assert from "node:assert/strict";
import { cameraBlock, cameraOf, encodeRenderData } from "../render_data/mod.ts";
import { cornellBox } from "../scene/mod.ts";
import { openScene } from "./scene.ts";

Deno.test("openScene compiles a built-in scene through its own camera, in full precision", async () => {
  const { data, camera } = await openScene({ name: "cornell" });
  assert.deepEqual(camera, cornellBox().camera);
  assert.deepEqual(data.camera, cameraBlock(camera));
});

Deno.test("openScene applies a camera file's camera, then the overrides, to the camera section only", async () => {
  const plain = await openScene({ name: "cornell" });
  const { aspectRatio: _, ...own } = plain.camera;
  const file = { ...own, position: [278, 273, -600] as [number, number, number] };
  const { data, camera } = await openScene({ name: "cornell", camera: file, overrides: { fovY: 30 } });
  assert.deepEqual(camera, { ...file, fovY: 30, focusDistance: 0 });
  assert.deepEqual(data.triangles, plain.data.triangles);
  assert.notDeepEqual(data.camera, plain.data.camera);
  assert.deepEqual(data.nodes, plain.data.nodes);
});

Deno.test("openScene reads an .ocrd as it is, its camera read back from the block", async () => {
  const dir = await Deno.makeTempDir({ prefix: "octane-session-" });
  try {
    const { data } = await openScene({ name: "cornell" });
    await Deno.writeFile(`${dir}/c.ocrd`, encodeRenderData(data));
    const read = await openScene({ name: `${dir}/c.ocrd` });
    assert.deepEqual(read.camera, cameraOf(data));
    assert.deepEqual(read.data.camera, data.camera);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
