// GPU layouts of render data sections; keep in step with kernels/common/structs.wgsl.

/**
 * Floats per triangle: v0.xyz + material bits, v1.xyz + light pick probability, v2.xyz + its second
 * texture coordinate set's record (u32 bits: 1 + record index into the UV1 records, 0 where its mesh has none).
 */
export const TRI_FLOATS = 12;
/**
 * Floats of one triangle's attributes: n0.xyz + u0, n1.xyz + v0, n2.xyz + UV set 0's LOD bias, u1 v1 u2 v2.
 * The LOD bias is ½·log2(UV area / world area) of the triangle (see {@linkcode lodBias}).
 * After the triangles' attributes the section holds the UV1 records, two per ATTR_FLOATS: each is set 1's
 * u0 v0 u1 v1, u2 v2, set 1's LOD bias, 0.
 */
export const ATTR_FLOATS = 16;
/** Floats of one triangle's record of the second texture coordinate set (half of ATTR_FLOATS). */
export const UV1_FLOATS = 8;
/**
 * Texture slots of a material, in order: the core four, then those of KHR_materials_clearcoat (4-6),
 * KHR_materials_sheen (7-8), KHR_materials_transmission (9) and KHR_materials_specular (10-11).
 */
export const TEXTURE_SLOTS = [
  "baseColor",
  "metallicRoughness",
  "normal",
  "emissive",
  "clearcoat",
  "clearcoatRoughness",
  "clearcoatNormal",
  "sheenColor",
  "sheenRoughness",
  "transmission",
  "specular",
  "specularColor",
] as const;
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
/**
 * Floats of one inline texture reference: texel offset, width, height, mip levels (u32; 0: no texture),
 * then the UV matrix's first row + the texture coordinate set (0 or 1), its second row + 0. The offset starts a
 * header of one word per level (that level's first texel, counted from the offset), then the levels follow
 * one another, each half the size of the one above (rounded down, at least 1).
 */
export const TEXREF_FLOATS = 12;
/** Floats of the material's own fields, before its texture references. */
export const MATERIAL_BASE_FLOATS = 24;
/**
 * Floats of the extension block after the texture references: clearcoat, clearcoat roughness, clearcoat
 * normal scale, sheen roughness; sheen colour rgb, 0; absorption coefficient rgb per unit length
 * (KHR_materials_volume: -ln(attenuationColor) / attenuationDistance, 0 for none), 0; specular colour rgb, 0.
 */
export const MATERIAL_EXT_FLOATS = 16;
/** Offset of the extension block in a material. */
export const MATERIAL_EXT_OFFSET = MATERIAL_BASE_FLOATS + TEXTURE_SLOTS.length * TEXREF_FLOATS;
/**
 * Floats per material: base colour rgb + alpha, emission rgb + metallic, roughness ior transmission
 * specular, alpha cutoff (negative: opaque) normal scale 0 0, 8 reserved, then the texture references,
 * then the extension block.
 */
export const MATERIAL_FLOATS = MATERIAL_EXT_OFFSET + MATERIAL_EXT_FLOATS;
/** Bytes per light entry: triangle index (u32) + cumulative probability (f32). */
export const LIGHT_BYTES = 8;
/**
 * Floats of the environment block: colour rgb + intensity; map width, height, texel offset, CDF offset
 * (u32, in 4-byte words of the texels section); total sampling weight, has map (u32), 6 reserved.
 */
export const ENVIRONMENT_FLOATS = 16;
/**
 * Floats of the camera block: position + tan(fovY/2), right + lens radius, up + focus distance, forward +
 * the camera's own aspect ratio (0 when it has none; it sets the default image size, while the renderer
 * uses the image's width / height).
 */
export const CAMERA_FLOATS = 16;

/**
 * ½·log2(UV area / world area) of a triangle, the texture-independent part of its ray-cone level of detail
 * (Akenine-Möller et al., Ray Tracing Gems ch. 20): a texture of w×h texels is read at level
 * lodBias + ½·log2(w·h·|det UV transform|) + log2(cone width / |cos θ|). A triangle without UV area or world
 * area gets -126 (level 0).
 */
export function lodBias(uvArea: number, worldArea: number): number {
  const ratio = uvArea / worldArea;
  return ratio > 0 && Number.isFinite(ratio) ? Math.max(-126, Math.min(126, 0.5 * Math.log2(ratio))) : -126;
}

/**
 * Floats per record of the punctual-light section (KHR_lights_punctual). Record 0 is a header: light count
 * (u32), then the probabilities that next-event estimation picks the environment map, the emissive triangles
 * (all together) and the punctual lights (all together), by power; 12 reserved. Then one record per light:
 * position xyz + kind (a float, see {@linkcode PUNCTUAL_KIND}); direction it shines along xyz + cumulative pick
 * probability among the punctual lights; intensity rgb (W/sr for point and spot, W/m² for directional) +
 * pick probability among the punctual lights; spot cos(outer angle), cos(inner angle), 1 / (cos inner -
 * cos outer) (at most 1e4), 0. The GPU reads the lights' records (not the header) after the emissive
 * triangles' entries in the lights buffer.
 */
export const PUNCTUAL_FLOATS = 16;
/** Kinds of punctual light, as stored in a record's fourth word. */
export const PUNCTUAL_KIND = { point: 0, spot: 1, directional: 2 } as const;
