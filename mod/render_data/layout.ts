// GPU layouts of render data sections; keep in step with kernels/common/structs.wgsl.

/** Floats per triangle: v0.xyz + material bits, v1.xyz + light pick probability, v2.xyz + unused. */
export const TRI_FLOATS = 12;
/** Floats of one triangle's attributes: n0.xyz + u0, n1.xyz + v0, n2.xyz + 0, u1 v1 u2 v2. */
export const ATTR_FLOATS = 16;
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
/** Floats of one inline texture reference: offset, width, height, valid (u32) + two rows of the UV matrix. */
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
