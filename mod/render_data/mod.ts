/**
 * Render data: a scene compiled into GPU-ready sections (BVH, triangles, materials, lights, camera).
 * @module
 */
export { buildBvh, type Bvh, type BvhOptions, MAX_DEPTH, NODE_BYTES } from "./bvh.ts";
export {
  cameraAspect,
  cameraBlock,
  type CompileOptions,
  compileScene,
  type CompileStats,
  type RenderData,
} from "./compile.ts";
export {
  decodeRenderData,
  encodeRenderData,
  OCRD_MAGIC,
  OCRD_VERSION,
  RenderDataError,
  renderDataFromSections,
  renderDataHash,
  renderDataSections,
  SECTION,
  type Section,
  type SectionName,
  sectionsHash,
} from "./ocrd.ts";
export {
  ATTR_FLOATS,
  CAMERA_FLOATS,
  ENVIRONMENT_FLOATS,
  LIGHT_BYTES,
  MATERIAL_BASE_FLOATS,
  MATERIAL_EXT_FLOATS,
  MATERIAL_EXT_OFFSET,
  MATERIAL_FLOATS,
  PUNCTUAL_FLOATS,
  PUNCTUAL_KIND,
  TEXREF_FLOATS,
  TEXTURE_SLOTS,
  TRI_FLOATS,
} from "./layout.ts";
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
