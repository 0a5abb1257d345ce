/**
 * The kernels' pipeline constants (WGSL `override`s), declared once: the scene features that compile code
 * in or out (software GPUs run every branch of a SIMD group, so a scene pays only for what it uses), the
 * render settings that change the kernel, and sizes. The `override` declarations are generated from this
 * table, and the renderer passes values by the same names. This is octane's one feature mechanism.
 * @module
 */
import type { KernelName } from "./bindings.ts";
import { wgslComment } from "./record.ts";

/**
 * What a scene uses, as the compiler records it in the render data's settings and the renderer reads it.
 * Each turns on the kernel code of one feature.
 */
export interface SceneFeatures {
  /** Some material uses a texture. */
  textures: boolean;
  /** Some material is alpha-masked or alpha-blended (its surfaces are partly not there). */
  alphaMask: boolean;
  /** Some texture reads texture coordinate set 1. */
  uv1: boolean;
  /** Some material has a clear coat or a sheen. */
  layers: boolean;
  /** Some material absorbs inside its volume. */
  volume: boolean;
  /** Some material has a specular layer (specular > 0). */
  specular: boolean;
  /** Some material is metallic. */
  metal: boolean;
  /** Some material transmits. */
  transmission: boolean;
  /** The environment has a map. */
  envMap: boolean;
  /** The scene has punctual lights. */
  punctual: boolean;
  /** The scene has emissive triangles. */
  triangleLights: boolean;
}

/** A scene that uses none of the features. */
export const NO_FEATURES: Readonly<SceneFeatures> = {
  textures: false,
  alphaMask: false,
  uv1: false,
  layers: false,
  volume: false,
  specular: false,
  metal: false,
  transmission: false,
  envMap: false,
  punctual: false,
  triangleLights: false,
};

/** The feature names, in the order the settings record them. */
export const FEATURE_NAMES = [
  "textures",
  "alphaMask",
  "uv1",
  "layers",
  "volume",
  "specular",
  "metal",
  "transmission",
  "envMap",
  "punctual",
  "triangleLights",
] as const satisfies readonly (keyof SceneFeatures)[];

/** One pipeline constant. */
export interface PipelineConstant {
  /** WGSL type. */
  readonly type: "bool" | "u32";
  /** The WGSL default (what a kernel compiled without the constant uses). */
  readonly default: boolean | number;
  /** The kernels that declare it. */
  readonly kernels: readonly KernelName[];
  /** What it turns on or sets. */
  readonly doc: string;
}

/** Every pipeline constant by its WGSL name. */
export const PIPELINE_CONSTANTS = {
  HAS_TEXTURES: { type: "bool", default: true, kernels: ["trace"], doc: "Some material uses a texture." },
  HAS_ALPHA_MASK: {
    type: "bool",
    default: true,
    kernels: ["trace"],
    doc: "Some material is alpha-masked or alpha-blended.",
  },
  HAS_UV1: {
    type: "bool",
    default: true,
    kernels: ["trace"],
    doc: "Some texture reads texture coordinate set 1.",
  },
  HAS_LAYERS: {
    type: "bool",
    default: true,
    kernels: ["trace"],
    doc: "Some material has a clear coat or a sheen (KHR_materials_clearcoat, _sheen).",
  },
  HAS_VOLUME: {
    type: "bool",
    default: true,
    kernels: ["trace"],
    doc: "Some transmissive material absorbs inside its volume (KHR_materials_volume).",
  },
  HAS_SPECULAR: {
    type: "bool",
    default: true,
    kernels: ["trace"],
    doc: "Some material has a specular layer.",
  },
  HAS_METAL: { type: "bool", default: true, kernels: ["trace"], doc: "Some material is metallic." },
  HAS_GLOSSY: {
    type: "bool",
    default: true,
    kernels: ["trace"],
    doc: "Some material is specular or metallic (the GGX reflection lobes).",
  },
  HAS_TRANSMISSION: { type: "bool", default: true, kernels: ["trace"], doc: "Some material transmits." },
  HAS_ENV_MAP: { type: "bool", default: true, kernels: ["trace"], doc: "The environment has a map." },
  HAS_PUNCTUAL: { type: "bool", default: true, kernels: ["trace"], doc: "The scene has punctual lights." },
  HAS_TRI_LIGHTS: {
    type: "bool",
    default: true,
    kernels: ["trace"],
    doc: "The scene has emissive triangles.",
  },
  AOVS: {
    type: "bool",
    default: false,
    kernels: ["trace"],
    doc:
      "Also accumulate each sample's first-hit albedo and shading normal (AOVs for a denoiser); the accumulator then holds three vec4f a pixel. The radiance is the same either way: the AOVs draw no random numbers.",
  },
  TEXEL_ROW_SHIFT: {
    type: "u32",
    default: 12,
    kernels: ["trace", "intersect"],
    doc: "log2 of the traversal texture's texels a row (mod/render/traversal.ts textureShift).",
  },
  TRACE_WORKGROUP: {
    type: "u32",
    default: 8,
    kernels: ["trace"],
    doc: "The path tracer's workgroup is TRACE_WORKGROUP x TRACE_WORKGROUP pixels.",
  },
  INTERSECT_WORKGROUP: {
    type: "u32",
    default: 64,
    kernels: ["intersect"],
    doc: "Rays per workgroup of the intersect kernel.",
  },
} as const satisfies Record<string, PipelineConstant>;

/** A pipeline constant's name. */
export type ConstantName = keyof typeof PIPELINE_CONSTANTS;

/** The path tracer's workgroup side, in pixels (dispatches are sized by it). */
export const TRACE_WORKGROUP = PIPELINE_CONSTANTS.TRACE_WORKGROUP.default;
/** Rays per workgroup of the intersect kernel. */
export const INTERSECT_WORKGROUP = PIPELINE_CONSTANTS.INTERSECT_WORKGROUP.default;

/** Values of the constants a kernel is compiled with (booleans as 0 or 1, as WebGPU takes them). */
export type ConstantValues = Partial<Record<ConstantName, number | boolean>>;

/** The WebGPU `constants` record for `values`: booleans as 0 or 1. */
export function pipelineConstants(values: ConstantValues): Record<string, number> {
  return Object.fromEntries(
    Object.entries(values).map(([name, v]) => [name, typeof v === "boolean" ? (v ? 1 : 0) : v]),
  );
}

/** The pipeline constants of a scene's features. */
export function featureConstants(f: SceneFeatures): ConstantValues {
  return {
    HAS_TEXTURES: f.textures,
    HAS_ALPHA_MASK: f.alphaMask,
    HAS_UV1: f.uv1,
    HAS_LAYERS: f.layers,
    HAS_VOLUME: f.volume,
    HAS_SPECULAR: f.specular,
    HAS_METAL: f.metal,
    HAS_GLOSSY: f.specular || f.metal,
    HAS_TRANSMISSION: f.transmission,
    HAS_ENV_MAP: f.envMap,
    HAS_PUNCTUAL: f.punctual,
    HAS_TRI_LIGHTS: f.triangleLights,
  };
}

/** The WGSL `override` declarations of `kernel`'s constants. */
export function wgslConstants(kernel: KernelName): string {
  return (Object.entries(PIPELINE_CONSTANTS) as [ConstantName, PipelineConstant][])
    .filter(([, c]) => c.kernels.includes(kernel))
    .map(([name, c]) =>
      [
        ...wgslComment(c.doc),
        `override ${name}: ${c.type} = ${c.type === "u32" ? `${c.default}u` : c.default};`,
      ]
        .join("\n")
    )
    .join("\n");
}
