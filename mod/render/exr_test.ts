import assert from "node:assert/strict";
import { decodeExr, decodeExrChannels, encodeExr } from "./exr.ts";

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

Deno.test("encodeExr with AOVs adds albedo.B/G/R and normal.X/Y/Z, channels in byte order, and the colour still decodes", () => {
  const aovs = {
    width: 3,
    height: 2,
    albedo: new Float32Array(18).map((_, i) => i / 18),
    normal: new Float32Array(18).map((_, i) => (i % 3) - 1),
  };
  const exr = encodeExr(image, { aovs });
  const { width, height, channels } = decodeExrChannels(exr);
  assert.deepEqual([width, height], [3, 2]);
  assert.deepEqual([...channels.keys()], [
    "B",
    "G",
    "R",
    "albedo.B",
    "albedo.G",
    "albedo.R",
    "normal.X",
    "normal.Y",
    "normal.Z",
  ]);
  for (let i = 0; i < 6; i++) {
    assert.equal(channels.get("albedo.R")![i], aovs.albedo[i * 3]);
    assert.equal(channels.get("albedo.B")![i], aovs.albedo[i * 3 + 2]);
    assert.equal(channels.get("normal.X")![i], aovs.normal[i * 3]);
    assert.equal(channels.get("normal.Z")![i], aovs.normal[i * 3 + 2]);
  }
  assert.deepEqual(decodeExr(exr), image);
  // without AOVs the file is what it was: three channels
  assert.deepEqual([...decodeExrChannels(encodeExr(image)).channels.keys()], ["B", "G", "R"]);
});
