import assert from "node:assert/strict";
import { cornellBox } from "../scene/mod.ts";
import { CameraError, cameraJson, cameraOf, parseCamera, sceneBounds, withCamera } from "./camera.ts";
import { compileScene } from "./compile.ts";
import { renderDataSections } from "./mod.ts";

const data = compileScene(cornellBox());

Deno.test("a camera read from render data gives the same camera block back", () => {
  const camera = cameraOf(data);
  assert.ok(camera.fovY > 30 && camera.fovY < 50, `fov ${camera.fovY}`);
  const again = withCamera(data, camera).camera;
  for (let i = 0; i < again.length; i++) {
    assert.ok(Math.abs(again[i]! - data.camera[i]!) < 1e-4, `float ${i}`);
  }
});

Deno.test("the orbit pivot of a pinhole camera lies level with the scene's centre", () => {
  const bounds = sceneBounds(data)!;
  const camera = cameraOf(data);
  const centreZ = (bounds.min[2]! + bounds.max[2]!) / 2;
  assert.ok(Math.abs(camera.target[2] - centreZ) < 1, `target ${camera.target} centre z ${centreZ}`);
});

Deno.test("another camera changes the camera section only", () => {
  const camera = { ...cameraOf(data), fovY: 60 };
  const before = renderDataSections(data), after = renderDataSections(withCamera(data, camera));
  const changed = after.filter((s, i) => s.hash !== before[i]!.hash).map((s) => s.name);
  assert.deepEqual(changed, ["camera"]);
});

Deno.test("insane cameras are refused with a line that names the field", () => {
  const good = { position: [0, 0, 0], target: [0, 0, 1], up: [0, 1, 0], fov: 40 };
  assert.deepEqual(cameraJson(parseCamera(good)), { ...good, lensRadius: 0, focusDistance: 0 });
  const cases: [unknown, RegExp][] = [
    [null, /must be an object/],
    [{ ...good, position: [0, 0] }, /"position" must be three numbers/],
    [{ ...good, target: [0, 0, NaN] }, /"target" must be finite/],
    [{ ...good, target: [0, 0, 0] }, /"target" must differ from "position"/],
    [{ ...good, up: [0, 0, 0] }, /"up" must not be zero/],
    [{ ...good, up: [0, 0, 2] }, /"up" must not be parallel/],
    [{ ...good, fov: 0 }, /"fov" must be/],
    [{ ...good, fov: 180 }, /"fov" must be/],
    [{ ...good, fov: "40" }, /"fov" must be/],
    [{ ...good, lensRadius: -1 }, /"lensRadius" must be a number of 0 or more/],
  ];
  for (const [value, message] of cases) {
    assert.throws(
      () => parseCamera(value),
      (e: unknown) => e instanceof CameraError && message.test(e.message),
    );
  }
});

Deno.test("the JSON form reads into the one Camera and back: fov is fovY in degrees, a lens focuses on the target by default", () => {
  const json = { position: [0, 1, 4], target: [0, 1, 0], up: [0, 1, 0], fov: 35, lensRadius: 0.1 };
  const camera = parseCamera(json);
  assert.deepEqual(camera, {
    position: [0, 1, 4],
    target: [0, 1, 0],
    up: [0, 1, 0],
    fovY: 35,
    lensRadius: 0.1,
    focusDistance: 4,
  });
  assert.deepEqual(cameraJson(camera), { ...json, focusDistance: 4 });
  assert.deepEqual(parseCamera(cameraJson(camera)), camera);
  // a focus distance given is kept, with a lens or without
  assert.equal(parseCamera({ ...json, focusDistance: 2 }).focusDistance, 2);
  assert.equal(parseCamera({ ...json, lensRadius: 0, focusDistance: 2 }).focusDistance, 2);
});
