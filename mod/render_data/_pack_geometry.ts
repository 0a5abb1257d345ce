// Flattens a scene's meshes into a triangle soup with its attributes, and packs the triangles, their
// attributes and the emissive triangles' pick distribution in BVH order.
import { ATTR, LIGHT_ENTRY, lodBias, TRI, UV1 } from "../gpu_layout/mod.ts";
import type { Scene } from "../scene/types.ts";
import { cross } from "./camera_block.ts";

/** A scene's triangles in mesh order, before the BVH orders them. */
export interface Soup {
  /** Triangles. */
  count: number;
  /** 9 floats per triangle: three xyz vertices. */
  positions: Float32Array;
  /** An ATTR record per triangle. */
  attributes: Float32Array;
  /** Each triangle's material. */
  material: Uint32Array;
  /** A UV1 record per triangle, where some mesh has a second texture coordinate set. */
  uv1?: Float32Array;
  /** 1 where the triangle's mesh has a second texture coordinate set. */
  hasUv1?: Uint8Array;
}

const A = ATTR.word;
/** ATTR words of each vertex's normal. */
const NORMAL_WORDS = [A.n0, A.n1, A.n2];
/** ATTR words of the vertices' set-0 texture coordinates: u0 v0, then vertex 1's and vertex 2's pairs. */
const UV_WORDS = [A.u0, A.v0, A.uv_vertex1, A.uv_vertex1 + 1, A.uv_vertex2, A.uv_vertex2 + 1];
/** UV1 words of the vertices' set-1 coordinates. */
const UV1_WORDS = [0, 1, 2, 3, 4, 5].map((i) => UV1.word.uv_vertex0 + i);

/** The scene's triangles with their attributes, in mesh order. */
export function flattenMeshes(scene: Scene): Soup {
  const count = scene.meshes.reduce((n, m) => n + m.indices.length / 3, 0);
  const positions = new Float32Array(count * 9);
  const attributes = new Float32Array(count * ATTR.words);
  const material = new Uint32Array(count);
  // second texture coordinate set: a record per triangle of a mesh that has one (others hold none)
  const anyUv1 = scene.meshes.some((m) => m.uvs1);
  const uv1 = anyUv1 ? new Float32Array(count * UV1.words) : undefined;
  const hasUv1 = anyUv1 ? new Uint8Array(count) : undefined;
  let t = 0;
  for (const mesh of scene.meshes) {
    if (mesh.material < 0 || mesh.material >= scene.materials.length) {
      throw new RangeError(
        `Cannot compile scene: mesh material ${mesh.material} is not one of ${scene.materials.length}`,
      );
    }
    const vertices = mesh.positions.length / 3;
    for (let i = 0; i < mesh.indices.length; i += 3, t++) {
      const a = t * ATTR.words;
      for (let k = 0; k < 3; k++) {
        const v = mesh.indices[i + k]!;
        if (v >= vertices) {
          throw new RangeError(`Cannot compile scene: vertex index ${v} is past ${vertices} vertices`);
        }
        positions.set(mesh.positions.subarray(v * 3, v * 3 + 3), t * 9 + k * 3);
        if (mesh.normals) attributes.set(mesh.normals.subarray(v * 3, v * 3 + 3), a + NORMAL_WORDS[k]!);
        if (mesh.uvs) {
          attributes[a + UV_WORDS[2 * k]!] = mesh.uvs[v * 2]!;
          attributes[a + UV_WORDS[2 * k + 1]!] = mesh.uvs[v * 2 + 1]!;
        }
        if (mesh.uvs1 && uv1) {
          uv1.set(mesh.uvs1.subarray(v * 2, v * 2 + 2), t * UV1.words + UV1_WORDS[2 * k]!);
        }
      }
      const area = triangleArea(positions, t);
      attributes[a + A.lod_bias] = lodBias(uvArea(attributes, a, UV_WORDS), area);
      if (mesh.uvs1 && uv1 && hasUv1) {
        hasUv1[t] = 1;
        uv1[t * UV1.words + UV1.word.lod_bias] = lodBias(uvArea(uv1, t * UV1.words, UV1_WORDS), area);
      }
      material[t] = mesh.material;
    }
  }
  return { count, positions, attributes, material, ...(uv1 ? { uv1 } : {}), ...(hasUv1 ? { hasUv1 } : {}) };
}

/** What {@linkcode packTriangles} returns. */
export interface PackedTriangles {
  /** TRI records in BVH order. */
  triangles: Float32Array;
  /** ATTR records in BVH order, then the UV1 records. */
  attributes: Float32Array;
  /** LIGHT_ENTRY records of the emissive triangles. */
  lights: ArrayBuffer;
  /** Emissive triangles. */
  lightCount: number;
  /** Their total power over π: the sum of luminance x area. */
  trianglePower: number;
}

/**
 * The triangles and their attributes in BVH order, and the emissive ones weighted by power (area x
 * luminance of emission, times `emissionScale` of their material).
 */
export function packTriangles(
  soup: Soup,
  order: Uint32Array,
  emission: { emission: readonly number[] }[],
  emissionScale: readonly number[],
): PackedTriangles {
  const { count } = soup;
  const uv1Count = soup.hasUv1 ? soup.hasUv1.reduce((n, h) => n + h, 0) : 0;
  const triangles = new Float32Array(Math.max(1, count) * TRI.words);
  const attributes = new Float32Array(
    Math.max(1, count) * ATTR.words + Math.ceil(uv1Count / 2) * ATTR.words,
  );
  const uv1Base = Math.max(1, count) * ATTR.words;
  let uv1Next = 0;
  const triBits = new Uint32Array(triangles.buffer);
  const vertexWords = [TRI.word.v0, TRI.word.v1, TRI.word.v2];
  const emissive: { index: number; power: number }[] = [];
  for (let i = 0; i < count; i++) {
    const src = order[i]!;
    const o = i * TRI.words;
    for (let k = 0; k < 3; k++) {
      triangles.set(soup.positions.subarray(src * 9 + k * 3, src * 9 + k * 3 + 3), o + vertexWords[k]!);
    }
    attributes.set(soup.attributes.subarray(src * ATTR.words, (src + 1) * ATTR.words), i * ATTR.words);
    const m = soup.material[src]!;
    triBits[o + TRI.word.material] = m;
    if (soup.hasUv1?.[src] && soup.uv1) {
      attributes.set(
        soup.uv1.subarray(src * UV1.words, (src + 1) * UV1.words),
        uv1Base + uv1Next * UV1.words,
      );
      triBits[o + TRI.word.uv1_record] = ++uv1Next;
    }
    const e = emission[m]!.emission;
    const lum = (0.2126 * e[0]! + 0.7152 * e[1]! + 0.0722 * e[2]!) * emissionScale[m]!;
    const power = lum * triangleArea(soup.positions, src);
    if (power > 0) emissive.push({ index: i, power });
  }
  const total = emissive.reduce((s, l) => s + l.power, 0);
  const lights = LIGHT_ENTRY.alloc(Math.max(1, emissive.length));
  // by word offsets: a scene may have as many emissive triangles as triangles
  const lightBits = new Uint32Array(lights), lightFloats = new Float32Array(lights);
  let cdf = 0;
  emissive.forEach((l, k) => {
    const p = l.power / total;
    cdf += p;
    triangles[l.index * TRI.words + TRI.word.light_prob] = p;
    lightBits[k * LIGHT_ENTRY.words + LIGHT_ENTRY.word.tri] = l.index;
    lightFloats[k * LIGHT_ENTRY.words + LIGHT_ENTRY.word.cdf] = k === emissive.length - 1 ? 1 : cdf;
  });
  return { triangles, attributes, lights, lightCount: emissive.length, trianglePower: total };
}

/** Area of a triangle in UV space; `at` names its u0 v0 u1 v1 u2 v2 in `a` from `base`. */
function uvArea(a: Float32Array, base: number, at: number[]): number {
  const [u0, v0, u1, v1, u2, v2] = at.map((i) => a[base + i]!) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  return 0.5 * Math.abs((u1 - u0) * (v2 - v0) - (u2 - u0) * (v1 - v0));
}

function triangleArea(soup: Float32Array, t: number): number {
  const o = t * 9;
  const e1: [number, number, number] = [
    soup[o + 3]! - soup[o]!,
    soup[o + 4]! - soup[o + 1]!,
    soup[o + 5]! - soup[o + 2]!,
  ];
  const e2: [number, number, number] = [
    soup[o + 6]! - soup[o]!,
    soup[o + 7]! - soup[o + 1]!,
    soup[o + 8]! - soup[o + 2]!,
  ];
  const c = cross(e1, e2);
  return 0.5 * Math.hypot(c[0], c[1], c[2]);
}
