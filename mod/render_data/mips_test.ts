import assert from "node:assert/strict";
import { mipChain, mipSizes, mipTexels } from "./mips.ts";

function srgbToLinear(b: number): number {
  const c = b / 255;
  return c <= 0.04045 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
}

/** Level `k` of a chain as [width, height, bytes]. */
function level(rgba: Uint8Array, width: number, height: number, k: number): [number, number, Uint8Array] {
  const sizes = mipSizes(width, height);
  const at = mipTexels(width, height, k) * 4;
  const s = sizes[k]!;
  return [s.width, s.height, rgba.subarray(at, at + s.width * s.height * 4)];
}

function mean(bytes: Uint8Array, channel: number, decode: (b: number) => number = (b) => b / 255): number {
  let sum = 0;
  for (let i = channel; i < bytes.length; i += 4) sum += decode(bytes[i]!);
  return sum / (bytes.length / 4);
}

Deno.test("mip sizes halve rounding down to 1x1, for powers of two and not", () => {
  assert.deepEqual(mipSizes(8, 2).map((s) => [s.width, s.height]), [[8, 2], [4, 1], [2, 1], [1, 1]]);
  assert.deepEqual(mipSizes(5, 3).map((s) => [s.width, s.height]), [[5, 3], [2, 1], [1, 1]]);
  assert.deepEqual(mipSizes(1, 1).map((s) => [s.width, s.height]), [[1, 1]]);
  assert.equal(mipSizes(4096, 4096).length, 13);
  assert.equal(mipTexels(4, 4, 3), 16 + 4 + 1);
  // the whole chain of a large square texture adds about a third
  assert.ok(Math.abs(mipTexels(1024, 1024, 11) / (1024 * 1024) - 4 / 3) < 1e-3);
});

Deno.test("mip chain: level 0 is the texture, each level keeps the mean, odd sizes too", () => {
  for (const [w, h] of [[16, 16], [7, 5], [13, 1], [3, 9]] as const) {
    const rgba = new Uint8Array(w * h * 4);
    for (let i = 0; i < rgba.length; i++) rgba[i] = (i * 7919 + (i >> 2) * 31) % 256;
    const chain = mipChain({ width: w, height: h, rgba }, false);
    assert.equal(chain.levels, mipSizes(w, h).length);
    assert.equal(chain.rgba.length, mipTexels(w, h, chain.levels) * 4);
    assert.deepEqual(chain.rgba.subarray(0, rgba.length), rgba);
    for (let k = 1; k < chain.levels; k++) {
      const [lw, lh, bytes] = level(chain.rgba, w, h, k);
      assert.equal(bytes.length, lw * lh * 4);
      for (let c = 0; c < 4; c++) {
        // each level filtered from level 0 in floats: only its own 8-bit rounding (half a step) differs
        assert.ok(
          Math.abs(mean(bytes, c) - mean(rgba, c)) <= 0.5 / 255 + 1e-6,
          `${w}x${h} level ${k} channel ${c}: ${mean(bytes, c)} vs ${mean(rgba, c)}`,
        );
      }
    }
  }
});

Deno.test("mip chain: odd sizes are filtered by a box over the exact source area each texel covers", () => {
  // 3x1 -> 1x1: one texel covering all three equally
  const rgba = new Uint8Array([0, 0, 0, 255, 90, 90, 90, 255, 180, 180, 180, 255]);
  const chain = mipChain({ width: 3, height: 1, rgba }, false);
  assert.deepEqual([...chain.rgba.subarray(12, 16)], [90, 90, 90, 255]);
  // 5x1 -> 2x1: texel 0 covers [0, 2.5): texels 0 and 1 whole, texel 2 half
  const five = new Uint8Array(20);
  [0, 50, 100, 150, 200].forEach((v, i) => five.set([v, v, v, 255], i * 4));
  const two = mipChain({ width: 5, height: 1, rgba: five }, false);
  assert.deepEqual([...two.rgba.subarray(20, 28)], [40, 40, 40, 255, 160, 160, 160, 255]);
});

Deno.test("mip chain: sRGB textures are averaged in linear light, data textures as stored, alpha always linear", () => {
  // a black and white checkerboard: its linear mean is 0.5, which sRGB encodes as 188, not 128
  const w = 8, h = 8;
  const rgba = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const v = (x + y) % 2 ? 255 : 0;
      rgba.set([v, v, v, v], (y * w + x) * 4);
    }
  }
  // colour opaque (alpha would weigh it, see the next test); data with the same values in its alpha
  const opaque = rgba.map((v, i) => i % 4 === 3 ? 255 : v);
  const srgb = mipChain({ width: w, height: h, rgba: opaque }, true);
  const data = mipChain({ width: w, height: h, rgba }, false);
  const [, , s1] = level(srgb.rgba, w, h, 1);
  const [, , d1] = level(data.rgba, w, h, 1);
  for (let i = 0; i < s1.length; i += 4) {
    assert.equal(s1[i], 188, "sRGB of linear 0.5");
    assert.ok(Math.abs(srgbToLinear(s1[i]!) - 0.5) < 0.005);
    assert.equal(d1[i], 128, "data is averaged as stored");
    assert.equal(d1[i + 3], 128, "alpha is averaged as stored");
  }
  const [, , last] = level(srgb.rgba, w, h, srgb.levels - 1);
  assert.equal(last.length, 4);
  assert.equal(last[0], 188);
});

Deno.test("mip chain: a colour texture with coverage weighs colour by alpha, so transparent texels do not darken it", () => {
  // alpha-masked foliage: two opaque green texels, two transparent black ones
  const rgba = new Uint8Array([0, 200, 0, 255, 0, 0, 0, 0, 0, 0, 0, 0, 0, 200, 0, 255]);
  const chain = mipChain({ width: 2, height: 2, rgba }, true);
  const [, , l1] = level(chain.rgba, 2, 2, 1);
  assert.deepEqual([...l1], [0, 200, 0, 128], "the opaque texels' colour, half the coverage");
  // fully transparent everywhere: colour 0 rather than a division by zero
  const clear = mipChain({ width: 2, height: 2, rgba: new Uint8Array(16) }, true);
  assert.deepEqual([...level(clear.rgba, 2, 2, 1)[2]], [0, 0, 0, 0]);
});
