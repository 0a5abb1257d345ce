import assert from "node:assert/strict";
import { openGpu } from "../../mod/gpu/mod.ts";
import {
  compileScene,
  decodeRenderData,
  encodeRenderData,
  type RenderData,
} from "../../mod/render_data/mod.ts";
import { material, type Mesh, type Scene } from "../../mod/scene/mod.ts";
import type { Texture } from "../../mod/scene/types.ts";
import { GpuRenderer } from "../../mod/render/gpu_renderer.ts";
import { MATERIAL, TEX_REF, TRI } from "../../mod/gpu_layout/mod.ts";

const gpu = await openGpu();
globalThis.addEventListener("unload", () => gpu.device.destroy());

/** A square checkerboard texture of `checks`×`checks` black and white squares of `size` texels. */
function checkerboard(checks: number, size: number): Texture {
  const n = checks * size;
  const rgba = new Uint8Array(n * n * 4);
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      const v = ((x / size | 0) + (y / size | 0)) % 2 ? 255 : 0;
      rgba.set([v, v, v, 255], (y * n + x) * 4);
    }
  }
  return { name: "checkerboard", width: n, height: n, rgba };
}

/** A horizontal quad at y = 0 over [x0, x1] x [z0, z1], facing up, UV = (x, z) · uvScale. */
function floor(x0: number, x1: number, z0: number, z1: number, uvScale: number): Mesh {
  const corners = [[x0, z0], [x1, z0], [x1, z1], [x0, z1]];
  return {
    positions: new Float32Array(corners.flatMap(([x, z]) => [x!, 0, z!])),
    uvs: new Float32Array(corners.flatMap(([x, z]) => [x! * uvScale, z! * uvScale])),
    indices: new Uint32Array([0, 2, 1, 0, 3, 2]),
    material: 0,
  };
}

/**
 * A checkerboard floor to the horizon under a uniform white sky: every sample of a floor pixel is its
 * texture's linear value (one Lambertian bounce to a sky of 1), so a pixel's mean is the texture's mean
 * over what the pixel sees: 0.5 where many squares fall in it.
 */
function horizonScene(): Scene {
  return {
    meshes: [floor(-1e4, 1e4, -1e4, 10, 1)],
    materials: [material({ color: [1, 1, 1], baseColorTexture: { texture: 0 } })],
    // 2x2 squares of 32 texels: a square is half a unit of floor
    textures: [checkerboard(2, 32)],
    camera: {
      position: [0, 1, 0],
      target: [0, 0.8, -10],
      up: [0, 1, 0],
      fovY: 40,
      lensRadius: 0,
      focusDistance: 1,
    },
    environment: { color: [1, 1, 1] },
  };
}

async function render(data: RenderData, width: number, height: number, spp: number): Promise<Float32Array> {
  const r = await GpuRenderer.create(gpu, data, { width, height, seed: 3, maxDepth: 2 });
  try {
    const tile = await r.render({ start: 0, count: spp });
    return tile.sums.map((v) => v / spp);
  } finally {
    r.destroy();
  }
}

/** Mean and root-mean-square distance from `target` of the red channel over rows [y0, y1). */
function rowStats(image: Float32Array, width: number, y0: number, y1: number, target: number) {
  let sum = 0, sq = 0, n = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = 0; x < width; x++) {
      const v = image[(y * width + x) * 3]!;
      sum += v, sq += (v - target) ** 2, n++;
    }
  }
  return { mean: sum / n, rms: Math.sqrt(sq / n) };
}

Deno.test("mip levels: a checkerboard floor to the horizon is its mean grey at a distance at 4 spp, sharp up close", async () => {
  const width = 64, height = 48, spp = 4;
  // the horizon is 0.02 rad above the view's centre: row 22.7; rows 24-30 see the floor 7 to 60 units away
  const far = [24, 31] as const, near = [40, 48] as const;
  const mipped = await render(compileScene(horizonScene()), width, height, spp);
  const plain = await render(compileScene(horizonScene(), { mipmaps: false }), width, height, spp);
  const withMips = rowStats(mipped, width, ...far, 0.5);
  const without = rowStats(plain, width, ...far, 0.5);
  assert.ok(Math.abs(withMips.mean - 0.5) < 0.03, `far mean with mips ${withMips.mean}`);
  assert.ok(withMips.rms < 0.05, `far pixels with mips are grey: rms from 0.5 is ${withMips.rms}`);
  assert.ok(without.rms > 0.15, `far pixels without mips are noise: rms from 0.5 is ${without.rms}`);
  assert.ok(withMips.rms < without.rms / 4, `mips: ${withMips.rms}, none: ${without.rms}`);
  // up close the squares stay black and white: mips blur only what the pixel footprint covers
  for (const image of [mipped, plain]) {
    const close = rowStats(image, width, ...near, 0.5);
    assert.ok(close.rms > 0.3, `near squares keep their contrast: rms from 0.5 is ${close.rms}`);
  }
  // the sky is untouched
  assert.ok(Math.abs(rowStats(mipped, width, 0, 10, 1).mean - 1) < 1e-5);
});

Deno.test("KHR_texture_transform's scale counts in the level: a floor tiled 64 times as finely is grey where it was sharp", async () => {
  const width = 64, height = 48, spp = 4;
  const near = [40, 48] as const;
  const scene = horizonScene();
  const sharp = rowStats(await render(compileScene(scene), width, height, spp), width, ...near, 0.5);
  scene.materials[0]!.baseColorTexture = { texture: 0, transform: [64, 0, 0, 0, 64, 0] };
  const tiled = rowStats(await render(compileScene(scene), width, height, spp), width, ...near, 0.5);
  assert.ok(sharp.rms > 0.3, `untiled near rms ${sharp.rms}`);
  assert.ok(tiled.rms < 0.05 && Math.abs(tiled.mean - 0.5) < 0.03, `tiled near ${JSON.stringify(tiled)}`);
});

Deno.test(".ocrd round trip keeps every mip level and renders the same", async () => {
  const data = compileScene(horizonScene());
  // the 64x64 texture's chain: a header of the 7 levels' offsets, then 64² + 32² + ... + 1 texels
  assert.equal(
    data.texels.length,
    (7 + 4096 + 1024 + 256 + 64 + 16 + 4 + 1) * 4,
    "a 7-word header, 7 levels",
  );
  assert.equal(MATERIAL.read(data.materials, 0).tex[0]!.levels, 7);
  const back = decodeRenderData(encodeRenderData(data));
  assert.deepEqual(back.texels, data.texels);
  assert.deepEqual(back.materials, data.materials);
  assert.deepEqual(back.attributes, data.attributes);
  assert.deepEqual(await render(back, 32, 24, 2), await render(data, 32, 24, 2));
  // a texture reference claiming more levels than its size has is refused
  const bad = compileScene(horizonScene());
  TEX_REF.writeAt(bad.materials, MATERIAL.field("tex").offset, { levels: 8 });
  assert.throws(() => decodeRenderData(encodeRenderData(bad)), /8 mip levels, more than its size has/);
  // a header that points a level elsewhere is refused
  const moved = compileScene(horizonScene());
  new Uint32Array(moved.texels.buffer)[3]! += 1;
  assert.throws(() => decodeRenderData(encodeRenderData(moved)), /mip level offsets are not its sizes'/);
});

/** A camera looking straight down at a unit quad at y = 0 (x, z in [0, 1]) that fills the image. */
function topDown(uvs: Float32Array, uvs1: Float32Array | undefined, texCoord: number | undefined): Scene {
  // two halves: red on the left (u < 0.5), green on the right
  const rgba = new Uint8Array(16 * 16 * 4);
  for (let i = 0; i < 256; i++) rgba.set(i % 16 < 8 ? [255, 0, 0, 255] : [0, 255, 0, 255], i * 4);
  return {
    meshes: [{
      positions: new Float32Array([0, 0, 0, 1, 0, 0, 1, 0, 1, 0, 0, 1]),
      uvs,
      ...(uvs1 ? { uvs1 } : {}),
      indices: new Uint32Array([0, 2, 1, 0, 3, 2]),
      material: 0,
    }],
    materials: [material({ color: [1, 1, 1], baseColorTexture: { texture: 0, texCoord } })],
    textures: [{ name: "red|green", width: 16, height: 16, rgba }],
    camera: {
      position: [0.5, 2, 0.5],
      target: [0.5, 0, 0.5],
      up: [0, 0, -1],
      fovY: 20,
      lensRadius: 0,
      focusDistance: 1,
    },
    environment: { color: [1, 1, 1] },
  };
}

Deno.test("texCoord 1: a texture that names set 1 reads the mesh's second set; set 0 and meshes without one read set 0", async () => {
  // set 0 runs u along +x; set 1 runs it along -x, so red and green swap sides
  const set0 = new Float32Array([0, 0, 1, 0, 1, 1, 0, 1]);
  const set1 = new Float32Array([1, 0, 0, 0, 0, 1, 1, 1]);
  const w = 16, h = 16;
  const side = async (scene: Scene) => {
    const image = await render(compileScene(scene), w, h, 1);
    const at = (x: number) => image.subarray((8 * w + x) * 3, (8 * w + x) * 3 + 3);
    return { left: [...at(3)], right: [...at(12)] };
  };
  const red = (c: number[]) => c[0]! > 0.5 && c[1]! < 0.1;
  const green = (c: number[]) => c[1]! > 0.5 && c[0]! < 0.1;
  const zero = await side(topDown(set0, set1, 0));
  assert.ok(red(zero.left) && green(zero.right), `set 0: ${JSON.stringify(zero)}`);
  const one = await side(topDown(set0, set1, 1));
  assert.ok(green(one.left) && red(one.right), `set 1: ${JSON.stringify(one)}`);
  const missing = await side(topDown(set0, undefined, 1));
  assert.ok(red(missing.left) && green(missing.right), `no set 1: ${JSON.stringify(missing)}`);
  // only meshes with a second set pay for it
  const plain = compileScene(topDown(set0, undefined, 1)), two = compileScene(topDown(set0, set1, 1));
  assert.equal(
    two.attributes.length - plain.attributes.length,
    16,
    "two triangles' records: one attribute row",
  );
  const back = decodeRenderData(encodeRenderData(two));
  assert.deepEqual(back.attributes, two.attributes);
  // a triangle naming a record past the attributes is refused
  TRI.write(two.triangles, 1, { uv1_record: 3 });
  assert.throws(
    () => decodeRenderData(encodeRenderData(two)),
    /texture coordinate record 3 past the attributes/,
  );
});

Deno.test("alpha blend is coverage: a black sheet of alpha 0.25 before a white sky lets 75% of it through; a mask at 0.5 lets all", async () => {
  const sheet = (alphaMode: "blend" | "mask"): Scene => ({
    meshes: [{
      positions: new Float32Array([-10, -10, 0, 10, -10, 0, 10, 10, 0, -10, 10, 0]),
      indices: new Uint32Array([0, 1, 2, 0, 2, 3]),
      material: 0,
    }],
    materials: [material({ color: [0, 0, 0], alpha: 0.25, alphaMode })],
    textures: [],
    camera: {
      position: [0, 0, -2],
      target: [0, 0, 0],
      up: [0, 1, 0],
      fovY: 40,
      lensRadius: 0,
      focusDistance: 2,
    },
    environment: { color: [1, 1, 1] },
  });
  const mean = async (scene: Scene) => {
    const sums = await render(compileScene(scene), 32, 32, 64);
    return sums.reduce((s, v) => s + v, 0) / sums.length;
  };
  const blended = await mean(sheet("blend"));
  assert.ok(Math.abs(blended - 0.75) < 0.0075, `mean ${blended}, want 0.75 (1%)`);
  assert.equal(await mean(sheet("mask")), 1);
  assert.ok(compileScene(sheet("blend")).features.alphaMask, "the blend turns the alpha code on");
});
