import type { Gpu } from "../gpu/mod.ts";
import type { Region } from "./types.ts";

// What fits: the bands an image is rendered in on one GPU, and the largest image a machine can hold.

/** Host bytes per pixel of `octane render`: f64 sums, a batch's f32 sums, the f32 image, its PNG bytes. */
export const RENDER_BYTES_PER_PIXEL = 24 + 12 + 12 + 4;

/**
 * Host bytes per pixel of `octane master`: the f64 film, the f32 sums two nodes keep for spot checks
 * (each further node adds 12), the f32 image, its PNG bytes. A unit's sums are one band's, not counted.
 */
export const MASTER_BYTES_PER_PIXEL = 24 + 2 * 12 + 12 + 4;

/**
 * Host bytes per pixel that AOVs add to `octane render` or `octane master`: f64 sums (6 a pixel), the f32
 * sums of a batch or of two nodes' spot checks, the f32 albedo and normal images.
 */
export const AOV_BYTES_PER_PIXEL = 48 + 2 * 24 + 24;

/**
 * Largest accumulator of one band, whatever the GPU binds: WebGPU's guaranteed binding size (8 Mpixels of
 * radiance, about 2.8 Mpixels with AOVs). Larger bands would save a readback per band and cost as much again
 * in GPU and mappable memory.
 */
const MAX_BAND_BYTES = 1 << 27;

/** Bytes of the accumulator of one band on `gpu`: what one binding holds, at most {@linkcode MAX_BAND_BYTES}. */
export function bandBytes(gpu: Gpu): number {
  return Math.min(gpu.maxBindingBytes, MAX_BAND_BYTES);
}

/** Bytes a pixel of the accumulator: radiance, then with AOVs albedo and normal (a vec4f each). */
export function accumulatorPixelBytes(aovs: boolean): number {
  return aovs ? 48 : 16;
}

/**
 * Widest image `gpu` renders: one row of the accumulator (16 bytes a pixel, 48 with AOVs) must fit one band,
 * and one dispatch (8 pixels a workgroup).
 */
export function maxImageWidth(gpu: Gpu, pixelBytes = 16): number {
  return Math.min(
    Math.floor(bandBytes(gpu) / pixelBytes),
    gpu.device.limits.maxComputeWorkgroupsPerDimension * 8,
  );
}

/** Rows of a band of an image `width` pixels wide (one binding, one dispatch) of `pixelBytes` a pixel. */
export function bandRows(gpu: Gpu, width: number, pixelBytes = 16): number {
  const rows = Math.floor(bandBytes(gpu) / pixelBytes / width);
  return Math.max(1, Math.min(rows, gpu.device.limits.maxComputeWorkgroupsPerDimension * 8));
}

/** Splits `region` into bands of at most `rows` whole rows, top to bottom. */
export function rowBands(region: Region, rows: number): Region[] {
  const bands: Region[] = [];
  for (let y = region.y; y < region.y + region.height; y += rows) {
    bands.push({ x: region.x, y, width: region.width, height: Math.min(rows, region.y + region.height - y) });
  }
  return bands;
}

/** Options of {@linkcode checkImageSize}. */
export interface SizeCheckOptions {
  /** The GPU that renders on this machine, if one does. */
  gpu?: Gpu;
  /** Host memory the render takes per pixel. */
  bytesPerPixel: number;
  /** Bytes of memory free for the render; by default what the OS reports available, when it may be read. */
  availableBytes?: number;
}

/** What bounds an image's size. */
export interface SizeLimits {
  /** Widest image. */
  maxWidth: number;
  /** Most pixels. */
  maxPixels: number;
}

/** Raised when an image does not fit this machine; `largest` is the largest of its aspect that does. */
export class ImageTooLargeError extends RangeError {
  /** The largest image of the same aspect that fits; 0x0 when none does. */
  readonly largest: { width: number; height: number };
  /** Creates the error; `message` says what does not fit. */
  constructor(message: string, largest: { width: number; height: number }) {
    super(message);
    this.name = "ImageTooLargeError";
    this.largest = largest;
  }
}

/**
 * Checks, before any work, that a `width`×`height` image fits this machine: each row of it in one GPU
 * binding (larger images are rendered in bands of rows) and all of it in the host's memory.
 * @throws {ImageTooLargeError} naming what does not fit and the largest image of the same aspect that does
 */
export function checkImageSize(width: number, height: number, options: SizeCheckOptions): void {
  const { gpu, bytesPerPixel } = options;
  const pixels = width * height;
  const maxWidth = gpu ? maxImageWidth(gpu) : Infinity;
  // on a software GPU the accumulator and its readback copy (one band at most) are host memory too
  const gpuBytes = gpu?.summary.software ? 2 * Math.min(pixels * 16, bandBytes(gpu)) : 0;
  const available = options.availableBytes ?? availableMemory();
  const maxPixels = available === undefined ? Infinity : Math.floor((available - gpuBytes) / bytesPerPixel);
  if (width <= maxWidth && pixels <= maxPixels) return;
  const fit = largestFit(width, height, { maxWidth, maxPixels });
  const why = width > maxWidth
    ? `a row of ${width} pixels does not fit one buffer of "${gpu!.summary.name}" (it binds ${
      bandBytes(gpu!)
    } bytes: ${maxWidth} pixels)`
    : `it needs about ${gigabytes(pixels * bytesPerPixel + gpuBytes)} of memory and ${
      gigabytes(available!)
    } is available`;
  const advice = fit.width * fit.height === 0
    ? "free some memory"
    : `the largest image that fits at this aspect is ${fit.width}x${fit.height}`;
  throw new ImageTooLargeError(`Cannot render ${width}x${height}: ${why}; ${advice}`, fit);
}

/** The largest image of `width`:`height`'s aspect (rounded down) within `limits`; 0x0 when none is. */
export function largestFit(
  width: number,
  height: number,
  limits: SizeLimits,
): { width: number; height: number } {
  const scale = Math.min(
    1,
    limits.maxWidth / width,
    Math.sqrt(Math.max(0, limits.maxPixels) / (width * height)),
  );
  const w = Math.min(Math.floor(width * scale), limits.maxWidth);
  let h = Math.floor(height * scale);
  if (w * h > limits.maxPixels) h = Math.floor(limits.maxPixels / w); // the square root's last bit
  return w > 0 && h > 0 ? { width: w, height: h } : { width: 0, height: 0 };
}

/** Memory the OS reports available, or undefined without permission to read it. */
function availableMemory(): number | undefined {
  try {
    return Deno.systemMemoryInfo().available;
  } catch {
    return undefined;
  }
}

function gigabytes(bytes: number): string {
  return `${(bytes / 1e9).toFixed(1)} GB`;
}
