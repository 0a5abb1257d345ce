/**
 * WGSL kernels, assembled from `.wgsl` files imported as text (so `deno compile` embeds them).
 * @module
 */
import structs from "./common/structs.wgsl" with { type: "text" };
import rng from "./common/rng.wgsl" with { type: "text" };
import sampling from "./common/sampling.wgsl" with { type: "text" };
import geometry from "./common/geometry.wgsl" with { type: "text" };
import shading from "./common/shading.wgsl" with { type: "text" };
import bvh from "./common/bvh.wgsl" with { type: "text" };
import bsdf from "./common/bsdf.wgsl" with { type: "text" };
import sheenTable from "./common/sheen_table.wgsl" with { type: "text" };
import layers from "./common/layers.wgsl" with { type: "text" };
import layersOff from "./common/layers_off.wgsl" with { type: "text" };
import environment from "./common/environment.wgsl" with { type: "text" };
import punctual from "./common/punctual.wgsl" with { type: "text" };
import trace from "./trace.wgsl" with { type: "text" };
import intersect from "./intersect.wgsl" with { type: "text" };

/** The path tracer's source with `layerCode` (the clear coat and sheen layers, or their stubs) in its place. */
function pathTracer(layerCode: string[]): string {
  return [structs, rng, sampling, geometry, shading, bvh, bsdf, ...layerCode, environment, punctual, trace]
    .join("\n");
}

/**
 * The path tracer (entry point `main`) for scenes without clear-coated or sheen materials; bindings: 0
 * params, 2 triangles, 3 materials, 4 lights, 5 accumulator, 6 stats, 7 attributes, 8 texels, 9 the BVH and
 * the triangles in the traversal layout (mod/render/traversal.ts).
 */
export const traceKernel: string = pathTracer([layersOff]);

/**
 * The path tracer with the clear coat and sheen layers (slower to compile on software GPUs), bindings as
 * {@linkcode traceKernel}'s.
 */
export const layeredTraceKernel: string = pathTracer([sheenTable, layers]);

/** Closest-hit queries for a batch of rays (entry point `main`); bindings: 0 rays, 5 hits, 9 the traversal layout. */
export const intersectKernel: string = [structs, geometry, bvh, intersect].join("\n");
