import assert from "node:assert/strict";
import type { Camera } from "../scene/mod.ts";
import { applyCameraOverrides, overridesAny } from "./camera.ts";

const pinhole: Camera = {
  position: [0, 1, 5],
  target: [0, 1, 0],
  up: [0, 1, 0],
  fovY: 40,
  lensRadius: 0,
  focusDistance: 7, // a pinhole's focus distance means nothing: overrides do not carry it
};
const lens: Camera = { ...pinhole, lensRadius: 0.2, focusDistance: 3 };

Deno.test("no override keeps the camera; --fov alone changes only the field of view", () => {
  assert.equal(overridesAny({}), false);
  assert.equal(overridesAny({ fovY: undefined }), false);
  assert.deepEqual(applyCameraOverrides(pinhole, { fovY: 60 }), { ...pinhole, fovY: 60, focusDistance: 0 });
  // a thin lens is kept, focused where it was
  assert.deepEqual(applyCameraOverrides(lens, { fovY: 60 }), { ...lens, fovY: 60 });
});

Deno.test("a new pose replaces the pose and the lens; an aperture with it focuses on its target", () => {
  const pose = {
    position: [4, 2, 0] as Camera["position"],
    target: [0, 2, 0] as Camera["target"],
    up: pinhole.up,
  };
  assert.deepEqual(applyCameraOverrides(lens, { pose }), {
    ...pose,
    fovY: 40,
    lensRadius: 0,
    focusDistance: 0,
  });
  assert.deepEqual(applyCameraOverrides(lens, { pose, aperture: 0.5 }), {
    ...pose,
    fovY: 40,
    lensRadius: 0.5,
    focusDistance: 4,
  });
  assert.equal(applyCameraOverrides(lens, { pose, aperture: 0.5, focusDistance: 9 }).focusDistance, 9);
});

Deno.test("an aperture on the scene's own camera focuses at the scene's depth; 0 makes a pinhole", () => {
  assert.equal(applyCameraOverrides(pinhole, { aperture: 0.1 }, 12).focusDistance, 12);
  assert.equal(applyCameraOverrides(pinhole, { aperture: 0.1 }).focusDistance, 5, "else on the target");
  assert.equal(applyCameraOverrides(lens, { aperture: 0.1 }, 12).focusDistance, 3, "a lens keeps its focus");
  assert.deepEqual(applyCameraOverrides(lens, { aperture: 0 }), { ...lens, lensRadius: 0, focusDistance: 0 });
});
