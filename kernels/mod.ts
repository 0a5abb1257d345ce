/**
 * WGSL kernels, assembled from `.wgsl` files imported as text (so `deno compile` embeds them), after the
 * declarations generated from the GPU data contract (mod/gpu_layout/: pipeline constants, record structs,
 * bindings). The chunks use those names and declare none of them.
 * @module
 */
import { kernelDeclarations, type KernelName } from "../mod/gpu_layout/mod.ts";
import constants from "./common/constants.wgsl" with { type: "text" };
import rng from "./common/rng.wgsl" with { type: "text" };
import sampling from "./common/sampling.wgsl" with { type: "text" };
import shading from "./common/shading.wgsl" with { type: "text" };
import bvh from "./common/bvh.wgsl" with { type: "text" };
import bsdf from "./common/bsdf.wgsl" with { type: "text" };
import layers from "./common/layers.wgsl" with { type: "text" };
import environment from "./common/environment.wgsl" with { type: "text" };
import punctual from "./common/punctual.wgsl" with { type: "text" };
import trace from "./trace.wgsl" with { type: "text" };
import intersect from "./intersect.wgsl" with { type: "text" };

/** The chunks each kernel is assembled from after its generated declarations, in order, by file name. */
export const KERNEL_CHUNKS = {
  trace: {
    "common/constants.wgsl": constants,
    "common/rng.wgsl": rng,
    "common/sampling.wgsl": sampling,
    "common/shading.wgsl": shading,
    "common/bvh.wgsl": bvh,
    "common/bsdf.wgsl": bsdf,
    "common/layers.wgsl": layers,
    "common/environment.wgsl": environment,
    "common/punctual.wgsl": punctual,
    "trace.wgsl": trace,
  },
  intersect: { "common/constants.wgsl": constants, "common/bvh.wgsl": bvh, "intersect.wgsl": intersect },
} as const satisfies Record<KernelName, Readonly<Record<string, string>>>;

function assemble(kernel: KernelName): string {
  return [kernelDeclarations(kernel), ...Object.values(KERNEL_CHUNKS[kernel])].join("\n");
}

/**
 * The path tracer (entry point `main`): bindings and pipeline constants as mod/gpu_layout declares them for
 * kernel "trace"; the scene's features are pipeline constants.
 */
export const traceKernel: string = assemble("trace");

/** Closest-hit queries for a batch of rays (entry point `main`); bindings of kernel "intersect". */
export const intersectKernel: string = assemble("intersect");
