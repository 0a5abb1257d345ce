import type { SceneFeatures } from "../gpu_layout/mod.ts";

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
 * Compiled render data: GPU-ready sections, the only thing a renderer (local or a slave) needs. Each section
 * is an array of the records mod/gpu_layout declares, little-endian, byte for byte as the GPU reads them.
 */
export interface RenderData {
  /** One CAMERA record. */
  camera: Float32Array;
  /** NODE records, node 0 the root. */
  nodes: ArrayBuffer;
  /** TRI records, in BVH order. */
  triangles: Float32Array;
  /**
   * ATTR records, one per triangle in BVH order, then the UV1 records (two per ATTR's bytes) of the
   * triangles whose mesh has a second texture coordinate set.
   */
  attributes: Float32Array;
  /** MATERIAL records. */
  materials: Float32Array;
  /**
   * Every texture's mip chain (a header of each level's offset, then RGBA8 texels, level 0 first), one after
   * another; materials address them by offset. A texture read both as sRGB colour and as linear data has a
   * chain of each. Then the environment map's RGBE words and CDFs.
   */
  texels: Uint8Array;
  /** LIGHT_ENTRY records, one per emissive triangle. */
  lights: ArrayBuffer;
  /** One ENVIRONMENT record; a map's texels and CDFs are in `texels`. */
  environment: Float32Array;
  /**
   * Punctual lights: a PUNCTUAL_HEADER record, then one PUNCTUAL record per light; absent when the scene has
   * none, and then the environment and the emissive triangles share the picks as they always did.
   */
  punctual?: Float32Array;
  /** What the scene uses (each turns on the kernel code of one feature); recorded in the settings section. */
  features: SceneFeatures;
  /** Figures about the compile. */
  stats: CompileStats;
}

/** Options of {@linkcode compileScene}. */
export interface CompileOptions {
  /** Build every texture's mip chain (default true); without, textures are read at full size only. */
  mipmaps?: boolean;
}
