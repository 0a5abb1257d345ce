// GPU layouts of render data sections; keep in step with kernels/common/structs.wgsl.

/** Floats per triangle: v0.xyz + material bits, v1.xyz + light pick probability, v2.xyz + unused. */
export const TRI_FLOATS = 12;
/** Floats per material: color.rgb + kind, emission.rgb + roughness, ior + 3 unused. */
export const MATERIAL_FLOATS = 12;
/** Bytes per light entry: triangle index (u32) + cumulative probability (f32). */
export const LIGHT_BYTES = 8;
/** Floats of the camera block: position + tan(fovY/2), right + lens radius, up + focus distance, forward + 0. */
export const CAMERA_FLOATS = 16;

/** Material kind codes as the kernels read them. */
export const MATERIAL_KIND = { diffuse: 0, conductor: 1, dielectric: 2 } as const;
