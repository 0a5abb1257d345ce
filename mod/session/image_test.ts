import assert from "node:assert/strict";
import { IMAGE_DEFAULTS, imageSize } from "./image.ts";

Deno.test("the image size: as asked; a camera's aspect ratio sets the side not asked for", () => {
  const side = IMAGE_DEFAULTS.width;
  assert.deepEqual(imageSize({}), { width: side, height: IMAGE_DEFAULTS.height });
  assert.deepEqual(imageSize({ width: 64 }), { width: 64, height: IMAGE_DEFAULTS.height });
  assert.deepEqual(imageSize({ width: 64, height: 48 }, 2), { width: 64, height: 48 });
  assert.deepEqual(imageSize({ width: 64 }, 2), { width: 64, height: 32 });
  assert.deepEqual(imageSize({ height: 64 }, 2), { width: 128, height: 64 });
  // neither: the longer side is the default side
  assert.deepEqual(imageSize({}, 2), { width: side, height: side / 2 });
  assert.deepEqual(imageSize({}, 0.5), { width: side / 2, height: side });
  // never below one pixel
  assert.deepEqual(imageSize({ width: 1 }, 4), { width: 1, height: 1 });
});
