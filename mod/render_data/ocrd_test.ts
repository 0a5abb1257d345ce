import assert from "node:assert/strict";
import { openGpu } from "../gpu/mod.ts";
import { GpuRenderer } from "../render/mod.ts";
import { cornellBox, cornellSpheres } from "../scene/mod.ts";
import {
  compileScene,
  decodeRenderData,
  encodeRenderData,
  OCRD_VERSION,
  type RenderData,
  renderDataHash,
  renderDataSections,
} from "./mod.ts";
import { rejects } from "./_testing.ts";

const data = compileScene(cornellSpheres());
const file = encodeRenderData(data);

function sectionsOf(d: RenderData): Record<string, string> {
  return Object.fromEntries(renderDataSections(d).map((s) => [s.name, s.hash]));
}

Deno.test(".ocrd round-trips every section and the content hash", () => {
  const back = decodeRenderData(file);
  assert.deepEqual(sectionsOf(back), sectionsOf(data));
  assert.equal(renderDataHash(back), renderDataHash(data));
  assert.deepEqual(back.stats, { ...data.stats, bvhMs: 0 });
  assert.deepEqual(encodeRenderData(back), file);
});

Deno.test("a moved camera changes only the camera section's hash", () => {
  const scene = cornellSpheres();
  scene.camera.position = [278, 300, -750];
  const moved = sectionsOf(compileScene(scene));
  const before = sectionsOf(data);
  for (const name of Object.keys(before)) {
    if (name === "camera") assert.notEqual(moved[name], before[name]);
    else assert.equal(moved[name], before[name], name);
  }
});

Deno.test("rendering a scene and its .ocrd gives the same image", async () => {
  const gpu = await openGpu();
  try {
    const settings = { width: 24, height: 24, seed: 3, maxDepth: 8 };
    const sums: Float32Array[] = [];
    for (const d of [data, decodeRenderData(file)]) {
      const r = await GpuRenderer.create(gpu, d, settings);
      sums.push((await r.render({ start: 0, count: 8 })).sums);
      r.destroy();
    }
    assert.deepEqual(sums[0], sums[1]);
  } finally {
    gpu.device.destroy();
  }
});

Deno.test("a .ocrd truncated anywhere, at every section boundary included, is rejected cleanly", () => {
  const dv = new DataView(file.buffer);
  const boundaries = new Set<number>([0, 7, 8, 12, 16, 47, 48]);
  const count = dv.getUint32(12, true);
  for (let i = 0; i < count; i++) {
    const offset = Number(dv.getBigUint64(48 + i * 56 + 8, true)),
      length = Number(dv.getBigUint64(48 + i * 56 + 16, true));
    for (const b of [48 + i * 56, offset, offset + 1, offset + length - 1]) boundaries.add(b);
  }
  for (let cut = 0; cut < file.length; cut += 97) boundaries.add(cut);
  for (const cut of boundaries) if (cut < file.length) rejects(file.subarray(0, cut));
});

Deno.test("flipped bytes anywhere in a .ocrd are rejected cleanly", () => {
  // every 7th byte of a small file, and 300 positions spread over a larger one
  const small = encodeRenderData(compileScene(cornellBox()));
  const positions: [Uint8Array, number][] = [];
  for (let at = 0; at < small.length; at += 7) positions.push([small, at]);
  for (let k = 0; k < 300; k++) positions.push([file, Math.floor(k * file.length / 300)]);
  let checked = 0;
  for (const [bytes, at] of positions) {
    if (isPadding(bytes, at)) continue; // alignment padding between sections carries nothing
    const bad = bytes.slice();
    bad[at]! ^= 0x5a;
    rejects(bad);
    checked++;
  }
  assert.ok(checked > 500);
});

function isPadding(bytes: Uint8Array, at: number): boolean {
  const dv = new DataView(bytes.buffer);
  const count = dv.getUint32(12, true);
  if (at < 48 + count * 56) return false;
  for (let i = 0; i < count; i++) {
    const offset = Number(dv.getBigUint64(48 + i * 56 + 8, true)),
      length = Number(dv.getBigUint64(48 + i * 56 + 16, true));
    if (at >= offset && at < offset + length) return false;
  }
  return true;
}

Deno.test(".ocrd: wrong magic, future version and oversized section count give named errors", () => {
  const magic = file.slice();
  magic[0] = 0x58;
  rejects(magic, /wrong magic/);
  const future = file.slice();
  new DataView(future.buffer).setUint32(8, OCRD_VERSION + 1, true);
  rejects(future, /newer than this octane reads.*upgrade octane/);
  const many = file.slice();
  new DataView(many.buffer).setUint32(12, 1000, true);
  rejects(many, /section count 1000/);
  const past = file.slice();
  new DataView(past.buffer).setBigUint64(48 + 16, 1n << 40n, true);
  rejects(past, /past the end of the file/);
});
