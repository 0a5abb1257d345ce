import { getLogger } from "@logtape/logtape";
import type { Camera, Environment, Material, PunctualLight, Scene, TextureRef } from "../scene/types.ts";
import { rgbeWord } from "../scene/hdr.ts";
import { buildBvh } from "./bvh.ts";
import {
  ATTR_FLOATS,
  CAMERA_FLOATS,
  ENVIRONMENT_FLOATS,
  LIGHT_BYTES,
  lodBias,
  MATERIAL_BASE_FLOATS,
  MATERIAL_EXT_OFFSET,
  MATERIAL_FLOATS,
  PUNCTUAL_FLOATS,
  PUNCTUAL_KIND,
  SRGB_TEXTURE_SLOTS,
  TEXREF_FLOATS,
  TEXTURE_SLOTS,
  TRI_FLOATS,
  UV1_FLOATS,
} from "./layout.ts";
import { mipChain, mipHeader } from "./mips.ts";

const log = getLogger(["octane", "render-data"]);

/** Figures about a compile. */
export interface CompileStats {
  /** Triangles in the scene. */
  triangles: number;
  /** BVH nodes. */
  nodes: number;
  /** Emissive triangles. */
  lights: number;
  /** Milliseconds spent building the BVH (0 for loaded render data). */
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
  /**
   * ATTR_FLOATS floats per triangle (shading normals, texture coordinates, LOD bias), in BVH order, then the
   * second texture coordinate set's records (UV1_FLOATS each) of the triangles whose mesh has one.
   */
  attributes: Float32Array;
  /** MATERIAL_FLOATS floats per material. */
  materials: Float32Array;
  /**
   * Every texture's mip chain (a header of each level's offset, then RGBA8 texels, level 0 first), one after
   * another; materials address them by offset.
   * A texture read both as sRGB colour and as linear data has a chain of each.
   */
  texels: Uint8Array;
  /** LIGHT_BYTES per emissive triangle. */
  lights: ArrayBuffer;
  /** The environment block (ENVIRONMENT_FLOATS); a map's texels and CDFs are in `texels`. */
  environment: Float32Array;
  /**
   * Punctual lights: a header and one record per light, PUNCTUAL_FLOATS each (see `layout.ts`); absent when
   * the scene has none, and then the environment and the emissive triangles share the picks as they always
   * did.
   */
  punctual?: Float32Array;
  /** Figures about the compile. */
  stats: CompileStats;
}

/** Options of {@linkcode compileScene}. */
export interface CompileOptions {
  /** Build every texture's mip chain (default true); without, textures are read at full size only. */
  mipmaps?: boolean;
}

/**
 * Compiles a scene into render data: flattens meshes into triangles with their attributes, builds the
 * BVH, packs materials and textures (with their mip chains), builds the emissive-triangle distribution
 * and the camera block.
 * @example
 * ```ts
 * import { cornellBox } from "../scene/cornell.ts";
 * const data = compileScene(cornellBox());
 * ```
 */
export function compileScene(scene: Scene, options: CompileOptions = {}): RenderData {
  const count = scene.meshes.reduce((n, m) => n + m.indices.length / 3, 0);
  const soup = new Float32Array(count * 9);
  const soupAttr = new Float32Array(count * ATTR_FLOATS);
  const triMaterial = new Uint32Array(count);
  // second texture coordinate set: a record per triangle of a mesh that has one (others hold none)
  const anyUv1 = scene.meshes.some((m) => m.uvs1);
  const soupUv1 = anyUv1 ? new Float32Array(count * UV1_FLOATS) : undefined;
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
      for (let k = 0; k < 3; k++) {
        const v = mesh.indices[i + k]!;
        if (v >= vertices) {
          throw new RangeError(`Cannot compile scene: vertex index ${v} is past ${vertices} vertices`);
        }
        soup.set(mesh.positions.subarray(v * 3, v * 3 + 3), t * 9 + k * 3);
        const a = t * ATTR_FLOATS;
        if (mesh.normals) soupAttr.set(mesh.normals.subarray(v * 3, v * 3 + 3), a + k * 4);
        if (mesh.uvs) {
          const uv = mesh.uvs.subarray(v * 2, v * 2 + 2);
          if (k === 0) soupAttr[a + 3] = uv[0]!, soupAttr[a + 7] = uv[1]!;
          else soupAttr.set(uv, a + 12 + (k - 1) * 2);
        }
        if (mesh.uvs1 && soupUv1) soupUv1.set(mesh.uvs1.subarray(v * 2, v * 2 + 2), t * UV1_FLOATS + k * 2);
      }
      const area = triangleArea(soup, t);
      soupAttr[t * ATTR_FLOATS + 11] = lodBias(
        uvArea(soupAttr, t * ATTR_FLOATS, [3, 7, 12, 13, 14, 15]),
        area,
      );
      if (mesh.uvs1 && soupUv1 && hasUv1) {
        hasUv1[t] = 1;
        soupUv1[t * UV1_FLOATS + 6] = lodBias(uvArea(soupUv1, t * UV1_FLOATS, [0, 1, 2, 3, 4, 5]), area);
      }
      triMaterial[t] = mesh.material;
    }
  }

  const started = performance.now();
  const bvh = buildBvh(soup);
  const bvhMs = performance.now() - started;

  const packed = packMaterials(scene, options.mipmaps ?? true);
  const { materials, emissionScale } = packed;
  const { block: environment, words: envWords } = packEnvironment(
    scene.environment,
    packed.texels.length / 4,
  );
  const texels = new Uint8Array(packed.texels.length + envWords.byteLength);
  texels.set(packed.texels);
  texels.set(new Uint8Array(envWords.buffer), packed.texels.length);

  // triangles in BVH order, and the emissive ones weighted by power (area x luminance of emission)
  const uv1Count = hasUv1 ? hasUv1.reduce((n, h) => n + h, 0) : 0;
  const triangles = new Float32Array(Math.max(1, count) * TRI_FLOATS);
  const attributes = new Float32Array(
    Math.max(1, count) * ATTR_FLOATS + Math.ceil(uv1Count / 2) * ATTR_FLOATS,
  );
  const uv1Base = Math.max(1, count) * ATTR_FLOATS;
  let uv1Next = 0;
  const triBits = new Uint32Array(triangles.buffer);
  const emissive: { index: number; power: number }[] = [];
  for (let i = 0; i < count; i++) {
    const src = bvh.order[i]!;
    const o = i * TRI_FLOATS;
    for (let k = 0; k < 3; k++) triangles.set(soup.subarray(src * 9 + k * 3, src * 9 + k * 3 + 3), o + k * 4);
    attributes.set(soupAttr.subarray(src * ATTR_FLOATS, (src + 1) * ATTR_FLOATS), i * ATTR_FLOATS);
    const m = triMaterial[src]!;
    triBits[o + 3] = m;
    if (hasUv1?.[src] && soupUv1) {
      attributes.set(
        soupUv1.subarray(src * UV1_FLOATS, (src + 1) * UV1_FLOATS),
        uv1Base + uv1Next * UV1_FLOATS,
      );
      triBits[o + 11] = ++uv1Next;
    }
    const e = scene.materials[m]!.emission;
    const lum = (0.2126 * e[0] + 0.7152 * e[1] + 0.0722 * e[2]) * emissionScale[m]!;
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

  const punctual = packPunctual(scene.lights ?? [], {
    trianglePower: Math.PI * total,
    environment,
    radius: boundsRadius(bvh.nodes),
  });

  const stats = { triangles: count, nodes: bvh.nodeCount, lights: emissive.length, bvhMs };
  log.debug("Compiled {triangles} triangles into {nodes} BVH nodes in {ms} ms", {
    ...stats,
    ms: bvhMs.toFixed(1),
  });
  return {
    // an automatic camera is placed after compiling, by `placeCamera` (interior.ts)
    camera: cameraBlock(scene.camera),
    nodes: bvh.nodes,
    triangles,
    attributes,
    materials,
    texels,
    lights,
    environment,
    ...(punctual ? { punctual } : {}),
    stats,
  };
}

/**
 * Packs punctual lights (see PUNCTUAL_FLOATS) with one pick distribution over every light source by its
 * power (radiant flux): an emissive triangle π · L · area; a point light 4π · I; a spot light its cone's
 * solid angle (to the middle of the falloff) · I; a directional light E · π R² and an environment map its
 * mean radiance · 4π · π R², where R is the radius of the scene's bounding sphere (what reaches the
 * scene). A constant environment is not sampled by next-event estimation and takes no share.
 * @returns undefined when no light has power (the render data then has no punctual section)
 */
function packPunctual(
  lights: PunctualLight[],
  scene: { trianglePower: number; environment: Float32Array; radius: number },
): Float32Array | undefined {
  const lum = (c: readonly number[]) => 0.2126 * c[0]! + 0.7152 * c[1]! + 0.0722 * c[2]!;
  const r2 = Math.PI * scene.radius * scene.radius;
  const power = (l: PunctualLight) => {
    const i = lum(l.intensity);
    if (l.kind === "point") return 4 * Math.PI * i;
    if (l.kind === "directional") return r2 * i;
    const cosMid = (Math.cos(l.innerConeAngle) + Math.cos(l.outerConeAngle)) / 2;
    return 2 * Math.PI * Math.max(1e-6, 1 - cosMid) * i;
  };
  const used = lights.filter((l) => power(l) > 0 && Number.isFinite(power(l)));
  if (used.length === 0) return undefined;
  const env = scene.environment, envBits = new Uint32Array(env.buffer, env.byteOffset, env.length);
  // the map's mean radiance: its sampling weight (luminance x sin θ summed over texels) x π / (2 w h)
  const envPower = envBits[9] !== 0
    ? env[8]! * Math.PI / (2 * envBits[4]! * envBits[5]!) * env[3]! * 4 * Math.PI * r2
    : 0;
  const powers = used.map(power);
  const punctualPower = powers.reduce((a, b) => a + b, 0);
  const all = envPower + scene.trianglePower + punctualPower;
  const block = new Float32Array((used.length + 1) * PUNCTUAL_FLOATS);
  const bits = new Uint32Array(block.buffer);
  bits[0] = used.length;
  block.set([envPower / all, scene.trianglePower / all, punctualPower / all], 1);
  let cdf = 0;
  used.forEach((l, k) => {
    const o = (k + 1) * PUNCTUAL_FLOATS;
    const p = powers[k]! / punctualPower;
    cdf += p;
    block.set(l.position, o);
    block[o + 3] = PUNCTUAL_KIND[l.kind];
    block.set([...l.direction, k === used.length - 1 ? 1 : cdf], o + 4);
    block.set([...l.intensity, p], o + 8);
    const cosOuter = Math.cos(l.outerConeAngle), cosInner = Math.cos(l.innerConeAngle);
    block.set([cosOuter, cosInner, 1 / Math.max(1e-4, cosInner - cosOuter), 0], o + 12);
  });
  return block;
}

/** The radius of the sphere around the BVH root's box. */
function boundsRadius(nodes: ArrayBuffer): number {
  const f = new Float32Array(nodes, 0, 8);
  const r = Math.hypot(f[4]! - f[0]!, f[5]! - f[1]!, f[6]! - f[2]!) / 2;
  return Number.isFinite(r) ? r : 0;
}

/** Packs materials with inline texture references and concatenates the textures they use. */
function packMaterials(
  scene: Scene,
  mipmaps: boolean,
): { materials: Float32Array; texels: Uint8Array; emissionScale: number[] } {
  for (const tex of scene.textures) {
    if (tex.rgba.length !== tex.width * tex.height * 4) {
      throw new RangeError(
        `Cannot compile scene: texture "${
          tex.name ?? "?"
        }" has ${tex.rgba.length} bytes for ${tex.width}x${tex.height}`,
      );
    }
  }
  // one mip chain per texture and colour space it is read in, built on first use
  const chains = new Map<string, { offset: number; levels: number; header: Uint8Array; rgba: Uint8Array }>();
  let texelCount = 0;
  const chainOf = (texture: number, srgb: boolean) => {
    const key = `${texture}:${srgb}`;
    let chain = chains.get(key);
    if (!chain) {
      const tex = scene.textures[texture]!;
      const { levels, rgba } = mipmaps ? mipChain(tex, srgb) : { levels: 1, rgba: tex.rgba };
      const header = new Uint8Array(mipHeader(tex.width, tex.height, levels).buffer);
      chain = { offset: texelCount, levels, header, rgba };
      chains.set(key, chain);
      texelCount += levels + rgba.length / 4;
    }
    return chain;
  };

  const materials = new Float32Array(Math.max(1, scene.materials.length) * MATERIAL_FLOATS);
  const bits = new Uint32Array(materials.buffer);
  const emissionScale: number[] = [];
  scene.materials.forEach((m: Material, i) => {
    const o = i * MATERIAL_FLOATS;
    materials.set([...m.baseColor, m.alpha], o);
    materials.set([...m.emission, clamp01(m.metallic)], o + 4);
    materials.set([clamp01(m.roughness), m.ior, clamp01(m.transmission), Math.max(0, m.specular)], o + 8);
    materials.set([m.alphaMode === "mask" ? m.alphaCutoff : -1, m.normalScale], o + 12);
    const refs: (TextureRef | undefined)[] = [
      m.baseColorTexture,
      m.metallicRoughnessTexture,
      m.normalTexture,
      m.emissiveTexture,
      m.clearcoatTexture,
      m.clearcoatRoughnessTexture,
      m.clearcoatNormalTexture,
      m.sheenColorTexture,
      m.sheenRoughnessTexture,
      m.transmissionTexture,
      m.specularTexture,
      m.specularColorTexture,
    ];
    TEXTURE_SLOTS.forEach((name, slot) => {
      const r = refs[slot];
      const at = o + MATERIAL_BASE_FLOATS + slot * TEXREF_FLOATS;
      if (!r) return;
      const tex = scene.textures[r.texture];
      if (!tex) {
        throw new RangeError(
          `Cannot compile scene: material "${
            m.name ?? i
          }" uses texture ${r.texture} of ${scene.textures.length}`,
        );
      }
      const chain = chainOf(r.texture, SRGB_TEXTURE_SLOTS.has(name));
      bits.set([chain.offset, tex.width, tex.height, chain.levels], at);
      const x = r.transform ?? [1, 0, 0, 0, 1, 0];
      materials.set([x[0], x[1], x[2], r.texCoord === 1 ? 1 : 0, x[3], x[4], x[5], 0], at + 4);
    });
    materials.set(extensionBlock(m), o + MATERIAL_EXT_OFFSET);
    emissionScale.push(m.emissiveTexture ? meanSrgb(scene.textures[m.emissiveTexture.texture]!.rgba) : 1);
  });
  const texels = new Uint8Array(Math.max(1, texelCount) * 4);
  for (const chain of chains.values()) {
    texels.set(chain.header, chain.offset * 4);
    texels.set(chain.rgba, (chain.offset + chain.levels) * 4);
  }
  return { materials, texels, emissionScale };
}

/**
 * The environment block, and for a map its RGBE texels followed by its sampling CDFs (marginal over rows,
 * then one conditional per row), weighted by luminance x sin θ so bright and large regions are picked.
 * @param offset where these words will start in the texels section, in 4-byte words
 */
function packEnvironment(env: Environment, offset: number): { block: Float32Array; words: Uint32Array } {
  const block = new Float32Array(ENVIRONMENT_FLOATS);
  const bits = new Uint32Array(block.buffer);
  block.set([...env.color, env.intensity ?? 1], 0);
  const map = env.map;
  if (!map) return { block, words: new Uint32Array(0) };
  const { width: w, height: h, rgb } = map;
  if (rgb.length !== w * h * 3) {
    throw new RangeError(
      `Cannot compile environment "${map.name ?? "?"}": ${rgb.length} values for ${w}x${h}`,
    );
  }
  const words = new Uint32Array(w * h * 2 + h);
  const cdf = new Float32Array(words.buffer);
  const weights = new Float64Array(w * h);
  const rowSums = new Float64Array(h);
  let total = 0;
  for (let y = 0; y < h; y++) {
    const sinTheta = Math.sin(Math.PI * (y + 0.5) / h);
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      words[i] = rgbeWord(rgb[i * 3]!, rgb[i * 3 + 1]!, rgb[i * 3 + 2]!);
      // the weight of what the GPU will read back: the RGBE-rounded value
      const e = words[i]! >>> 24, f = e === 0 ? 0 : Math.pow(2, e - 136);
      const lum = (0.2126 * (words[i]! & 255) + 0.7152 * ((words[i]! >>> 8) & 255) +
        0.0722 * ((words[i]! >>> 16) & 255)) * f;
      weights[i] = lum * sinTheta;
      rowSums[y]! += weights[i]!;
    }
    total += rowSums[y]!;
  }
  if (!(total > 0)) {
    throw new RangeError(`Cannot use environment "${map.name ?? "?"}": it is black everywhere`);
  }
  let acc = 0;
  for (let y = 0; y < h; y++) {
    acc += rowSums[y]!;
    cdf[w * h + y] = y === h - 1 ? 1 : acc / total;
    let row = 0;
    for (let x = 0; x < w; x++) {
      row += weights[y * w + x]!;
      cdf[w * h + h + y * w + x] = x === w - 1 ? 1 : rowSums[y]! > 0 ? row / rowSums[y]! : (x + 1) / w;
    }
  }
  bits.set([w, h, offset, offset + w * h], 4);
  block[8] = total;
  bits[9] = 1;
  return { block, words };
}

/** Mean linear luminance of an sRGB RGBA8 image (sampled on a grid for large ones). */
function meanSrgb(rgba: Uint8Array): number {
  const pixels = rgba.length / 4;
  const step = Math.max(1, Math.floor(pixels / 65536));
  let sum = 0, n = 0;
  for (let p = 0; p < pixels; p += step, n++) {
    const lin = (b: number) => {
      const c = b / 255;
      return c <= 0.04045 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    };
    sum += 0.2126 * lin(rgba[p * 4]!) + 0.7152 * lin(rgba[p * 4 + 1]!) + 0.0722 * lin(rgba[p * 4 + 2]!);
  }
  return n > 0 ? sum / n : 0;
}

/** A material's extension block (see MATERIAL_EXT_FLOATS): clearcoat, sheen, volume absorption, specular colour. */
function extensionBlock(m: Material): number[] {
  const sheen = m.sheenColor ?? [0, 0, 0];
  const specular = m.specularColor ?? [1, 1, 1];
  return [
    clamp01(m.clearcoat ?? 0),
    clamp01(m.clearcoatRoughness ?? 0),
    m.clearcoatNormalScale ?? 1,
    clamp01(m.sheenRoughness ?? 0),
    ...sheen.map(clamp01),
    0,
    ...absorption(m),
    0,
    ...specular.map((c) => Math.max(0, c)),
    0,
  ];
}

/** Beer–Lambert absorption coefficients per unit length: -ln(attenuationColor) / attenuationDistance. */
function absorption(m: Material): number[] {
  const d = m.attenuationDistance ?? Infinity;
  const c = m.attenuationColor ?? [1, 1, 1];
  if (!(d > 0) || !Number.isFinite(d)) return [0, 0, 0];
  // a channel of 0 would absorb everything at once: clamp to a transmittance of 1e-6 per distance
  return c.map((x) => -Math.log(Math.min(1, Math.max(1e-6, x))) / d);
}

function clamp01(x: number): number {
  return Math.min(1, Math.max(0, x));
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
  block.set([...forward, camera.aspectRatio ?? 0], 12);
  return block;
}

/** The aspect ratio (width / height) the render data's camera was made for, if it has one. */
export function cameraAspect(data: RenderData): number | undefined {
  const aspect = data.camera[15]!;
  return aspect > 0 && Number.isFinite(aspect) ? aspect : undefined;
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
  const e1: V = [soup[o + 3]! - soup[o]!, soup[o + 4]! - soup[o + 1]!, soup[o + 5]! - soup[o + 2]!];
  const e2: V = [soup[o + 6]! - soup[o]!, soup[o + 7]! - soup[o + 1]!, soup[o + 8]! - soup[o + 2]!];
  const c = cross(e1, e2);
  return 0.5 * Math.hypot(c[0], c[1], c[2]);
}
