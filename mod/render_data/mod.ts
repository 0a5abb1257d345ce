/**
 * Render data: a scene compiled into GPU-ready sections (BVH, triangles, materials, lights, camera).
 * @module
 */
export { buildBvh, type Bvh, type BvhOptions, MAX_DEPTH, NODE_BYTES } from "./bvh.ts";
export { cameraBlock, compileScene, type CompileStats, type RenderData, renderDataHash } from "./compile.ts";
export { CAMERA_FLOATS, LIGHT_BYTES, MATERIAL_FLOATS, TRI_FLOATS } from "./layout.ts";
