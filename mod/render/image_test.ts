import assert from "node:assert/strict";
import { decodePfm, decodePng, encodePfm, encodePng, type HdrImage, meanImage, toSrgb8 } from "./image.ts";

const image: HdrImage = {
  width: 3,
  height: 2,
  rgb: new Float32Array([
    0,
    0.5,
    1,
    2,
    -1,
    0.0031308,
    0.2,
    0.4,
    0.6,
    0.8,
    1e-3,
    0.25,
    3.5,
    0.125,
    0.75,
    1,
    1,
    1,
  ]),
};

Deno.test("toSrgb8 clamps and applies the sRGB curve", () => {
  const px = toSrgb8(image);
  assert.deepEqual([...px.subarray(0, 6)], [0, 188, 255, 255, 0, 10]);
});

Deno.test("encodePng writes a PNG that decodes to the tone-mapped pixels", () => {
  const png = encodePng(image);
  assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]);
  const back = decodePng(png);
  assert.equal(back.width, 3);
  assert.equal(back.height, 2);
  assert.deepEqual(back.rgb, toSrgb8(image));
});

Deno.test("encodePfm round-trips linear floats exactly, top row first in memory", () => {
  const back = decodePfm(encodePfm(image));
  assert.equal(back.width, 3);
  assert.equal(back.height, 2);
  assert.deepEqual(back.rgb, image.rgb);
  const text = new TextDecoder().decode(encodePfm(image).subarray(0, 12));
  assert.equal(text, "PF\n3 2\n-1.0\n");
});

Deno.test("meanImage divides sums by the sample count and checks sizes", () => {
  const m = meanImage([2, 4, 6], 2, 1, 1);
  assert.deepEqual([...m.rgb], [1, 2, 3]);
  assert.throws(() => meanImage([1, 2], 1, 1, 1), RangeError);
  assert.throws(() => decodePng(new Uint8Array(10)), SyntaxError);
  assert.throws(() => decodePfm(new TextEncoder().encode("P6\n1 1\n255\n")), SyntaxError);
});
