import assert from "node:assert/strict";
import { decodeExr, encodeExr } from "./exr.ts";

const image = { width: 3, height: 2, rgb: new Float32Array(18).map((_, i) => i * 0.25 - 1.5) };

Deno.test("encodeExr writes a scanline OpenEXR of FLOAT B, G, R channels that round-trips exactly", () => {
  const exr = encodeExr(image);
  const view = new DataView(exr.buffer);
  assert.equal(view.getInt32(0, true), 20000630);
  assert.equal(view.getInt32(4, true), 2);
  const text = new TextDecoder("latin1").decode(exr);
  for (
    const name of [
      "channels\0chlist",
      "compression\0compression",
      "dataWindow\0box2i",
      "lineOrder\0lineOrder",
    ]
  ) {
    assert.ok(text.includes(name), name);
  }
  assert.equal(
    exr.length,
    text.indexOf("screenWindowWidth") + "screenWindowWidth\0float\0".length + 8 + 1 + 2 * 8 + 2 * (8 + 36),
  );
  assert.deepEqual(decodeExr(exr), image);
});

Deno.test("decodeExr rejects wrong magic and truncated files", () => {
  assert.throws(() => decodeExr(new Uint8Array(16)), SyntaxError);
  const exr = encodeExr(image);
  assert.throws(() => decodeExr(exr.subarray(0, exr.length - 10)), SyntaxError);
});
