import { getLogger } from "@logtape/logtape";
import type { Camera, Scene } from "../scene/types.ts";
import { buildBvh } from "./bvh.ts";
import { CAMERA_FLOATS, LIGHT_BYTES, MATERIAL_FLOATS, MATERIAL_KIND, TRI_FLOATS } from "./layout.ts";

const log = getLogger(["octane", "render-data"]);

/** Figures about a compile. */
export interface CompileStats {
  /** Triangles in the scene. */
  triangles: number;
  /** BVH nodes. */
  nodes: number;
  /** Emissive triangles. */
  lights: number;
  /** Milliseconds spent building the BVH. */
  bvhMs: number;
}

/**
 * Compiled render data: GPU-ready sections, the only thing a renderer (local or a slave) needs.
 * Sections are little-endian typed-array bytes in the layouts of `layout.ts`.
 */
export interface RenderData {
  /** CAMERA_FLOATS floats. */
  camera: Float32Array;
  /** BVH nodes, 32 bytes each. */
  nodes: ArrayBuffer;
  /** TRI_FLOATS floats per triangle, in BVH order. */
  triangles: Float32Array;
  /** MATERIAL_FLOATS floats per material. */
  materials: Float32Array;
  /** LIGHT_BYTES per emissive triangle. */
  lights: ArrayBuffer;
  /** Environment radiance, rgb + unused. */
  environment: Float32Array;
  /** Figures about the compile. */
  stats: CompileStats;
}

/**
 * Compiles a scene into render data: flattens meshes into triangles, builds the BVH, packs materials,
 * builds the emissive-triangle distribution and the camera block.
 * @example
 * ```ts
 * import { cornellBox } from "../scene/cornell.ts";
 * const data = compileScene(cornellBox());
 * ```
 */
export function compileScene(scene: Scene): RenderData {
  const count = scene.meshes.reduce((n, m) => n + m.indices.length / 3, 0);
  const soup = new Float32Array(count * 9);
  const triMaterial = new Uint32Array(count);
  let t = 0;
  for (const mesh of scene.meshes) {
    if (mesh.material < 0 || mesh.material >= scene.materials.length) {
      throw new RangeError(
        `Cannot compile scene: mesh material ${mesh.material} is not one of ${scene.materials.length}`,
      );
    }
    const vertices = mesh.positions.length / 3;
    for (let i = 0; i < mesh.indices.length; i += 3, t++) {
      for (let k = 0; k < 3; k++) {
        const v = mesh.indices[i + k]!;
        if (v >= vertices) {
          throw new RangeError(`Cannot compile scene: vertex index ${v} is past ${vertices} vertices`);
        }
        soup.set(mesh.positions.subarray(v * 3, v * 3 + 3), t * 9 + k * 3);
      }
      triMaterial[t] = mesh.material;
    }
  }

  const started = performance.now();
  const bvh = buildBvh(soup);
  const bvhMs = performance.now() - started;

  // triangles in BVH order, and the emissive ones weighted by power (area x luminance of emission)
  const triangles = new Float32Array(Math.max(1, count) * TRI_FLOATS);
  const triBits = new Uint32Array(triangles.buffer);
  const emissive: { index: number; power: number }[] = [];
  for (let i = 0; i < count; i++) {
    const src = bvh.order[i]!;
    const o = i * TRI_FLOATS;
    for (let k = 0; k < 3; k++) triangles.set(soup.subarray(src * 9 + k * 3, src * 9 + k * 3 + 3), o + k * 4);
    const m = triMaterial[src]!;
    triBits[o + 3] = m;
    const e = scene.materials[m]!.emission;
    const lum = 0.2126 * e[0] + 0.7152 * e[1] + 0.0722 * e[2];
    const power = lum * triangleArea(soup, src);
    if (power > 0) emissive.push({ index: i, power });
  }
  const total = emissive.reduce((s, l) => s + l.power, 0);
  const lights = new ArrayBuffer(Math.max(1, emissive.length) * LIGHT_BYTES);
  const lightView = new DataView(lights);
  let cdf = 0;
  emissive.forEach((l, k) => {
    const p = l.power / total;
    cdf += p;
    triangles[l.index * TRI_FLOATS + 7] = p;
    lightView.setUint32(k * LIGHT_BYTES, l.index, true);
    lightView.setFloat32(k * LIGHT_BYTES + 4, k === emissive.length - 1 ? 1 : cdf, true);
  });

  const materials = new Float32Array(Math.max(1, scene.materials.length) * MATERIAL_FLOATS);
  const matBits = new Uint32Array(materials.buffer);
  scene.materials.forEach((m, i) => {
    const o = i * MATERIAL_FLOATS;
    materials.set(m.color, o);
    matBits[o + 3] = MATERIAL_KIND[m.kind];
    materials.set(m.emission, o + 4);
    materials[o + 7] = Math.min(1, Math.max(0, m.roughness));
    materials[o + 8] = m.ior;
  });

  const stats = { triangles: count, nodes: bvh.nodeCount, lights: emissive.length, bvhMs };
  log.debug("Compiled {triangles} triangles into {nodes} BVH nodes in {ms} ms", {
    ...stats,
    ms: bvhMs.toFixed(1),
  });
  return {
    camera: cameraBlock(scene.camera),
    nodes: bvh.nodes,
    triangles,
    materials,
    lights,
    environment: new Float32Array([...scene.environment.color, 0]),
    stats,
  };
}

/** Packs a camera into the GPU camera block (an orthonormal basis looking along +forward). */
export function cameraBlock(camera: Camera): Float32Array {
  const forward = normalize(sub(camera.target, camera.position));
  const right = normalize(cross(forward, camera.up));
  const up = cross(right, forward);
  if (!forward.every(Number.isFinite) || !right.every(Number.isFinite)) {
    throw new RangeError(
      "Cannot use camera: its target equals its position or its up is parallel to the view",
    );
  }
  const block = new Float32Array(CAMERA_FLOATS);
  block.set([...camera.position, Math.tan(camera.fovY * Math.PI / 360)], 0);
  block.set([...right, camera.lensRadius], 4);
  block.set([...up, camera.focusDistance], 8);
  block.set([...forward, 0], 12);
  return block;
}

type V = [number, number, number];
function sub(a: V, b: V): V {
  return [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
}
function cross(a: V, b: V): V {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}
function normalize(a: V): V {
  const l = Math.hypot(a[0], a[1], a[2]);
  return [a[0] / l, a[1] / l, a[2] / l];
}
function triangleArea(soup: Float32Array, t: number): number {
  const o = t * 9;
  const e1: V = [soup[o + 3]! - soup[o]!, soup[o + 4]! - soup[o + 1]!, soup[o + 5]! - soup[o + 2]!];
  const e2: V = [soup[o + 6]! - soup[o]!, soup[o + 7]! - soup[o + 1]!, soup[o + 8]! - soup[o + 2]!];
  const c = cross(e1, e2);
  return 0.5 * Math.hypot(c[0], c[1], c[2]);
}
