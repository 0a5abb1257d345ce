/**
 * Every binding of every kernel, declared once: group 0, its number, its kind and WGSL type, and the kernels
 * that use it. The WGSL `@binding` declarations, the explicit bind-group layouts and the bind groups all come
 * from this table.
 * @module
 */
import { type Fields, type GpuRecord, wgslComment, wgslType } from "./record.ts";
import { ATTR, HIT, LIGHT_ENTRY, MATERIAL, PARAMS, PUNCTUAL, RAY, STATS, TRI } from "./records.ts";

/** The kernels (entry point `main` each): the path tracer and the closest-hit queries. */
export type KernelName = "trace" | "intersect";

/** How a binding is bound. */
export type BindingKind = "uniform" | "read-only-storage" | "storage" | "uint-texture";

/** One binding. */
export interface Binding {
  /** Its `@binding` number in group 0. */
  readonly binding: number;
  /** How it is bound. */
  readonly kind: BindingKind;
  /**
   * What it holds: a record (a uniform struct, or a storage struct), a runtime-sized array of a record or a
   * scalar/vector type (`{ array: ... }`), or a WGSL type spelled out.
   */
  readonly type: GpuRecord<Fields> | { readonly array: GpuRecord<Fields> | string } | string;
  /** The kernels that use it. */
  readonly kernels: readonly KernelName[];
  /** What it is. */
  readonly doc: string;
}

/** Entries of the sheen albedo table (a 32x32 grid, packed 4 to a vec4f for the uniform address space). */
export const SHEEN_TABLE_SIZE = 32;

/** The bindings by their WGSL variable names. */
export const BINDINGS = {
  params: {
    binding: 0,
    kind: "uniform",
    type: PARAMS,
    kernels: ["trace"],
    doc: "The dispatch's parameters.",
  },
  punctual: {
    binding: 1,
    kind: "read-only-storage",
    type: { array: PUNCTUAL },
    kernels: ["trace"],
    doc:
      "The punctual lights (the punctual section without its header; one zero record where there are none).",
  },
  tris: {
    binding: 2,
    kind: "read-only-storage",
    type: { array: TRI },
    kernels: ["trace"],
    doc: "The triangles, in BVH order.",
  },
  materials: {
    binding: 3,
    kind: "read-only-storage",
    type: { array: MATERIAL },
    kernels: ["trace"],
    doc: "The materials.",
  },
  lights: {
    binding: 4,
    kind: "read-only-storage",
    type: { array: LIGHT_ENTRY },
    kernels: ["trace"],
    doc: "The emissive triangles' pick distribution.",
  },
  accum: {
    binding: 5,
    kind: "storage",
    type: { array: "vec4f" },
    kernels: ["trace"],
    doc:
      "Per-pixel sums of the band: one vec4f a pixel (radiance), three with AOVs (radiance, albedo, normal).",
  },
  stats: {
    binding: 6,
    kind: "storage",
    type: STATS,
    kernels: ["trace"],
    doc: "The dispatch's counters.",
  },
  attrs: {
    binding: 7,
    kind: "read-only-storage",
    type: { array: ATTR },
    kernels: ["trace"],
    doc: "The triangles' shading attributes, then their texture coordinate set 1 records.",
  },
  texels: {
    binding: 8,
    kind: "read-only-storage",
    type: { array: "u32" },
    kernels: ["trace"],
    doc: "Every texture's mip chain (RGBA8 words), then the environment map's RGBE words and CDFs.",
  },
  scene_texels: {
    binding: 9,
    kind: "uint-texture",
    type: "texture_2d<u32>",
    kernels: ["trace", "intersect"],
    doc: "The BVH and the triangles in the traversal layout (mod/render/traversal.ts).",
  },
  sheen_table: {
    binding: 10,
    kind: "uniform",
    type: `array<vec4f, ${SHEEN_TABLE_SIZE * SHEEN_TABLE_SIZE / 4}>`,
    kernels: ["trace"],
    doc:
      "The sheen lobe's directional albedo E over sqrt(cos θ) (rows) and roughness (columns), 4 to a vec4f.",
  },
  rays: {
    binding: 11,
    kind: "read-only-storage",
    type: { array: RAY },
    kernels: ["intersect"],
    doc: "The rays to intersect.",
  },
  hits: {
    binding: 12,
    kind: "storage",
    type: { array: HIT },
    kernels: ["intersect"],
    doc: "Each ray's closest hit.",
  },
} as const satisfies Record<string, Binding>;

/** A binding's name. */
export type BindingName = keyof typeof BINDINGS;

/** The names of the bindings kernel `K` uses. */
export type BindingsOf<K extends KernelName> = {
  [N in BindingName]: K extends (typeof BINDINGS)[N]["kernels"][number] ? N : never;
}[BindingName];

/** The bindings kernel `kernel` uses, by number. */
export function bindingsOf(kernel: KernelName): [BindingName, Binding][] {
  return (Object.entries(BINDINGS) as [BindingName, Binding][])
    .filter(([, b]) => b.kernels.includes(kernel))
    .sort((a, b) => a[1].binding - b[1].binding);
}

/** The WGSL type a binding declares. */
export function bindingType(b: Binding): string {
  if (typeof b.type === "string") return b.type;
  if ("array" in b.type) {
    const element = b.type.array;
    return `array<${typeof element === "string" ? element : wgslType(element)}>`;
  }
  return wgslType(b.type);
}

/** The WGSL declaration of a binding: `@group(0) @binding(n) var<...> name: type;`. */
export function wgslBinding(name: BindingName, b: Binding): string {
  const space = b.kind === "uniform"
    ? "<uniform>"
    : b.kind === "read-only-storage"
    ? "<storage, read>"
    : b.kind === "storage"
    ? "<storage, read_write>"
    : "";
  return [...wgslComment(b.doc), `@group(0) @binding(${b.binding}) var${space} ${name}: ${bindingType(b)};`]
    .join("\n");
}

/** The explicit bind-group layout of `kernel`: one entry per binding it uses, visible to compute. */
export function bindGroupLayout(device: GPUDevice, kernel: KernelName): GPUBindGroupLayout {
  return device.createBindGroupLayout({
    label: `${kernel} bind group layout`,
    entries: bindingsOf(kernel).map(([, b]): GPUBindGroupLayoutEntry => ({
      binding: b.binding,
      visibility: GPUShaderStage.COMPUTE,
      ...(b.kind === "uint-texture" ? { texture: { sampleType: "uint" } } : { buffer: { type: b.kind } }),
    })),
  });
}

/** The resource bound to each binding kernel `K` uses: a buffer, or a texture view for a texture. */
export type Resources<K extends KernelName> = { [N in BindingsOf<K>]: GPUBuffer | GPUTextureView };

/** A bind group of `kernel` over `layout` (from {@linkcode bindGroupLayout}) with every resource it needs. */
export function bindGroup<K extends KernelName>(
  device: GPUDevice,
  kernel: K,
  layout: GPUBindGroupLayout,
  resources: Resources<K>,
): GPUBindGroup {
  return device.createBindGroup({
    label: `${kernel} bind group`,
    layout,
    entries: bindingsOf(kernel).map(([name, b]): GPUBindGroupEntry => {
      const r = (resources as Record<string, GPUBuffer | GPUTextureView>)[name]!;
      return { binding: b.binding, resource: r instanceof GPUBuffer ? { buffer: r } : r };
    }),
  });
}
