// Packs a scene's materials into MATERIAL records with inline texture references, and its textures' mip
// chains into the texels they address.
import { MATERIAL, TEX_REF, TEXTURE_SLOTS } from "../gpu_layout/mod.ts";
import type { Material, Scene, TextureRef } from "../scene/types.ts";
import { mipChain, mipHeader } from "./mips.ts";

/**
 * Texture slots whose texels are sRGB-encoded colour (filtered in linear light; their mip levels are
 * built in linear light too); the other slots hold linear data.
 */
export const SRGB_TEXTURE_SLOTS: ReadonlySet<string> = new Set([
  "baseColor",
  "emissive",
  "sheenColor",
  "specularColor",
]);

/** What {@linkcode packMaterials} returns. */
export interface PackedMaterials {
  /** MATERIAL records. */
  materials: Float32Array;
  /** The textures' mip chains. */
  texels: Uint8Array;
  /** Per material, the mean luminance of its emission texture (1 without one): weights its light power. */
  emissionScale: number[];
}

/** Packs materials with inline texture references and concatenates the textures they use. */
export function packMaterials(scene: Scene, mipmaps: boolean): PackedMaterials {
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

  const materials = new Float32Array(Math.max(1, scene.materials.length) * MATERIAL.words);
  const emissionScale: number[] = [];
  scene.materials.forEach((m: Material, i) => {
    MATERIAL.write(materials, i, {
      base_color: m.baseColor,
      alpha: m.alpha,
      emission: m.emission,
      metallic: clamp01(m.metallic),
      roughness: clamp01(m.roughness),
      ior: m.ior,
      transmission: clamp01(m.transmission),
      specular: Math.max(0, m.specular),
      alpha_cutoff: m.alphaMode === "mask" ? m.alphaCutoff : -1,
      alpha_blend: m.alphaMode === "blend" ? 1 : 0,
      normal_scale: m.normalScale,
      ...extensionFields(m),
    });
    const refs = textureRefs(m);
    TEXTURE_SLOTS.forEach((name, slot) => {
      const r = refs[slot];
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
      const x = r.transform ?? [1, 0, 0, 0, 1, 0];
      TEX_REF.writeAt(materials, i * MATERIAL.size + MATERIAL.field("tex").offset + slot * TEX_REF.size, {
        offset: chain.offset,
        width: tex.width,
        height: tex.height,
        levels: chain.levels,
        row0: [x[0], x[1], x[2]],
        tex_coord: r.texCoord === 1 ? 1 : 0,
        row1: [x[3], x[4], x[5]],
      });
    });
    emissionScale.push(m.emissiveTexture ? meanSrgb(scene.textures[m.emissiveTexture.texture]!.rgba) : 1);
  });
  const texels = new Uint8Array(Math.max(1, texelCount) * 4);
  for (const chain of chains.values()) {
    texels.set(chain.header, chain.offset * 4);
    texels.set(chain.rgba, (chain.offset + chain.levels) * 4);
  }
  return { materials, texels, emissionScale };
}

/** A material's texture references, in the order of TEXTURE_SLOTS. */
function textureRefs(m: Material): (TextureRef | undefined)[] {
  const bySlot: Record<(typeof TEXTURE_SLOTS)[number], TextureRef | undefined> = {
    baseColor: m.baseColorTexture,
    metallicRoughness: m.metallicRoughnessTexture,
    normal: m.normalTexture,
    emissive: m.emissiveTexture,
    clearcoat: m.clearcoatTexture,
    clearcoatRoughness: m.clearcoatRoughnessTexture,
    clearcoatNormal: m.clearcoatNormalTexture,
    sheenColor: m.sheenColorTexture,
    sheenRoughness: m.sheenRoughnessTexture,
    transmission: m.transmissionTexture,
    specular: m.specularTexture,
    specularColor: m.specularColorTexture,
  };
  return TEXTURE_SLOTS.map((slot) => bySlot[slot]);
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

/** A material's extension fields: clearcoat, sheen, volume absorption, specular colour. */
function extensionFields(m: Material) {
  return {
    clearcoat: clamp01(m.clearcoat ?? 0),
    clearcoat_roughness: clamp01(m.clearcoatRoughness ?? 0),
    clearcoat_normal_scale: m.clearcoatNormalScale ?? 1,
    sheen_roughness: clamp01(m.sheenRoughness ?? 0),
    sheen_color: (m.sheenColor ?? [0, 0, 0]).map(clamp01),
    absorption: absorption(m),
    specular_color: (m.specularColor ?? [1, 1, 1]).map((c) => Math.max(0, c)),
  };
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
