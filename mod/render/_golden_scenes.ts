// The scenes whose image bits guard the kernel and the GPU data layout: the built-in scenes, every shared
// scene beside the repository, and small synthetic scenes that turn on each feature the kernel compiles in
// or out (layers, volume, environment map, punctual lights, alpha mask, texture set 1, AOVs, BSDF-only
// sampling). tools/image_bits.ts records their hashes; image_bits_test.ts compares them.
import { compileScene, loadRenderData, type RenderData } from "../render_data/mod.ts";
import {
  cornellBox,
  cornellSpheres,
  furnace,
  material,
  type Mesh,
  quadMesh,
  type Scene,
  uvSphere,
} from "../scene/mod.ts";
import { createHash } from "node:crypto";
import type { Gpu } from "../gpu/mod.ts";
import { GpuRenderer } from "./gpu_renderer.ts";
import type { RenderSettings, TileResult } from "./types.ts";

/** One scene of the set: how to make its render data, and what to render of it. */
export interface GoldenScene {
  /** Its name in the record. */
  name: string;
  /** Its render data. */
  data: () => Promise<RenderData>;
  /** Image size, in pixels a side. */
  size: number;
  /** Samples per pixel, rendered as one range from 0. */
  spp: number;
  /** Settings besides size and seed. */
  settings?: Partial<RenderSettings>;
}

/** A texture of `n`×`n` texels, each texel's RGBA from `f`. */
function texture(n: number, f: (x: number, y: number) => [number, number, number, number]) {
  const rgba = new Uint8Array(n * n * 4);
  for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) rgba.set(f(x, y), (y * n + x) * 4);
  return { width: n, height: n, rgba };
}

/** A quad on the plane z = `z` over [-s, s]², facing -z, with texture coordinates in both sets. */
function wall(s: number, z: number, materialIndex: number): Mesh {
  const corners = [[-s, -s], [s, -s], [s, s], [-s, s]];
  return {
    positions: new Float32Array(corners.flatMap(([x, y]) => [x!, y!, z])),
    normals: new Float32Array(corners.flatMap(() => [0, 0, -1])),
    uvs: new Float32Array(corners.flatMap(([x, y]) => [(x! + s) / (2 * s), (y! + s) / (2 * s)])),
    uvs1: new Float32Array(corners.flatMap(([x, y]) => [(x! + s) / s, (y! + s) / s])),
    indices: new Uint32Array([0, 1, 2, 0, 2, 3]),
    material: materialIndex,
  };
}

/** Spheres with a clear coat, a sheen and an absorbing glass in the furnace's light. */
function layered(): Scene {
  const scene = furnace(1);
  scene.materials = [
    material({ color: [0.2, 0.3, 0.8], clearcoat: 1, clearcoatRoughness: 0.1, roughness: 0.5 }),
    material({ color: [0.1, 0.1, 0.1], sheenColor: [1, 0.8, 0.6], sheenRoughness: 0.4 }),
    material({ kind: "dielectric", attenuationColor: [0.5, 0.9, 0.3], attenuationDistance: 0.5 }),
  ];
  scene.meshes = [
    uvSphere([-1.1, 0, 0], 0.5, 0, { segments: 24, rings: 12 }),
    uvSphere([0, 0, 0], 0.5, 1, { segments: 24, rings: 12 }),
    uvSphere([1.1, 0, 0], 0.5, 2, { segments: 24, rings: 12 }),
  ];
  return scene;
}

/**
 * Every light source at once: an environment map, an emissive quad, a point, a spot and a directional light,
 * over spheres of metal, specular and rough dielectric materials, and a textured, alpha-masked, normal-mapped
 * wall that reads texture coordinate set 1.
 */
function allLights(): Scene {
  const w = 32, h = 16;
  const rgb = new Float32Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      rgb.set([0.2 + x / w, 0.5 + (y === 3 && x === 5 ? 40 : 0), 1 - y / h], (y * w + x) * 3);
    }
  }
  const checks = texture(8, (x, y) => (x + y) % 2 ? [250, 200, 40, 255] : [30, 60, 200, 90]);
  const bumps = texture(8, (x, y) => [128 + 60 * Math.sin(x), 128 + 60 * Math.cos(y), 230, 255]);
  return {
    materials: [
      material({ color: [0.7, 0.7, 0.7], roughness: 0.8 }),
      material({ kind: "conductor", color: [0.9, 0.6, 0.3], roughness: 0.25 }),
      material({ color: [0.3, 0.8, 0.3], specular: 0.8, specularColor: [1, 0.5, 0.5], roughness: 0.3 }),
      material({ kind: "dielectric", roughness: 0.2 }),
      material({
        color: [1, 1, 1],
        baseColorTexture: { texture: 0, texCoord: 1 },
        normalTexture: { texture: 1, transform: [2, 0, 0, 0, 2, 0] },
        alphaMode: "mask",
        alphaCutoff: 0.5,
      }),
      material({ color: [0, 0, 0], emission: [4, 3, 2] }),
    ],
    meshes: [
      wall(3, 2, 0),
      uvSphere([-1, -0.5, 0.5], 0.5, 1, { segments: 24, rings: 12 }),
      uvSphere([0.2, -0.5, 0.5], 0.5, 2, { segments: 24, rings: 12 }),
      uvSphere([1.2, -0.5, 0.2], 0.4, 3, { segments: 24, rings: 12 }),
      wall(0.6, -0.2, 4),
      quadMesh([[[-0.5, 1.9, 0], [0.5, 1.9, 0], [0.5, 1.9, 1], [-0.5, 1.9, 1]]], 5),
    ],
    textures: [checks, bumps],
    camera: {
      position: [0, 0, -4],
      target: [0, 0, 0],
      up: [0, 1, 0],
      fovY: 45,
      lensRadius: 0,
      focusDistance: 4,
    },
    environment: { color: [0, 0, 0], intensity: 0.5, map: { width: w, height: h, rgb } },
    lights: [
      {
        kind: "point",
        position: [1, 1, -1],
        direction: [0, 0, 1],
        intensity: [3, 3, 3],
        innerConeAngle: 0,
        outerConeAngle: Math.PI / 4,
      },
      {
        kind: "spot",
        position: [-1.5, 1.5, -1],
        direction: [0.5, -0.6, 0.6],
        intensity: [8, 6, 4],
        innerConeAngle: 0.2,
        outerConeAngle: 0.5,
      },
      {
        kind: "directional",
        position: [0, 0, 0],
        direction: [0.3, -1, 0.4],
        intensity: [0.5, 0.5, 0.6],
        innerConeAngle: 0,
        outerConeAngle: Math.PI / 4,
      },
    ],
  };
}

const compiled = (scene: () => Scene) => () => Promise.resolve(compileScene(scene()));

/** The scenes, in the order the record lists them. */
export const GOLDEN_SCENES: readonly GoldenScene[] = [
  { name: "cornell", data: compiled(cornellBox), size: 32, spp: 8 },
  { name: "cornell aovs", data: compiled(cornellBox), size: 24, spp: 4, settings: { aovs: true } },
  { name: "cornell bsdf only", data: compiled(cornellBox), size: 24, spp: 4, settings: { strategy: "bsdf" } },
  { name: "cornell-spheres", data: compiled(cornellSpheres), size: 32, spp: 8, settings: { aovs: true } },
  { name: "furnace", data: compiled(() => furnace(0.8)), size: 16, spp: 4 },
  { name: "layers and volume", data: compiled(layered), size: 32, spp: 8, settings: { aovs: true } },
  { name: "every light, textures", data: compiled(allLights), size: 32, spp: 8, settings: { aovs: true } },
  {
    name: "lights room",
    data: () => loadRenderData(new URL("../../tests/data/lights_room/room.glb", import.meta.url).pathname),
    size: 24,
    spp: 4,
  },
];

/** What one scene of the set rendered to. */
export interface GoldenBits {
  /** The scene's name. */
  name: string;
  /** SHA-256 (hex) of the radiance sums' bytes, then the AOV sums' where the scene has them. */
  sha256: string;
  /** Mean radiance per channel and sample, over the image. */
  mean: number;
}

/** The bits of a render of `spp` samples: SHA-256 of its radiance sums (then its AOV sums), and its mean. */
export function bitsOf(name: string, tile: TileResult, spp: number): GoldenBits {
  const hash = createHash("sha256").update(new Uint8Array(tile.sums.buffer));
  if (tile.aovs) hash.update(new Uint8Array(tile.aovs.buffer));
  const mean = tile.sums.reduce((s, v) => s + v, 0) / (tile.sums.length * spp);
  return { name, sha256: hash.digest("hex"), mean };
}

/** Renders one scene of {@linkcode GOLDEN_SCENES} (seed 7, depth 8) and takes its bits. */
export async function goldenBits(gpu: Gpu, scene: GoldenScene): Promise<GoldenBits> {
  const data = await scene.data();
  const settings = { width: scene.size, height: scene.size, seed: 7, maxDepth: 8, ...scene.settings };
  const renderer = await GpuRenderer.create(gpu, data, settings);
  try {
    return bitsOf(scene.name, await renderer.render({ start: 0, count: scene.spp }), scene.spp);
  } finally {
    renderer.destroy();
  }
}

/**
 * How tests/scenes_test.ts renders each shared scene (and tools/image_bits.ts for the record): 32x24, seed 1,
 * depth 6, 2 samples.
 */
export const SHARED_SCENE_RENDER = { settings: { width: 32, height: 24, seed: 1, maxDepth: 6 }, spp: 2 };

/** The shared scenes beside the repository (each .gltf, .glb and .obj a folder down), sorted, as "folder/file". */
export function sharedScenes(): string[] {
  const scenes: string[] = [];
  try {
    for (const dir of Deno.readDirSync(SHARED_SCENES)) {
      if (!dir.isDirectory) continue;
      for (const f of Deno.readDirSync(`${SHARED_SCENES}${dir.name}`)) {
        if (/\.(gltf|glb|obj)$/i.test(f.name)) scenes.push(`${dir.name}/${f.name}`);
      }
    }
  } catch (error: unknown) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return scenes.sort();
}

/** The folder of the shared scenes, beside the repository. */
export const SHARED_SCENES = new URL("../../../shared/scenes/", import.meta.url).pathname;

/**
 * Checks `got` against the record: bit for bit where the record was rendered on this adapter, else (another
 * adapter, whose floats may round differently) the mean within 5%.
 * @returns what differs, or undefined when it agrees
 */
export function compareBits(record: GoldenRecord, adapter: string, got: GoldenBits): string | undefined {
  const want = record.scenes.find((s) => s.name === got.name);
  if (!want) return `"${got.name}" is not in the record: run "deno task bits --write"`;
  if (record.adapter === adapter) {
    return want.sha256 === got.sha256
      ? undefined
      : `"${got.name}" renders other bits than recorded (mean ${got.mean}, recorded ${want.mean}): if that is intended, record with "deno task bits --write" and say why`;
  }
  return Math.abs(got.mean - want.mean) <= 0.05 * Math.abs(want.mean)
    ? undefined
    : `"${got.name}" has mean ${got.mean}, recorded ${want.mean} on ${record.adapter}`;
}

/** The record, read from {@linkcode GOLDEN_RECORD}. */
export async function readGoldenRecord(): Promise<GoldenRecord> {
  return JSON.parse(await Deno.readTextFile(GOLDEN_RECORD));
}

/** Where tools/image_bits.ts records the bits, and the adapter they were rendered on. */
export const GOLDEN_RECORD = new URL("../../tests/data/image_bits.json", import.meta.url);

/** The record of {@linkcode GOLDEN_RECORD}. */
export interface GoldenRecord {
  /** The adapter's description (`adapter.info.description`) the bits were rendered on. */
  adapter: string;
  /** Each scene's bits. */
  scenes: GoldenBits[];
}
