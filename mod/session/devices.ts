import { type Denoiser, openDenoiser } from "../denoise/mod.ts";
import { type Gpu, openGpu } from "../gpu/mod.ts";
import {
  AOV_BYTES_PER_PIXEL,
  checkImageSize,
  MASTER_BYTES_PER_PIXEL,
  RENDER_BYTES_PER_PIXEL,
} from "../render/mod.ts";

/** What a session opens before it renders. */
export interface DeviceRequest {
  /** Render on this machine's GPU (a master with no local render renders on slaves only). */
  render: boolean;
  /** The image to fit. */
  width: number;
  /** The image to fit. */
  height: number;
  /** Who holds the image in memory: a local render, or a master merging every node's results. */
  role: "render" | "master";
  /** The render has AOVs (their sums take memory too). */
  aovs: boolean;
  /** --denoise: open the denoiser now (with the AOVs as its guides where the render has them). */
  denoise: boolean;
}

/** The GPU and the denoiser a session renders and denoises with. */
export interface Devices {
  /** This machine's GPU, where it renders. */
  gpu?: Gpu | undefined;
  /** The denoiser, with --denoise. */
  denoiser?: Denoiser | undefined;
}

/**
 * Opens the GPU (where this machine renders), checks the image fits it and this machine's memory, and opens
 * the denoiser --denoise asks for (on that GPU, else on one opened for it), all before any work.
 * @throws {ImageTooLargeError} naming the largest image of the same aspect that fits
 * @throws {DenoiseWeightsError} when the denoiser's weights are missing or corrupt
 */
export async function openDevices(request: DeviceRequest): Promise<Devices> {
  const gpu = request.render ? await openGpu() : undefined;
  const bytesPerPixel = (request.role === "master" ? MASTER_BYTES_PER_PIXEL : RENDER_BYTES_PER_PIXEL) +
    (request.aovs ? AOV_BYTES_PER_PIXEL : 0);
  checkImageSize(request.width, request.height, { gpu, bytesPerPixel });
  const denoiser = request.denoise
    ? await openDenoiser(gpu ?? await openGpu(), { aux: request.aovs })
    : undefined;
  return { gpu, denoiser };
}
