// Helpers of render_data's tests.
import assert from "node:assert/strict";
import { decodeRenderData } from "./ocrd.ts";
import { RenderDataError } from "./sections.ts";
import { cornellBox, type Scene } from "../scene/mod.ts";

/** Asserts that decoding `bytes` fails with one line naming "x.ocrd" (and matching `pattern`). */
export function rejects(bytes: Uint8Array, pattern?: RegExp): void {
  assert.throws(() => decodeRenderData(bytes, "x.ocrd"), (e: unknown) => {
    assert.ok(e instanceof RenderDataError, `a RenderDataError, not ${e}`);
    assert.ok(!e.message.includes("\n"), "one line");
    assert.match(e.message, /^Cannot load "x.ocrd": /);
    if (pattern) assert.match(e.message, pattern);
    return true;
  });
}

/** The Cornell box lit also by a spot and a sun. */
export function spotAndSun(): Scene {
  const scene = cornellBox();
  scene.lights = [{
    kind: "spot",
    position: [278, 500, 280],
    direction: [0, -1, 0],
    intensity: [100, 90, 80],
    innerConeAngle: 0.3,
    outerConeAngle: 0.6,
  }, {
    kind: "directional",
    position: [0, 0, 0],
    direction: [0, -1, 0],
    intensity: [1, 1, 1],
    innerConeAngle: Math.PI,
    outerConeAngle: Math.PI,
  }];
  return scene;
}
