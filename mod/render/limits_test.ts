import assert from "node:assert/strict";
import { openGpu } from "../gpu/mod.ts";
import { checkImageSize, largestFit, RENDER_BYTES_PER_PIXEL } from "./limits.ts";

const gpu = await openGpu();
globalThis.addEventListener("unload", () => gpu.device.destroy());

Deno.test("largestFit keeps the aspect within a width and a pixel count", () => {
  assert.deepEqual(largestFit(4096, 2160, { maxWidth: 1024, maxPixels: Infinity }), {
    width: 1024,
    height: 540,
  });
  assert.deepEqual(largestFit(4000, 2000, { maxWidth: Infinity, maxPixels: 2_000_000 }), {
    width: 2000,
    height: 1000,
  });
  const odd = largestFit(4096, 2160, { maxWidth: Infinity, maxPixels: 3_000_000 });
  assert.ok(odd.width * odd.height <= 3_000_000 && odd.width * odd.height > 2_990_000, JSON.stringify(odd));
  assert.ok(Math.abs(odd.width / odd.height - 4096 / 2160) < 0.002);
  assert.deepEqual(largestFit(100, 100, { maxWidth: 50, maxPixels: 0 }), { width: 0, height: 0 });
});

Deno.test("checkImageSize passes what fits and names the largest image that fits otherwise", () => {
  checkImageSize(4096, 2160, { gpu, bytesPerPixel: RENDER_BYTES_PER_PIXEL, availableBytes: 4e9 });
  const narrow = { ...gpu, maxBindingBytes: 1024 * 16 };
  assert.throws(() => checkImageSize(4096, 2160, { gpu: narrow, bytesPerPixel: RENDER_BYTES_PER_PIXEL }), {
    name: "ImageTooLargeError",
    message:
      /^Cannot render 4096x2160: a row of 4096 pixels does not fit one buffer of ".+" \(it binds 16384 bytes: 1024 pixels\); the largest image that fits at this aspect is 1024x540$/,
    largest: { width: 1024, height: 540 },
  });
  // a master without a GPU of its own is bound by its memory alone
  assert.throws(() => checkImageSize(4096, 2160, { bytesPerPixel: 100, availableBytes: 500e6 }), {
    message:
      /^Cannot render 4096x2160: it needs about 0\.9 GB of memory and 0\.5 GB is available; the largest image that fits at this aspect is 3079x1623$/,
  });
  checkImageSize(3079, 1623, { bytesPerPixel: 100, availableBytes: 500e6 });
});
