/**
 * Render data: a scene compiled into GPU-ready sections (camera, BVH nodes, triangles and their attributes,
 * materials, textures, lights, environment, punctual lights, settings), each an array of the records
 * mod/gpu_layout declares; the `.ocrd` file that holds them, and the checks at its trust boundary.
 * @module
 */
export { buildBvh, type Bvh, type BvhOptions, MAX_DEPTH, NODE_BYTES } from "./bvh.ts";
export { type CompileOptions, type CompileStats, type RenderData } from "./types.ts";
export { compileScene } from "./compile.ts";
export { cameraAspect, cameraBlock } from "./camera_block.ts";
export { hasEnvironmentMap, sceneFeatures } from "./features.ts";
export { decodeRenderData, encodeRenderData, OCRD_MAGIC, OCRD_VERSION } from "./ocrd.ts";
export {
  RenderDataError,
  renderDataFromSections,
  renderDataHash,
  renderDataSections,
  SECTION,
  type Section,
  type SectionName,
  sectionsHash,
} from "./sections.ts";
export {
  CameraError,
  type CameraJson,
  cameraJson,
  cameraOf,
  checkPose,
  parseCamera,
  sceneBounds,
  withCamera,
} from "./camera.ts";
export { placeCamera } from "./interior.ts";
export { loadRenderData } from "./load.ts";
