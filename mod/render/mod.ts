/**
 * Rendering on this machine's GPU: sample ranges of regions, the local render loop, image files.
 * @module
 */
export { GpuRenderer } from "./gpu_renderer.ts";
export type { Region, RenderSettings, SampleRange, TileResult } from "./types.ts";
export { intersectRays, type RayHit } from "./intersect.ts";
export {
  type LocalRenderOptions,
  type LocalRenderResult,
  renderLocal,
  type RenderProgress,
} from "./local.ts";
export {
  accumulatorPixelBytes,
  AOV_BYTES_PER_PIXEL,
  checkImageSize,
  ImageTooLargeError,
  largestFit,
  MASTER_BYTES_PER_PIXEL,
  RENDER_BYTES_PER_PIXEL,
  type SizeCheckOptions,
  type SizeLimits,
} from "./limits.ts";
export { decodeExr, decodeExrChannels, encodeExr, encodeExrChannels, type ExrChannels } from "./exr.ts";
export { AOV_FILES, AOV_FLOATS, type AovImages, aovMeans, tileFloats, writeAovFiles } from "./aov.ts";
export {
  decodePfm,
  decodePng,
  encodePfm,
  encodePng,
  type HdrImage,
  meanImage,
  pngFromRgb8,
  toSrgb8,
} from "./image.ts";
