import assert from "node:assert/strict";
import { decodeHdr, encodeHdr, HdrError, rgbeWord } from "./hdr.ts";

Deno.test("RGBE round-trips to within its 8-bit mantissa, and 1.0 exactly", () => {
  const map = {
    width: 3,
    height: 2,
    rgb: new Float32Array([1, 1, 1, 0, 0, 0, 0.5, 2, 1000, 1e-3, 0.25, 7, 3, 3, 3, 0.1, 0.2, 0.3]),
  };
  const back = decodeHdr(encodeHdr(map));
  assert.deepEqual([back.width, back.height], [3, 2]);
  assert.deepEqual([...back.rgb.subarray(0, 6)], [1, 1, 1, 0, 0, 0]);
  for (let i = 0; i < map.rgb.length; i += 3) {
    const max = Math.max(map.rgb[i]!, map.rgb[i + 1]!, map.rgb[i + 2]!);
    for (let c = 0; c < 3; c++) {
      assert.ok(Math.abs(back.rgb[i + c]! - map.rgb[i + c]!) <= max / 128, `texel ${i / 3} channel ${c}`);
    }
  }
  assert.equal(rgbeWord(0, 0, 0), 0);
});

Deno.test("decodeHdr reads run-length-encoded scanlines", () => {
  const header = new TextEncoder().encode("#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y 1 +X 8\n");
  // one scanline of 8 texels: R a run of 8 x 128, G literals 0..7, B a run of 8 x 64, E a run of 8 x 129
  const body = [2, 2, 0, 8, 128 + 8, 128, 8, 0, 1, 2, 3, 4, 5, 6, 7, 128 + 8, 64, 128 + 8, 129];
  const bytes = new Uint8Array([...header, ...body]);
  const map = decodeHdr(bytes);
  for (let x = 0; x < 8; x++) {
    const f = Math.pow(2, 129 - 136);
    assert.deepEqual([...map.rgb.subarray(x * 3, x * 3 + 3)], [128 * f, x * f, 64 * f]);
  }
});

Deno.test("decodeHdr rejects other formats, odd orientations and truncated data with one-line errors", () => {
  const ok = encodeHdr({ width: 4, height: 4, rgb: new Float32Array(48).fill(1) });
  for (
    const [bytes, pattern] of [
      [new TextEncoder().encode("P6\n4 4\n255\n"), /no #\? signature/],
      [new TextEncoder().encode("#?RADIANCE\nFORMAT=32-bit_rle_xyze\n\n-Y 1 +X 1\n"), /unsupported FORMAT/],
      [new TextEncoder().encode("#?RADIANCE\n\n+Y 1 +X 1\n"), /standard orientation/],
      [ok.subarray(0, ok.length - 5), /truncated/],
      [ok.subarray(0, 12), /header is truncated/],
    ] as const
  ) {
    assert.throws(
      () => decodeHdr(bytes, "x.hdr"),
      (e: unknown) => e instanceof HdrError && pattern.test(e.message) && !e.message.includes("\n"),
    );
  }
});
