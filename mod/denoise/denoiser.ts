// @ts-types="./_oidn.d.ts"
import { detectUNetModelSpec, NativeUNetExecutor, parseTZA, validateUNetModel } from "oidn-web";
import type { Gpu } from "../gpu/mod.ts";
import { loadWeights, type WeightsName, type WeightsPlace, weightsPlace } from "./weights.ts";

/** How to open a denoiser. */
export interface DenoiserOptions {
  /** Use first-hit albedo and normal (weights `rt_hdr_alb_nrm`); else colour alone (`rt_hdr`). */
  aux?: boolean;
  /** Where the weights are; default {@linkcode weightsPlace}. */
  place?: WeightsPlace;
}

/** An image to denoise: linear radiance (the mean per pixel), RGB interleaved, rows top to bottom. */
export interface DenoiseInput {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** Linear HDR colour, 3 floats a pixel. */
  color: Float32Array;
  /** First-hit albedo in [0, 1], 3 floats a pixel (with `normal`; needs a denoiser opened with `aux`). */
  albedo?: Float32Array;
  /** First-hit shading normal in [-1, 1], 3 floats a pixel (with `albedo`). */
  normal?: Float32Array;
}

/** A denoised image and what it took. */
export interface DenoiseResult {
  /** Denoised linear radiance, 3 floats a pixel. */
  image: Float32Array;
  /** Wall time of the denoise in milliseconds (input transfer, network, read-back). */
  ms: number;
  /** The adapter it ran on. */
  adapter: string;
  /** The weights used. */
  weights: WeightsName;
}

/** OIDN's tile alignment: the U-Net pools four times. */
const ALIGN = 16;
/** The largest tile side (input, with overlap) run at once; larger images go in overlapping tiles. */
const MAX_TILE = 768;

/** The OIDN U-Net on a node's WebGPU device, through oidn-web's WGSL executor. */
export class Denoiser {
  /** The weights loaded. */
  readonly weights: WeightsName;
  /** The file they came from. */
  readonly weightsPath: string;
  /** The adapter's name. */
  readonly adapter: string;
  #executor: NativeUNetExecutor;
  #overlap: number;
  #queue: Promise<unknown> = Promise.resolve();

  /** Use {@linkcode openDenoiser}. */
  constructor(
    executor: NativeUNetExecutor,
    info: { weights: WeightsName; weightsPath: string; adapter: string; receptiveField: number },
  ) {
    this.#executor = executor;
    this.weights = info.weights;
    this.weightsPath = info.weightsPath;
    this.adapter = info.adapter;
    this.#overlap = Math.ceil(info.receptiveField / 2 / ALIGN) * ALIGN;
  }

  /** True when this denoiser takes albedo and normal too. */
  get aux(): boolean {
    return this.weights === "rt_hdr_alb_nrm";
  }

  /**
   * Denoises one image (calls run one at a time).
   * @throws {RangeError} when the arrays do not match the size, or albedo/normal do not match the weights
   */
  denoise(input: DenoiseInput): Promise<DenoiseResult> {
    const run = this.#queue.then(() => this.#denoise(input));
    this.#queue = run.catch(() => {});
    return run;
  }

  async #denoise(input: DenoiseInput): Promise<DenoiseResult> {
    const start = performance.now();
    const { width, height, color } = input;
    const pixels = width * height;
    if (color.length !== pixels * 3) {
      throw new RangeError(`Cannot denoise: ${color.length} colour values for ${width}x${height} pixels`);
    }
    const aux = input.albedo !== undefined || input.normal !== undefined;
    if (aux !== this.aux) {
      throw new RangeError(
        `Cannot denoise: the weights "${this.weights}" take ${
          this.aux ? "colour, albedo and normal" : "colour alone"
        }`,
      );
    }
    if (aux && (input.albedo?.length !== pixels * 3 || input.normal?.length !== pixels * 3)) {
      throw new RangeError(
        `Cannot denoise: albedo and normal need 3 values for each of ${width}x${height} pixels`,
      );
    }
    const scale = autoexposure(color, width, height);
    const channels = aux ? 9 : 3;
    const tensor = new Float32Array(pixels * channels);
    for (let p = 0; p < pixels; p++) {
      for (let c = 0; c < 3; c++) {
        const v = color[p * 3 + c]!;
        tensor[p * channels + c] = puForward((Number.isFinite(v) && v > 0 ? v : 0) * scale) * NORM_SCALE;
        if (aux) {
          tensor[p * channels + 3 + c] = clampFinite(input.albedo![p * 3 + c]!, 0, 1);
          // as OIDN's input process: the normal clamped to [-1, 1], then mapped to [0, 1]
          tensor[p * channels + 6 + c] = clampFinite(input.normal![p * 3 + c]!, -1, 1) * 0.5 + 0.5;
        }
      }
    }
    const out = new Float32Array(pixels * 3);
    for (const tile of tiles(width, height, this.#overlap)) {
      const result = await this.#executor.executeCPU(
        cut(tensor, width, height, channels, tile),
        tile.w,
        tile.h,
      );
      for (let y = tile.coreY; y < tile.coreY + tile.coreH; y++) {
        for (let x = tile.coreX; x < tile.coreX + tile.coreW; x++) {
          const from = ((y - tile.y) * tile.w + (x - tile.x)) * 3;
          const to = (y * width + x) * 3;
          for (let c = 0; c < 3; c++) {
            out[to + c] = Math.max(0, puInverse(Math.max(0, result[from + c]!) * RCP_NORM_SCALE) / scale);
          }
        }
      }
    }
    return { image: out, ms: performance.now() - start, adapter: this.adapter, weights: this.weights };
  }

  /** Frees the GPU buffers of the network, after the denoise in progress (if any). */
  async close(): Promise<void> {
    await this.#queue;
    this.#executor.dispose();
  }
}

/**
 * Loads and checks the weights and prepares the U-Net on the node's GPU (FP32 unless the device has
 * `shader-f16`).
 * @throws {DenoiseWeightsError} when the weights are missing or corrupt
 */
export async function openDenoiser(gpu: Gpu, options: DenoiserOptions = {}): Promise<Denoiser> {
  const name: WeightsName = options.aux ? "rt_hdr_alb_nrm" : "rt_hdr";
  const weights = await loadWeights(name, options.place ?? weightsPlace());
  const tensors = parseTZA(weights.bytes.buffer);
  const spec = detectUNetModelSpec(tensors);
  const model = validateUNetModel(tensors, spec);
  const executor = new NativeUNetExecutor(gpu.device, model, { precision: "auto" });
  await executor.prepare();
  return new Denoiser(executor, {
    weights: name,
    weightsPath: weights.path,
    adapter: gpu.summary.name,
    receptiveField: spec.receptiveField,
  });
}

/** Opens a denoiser for this image (albedo and normal given or not), denoises it and closes it. */
export async function denoise(gpu: Gpu, input: DenoiseInput): Promise<DenoiseResult> {
  const denoiser = await openDenoiser(gpu, { aux: input.albedo !== undefined || input.normal !== undefined });
  try {
    return await denoiser.denoise(input);
  } finally {
    await denoiser.close();
  }
}

function clampFinite(v: number, lo: number, hi: number): number {
  return Number.isFinite(v) ? Math.min(hi, Math.max(lo, v)) : 0;
}

/**
 * OIDN's autoexposure (core/autoexposure): the image in bins of at most 16x16 pixels, the mean luminance
 * of each, and key 0.18 over 2 to the mean log2 of the bins brighter than 1e-8.
 */
export function autoexposure(color: Float32Array, width: number, height: number): number {
  const bin = 16;
  const binsX = Math.ceil(width / bin);
  const binsY = Math.ceil(height / bin);
  let sum = 0;
  let count = 0;
  for (let by = 0; by < binsY; by++) {
    const y0 = Math.floor(by * height / binsY);
    const y1 = Math.floor((by + 1) * height / binsY);
    for (let bx = 0; bx < binsX; bx++) {
      const x0 = Math.floor(bx * width / binsX);
      const x1 = Math.floor((bx + 1) * width / binsX);
      let l = 0;
      for (let y = y0; y < y1; y++) {
        for (let x = x0; x < x1; x++) {
          const i = (y * width + x) * 3;
          l += 0.212671 * pos(color[i]!) + 0.71516 * pos(color[i + 1]!) + 0.072169 * pos(color[i + 2]!);
        }
      }
      l /= (y1 - y0) * (x1 - x0);
      if (l > 1e-8) {
        sum += Math.log2(l);
        count++;
      }
    }
  }
  return count > 0 ? 0.18 / Math.pow(2, sum / count) : 1;
}

function pos(v: number): number {
  return Number.isFinite(v) && v > 0 ? v : 0;
}

// OIDN's perceptually uniform (PU) transfer function for HDR input (core/color.h), normalised so that the
// largest half float maps to 1.
const PU = {
  a: 1.41283765e3,
  b: 1.64593172,
  c: 4.31384981e-1,
  d: -2.94139609e-3,
  e: 1.92653254e-1,
  f: 6.26026094e-3,
  g: 9.98620152e-1,
  y0: 1.5794576e-6,
  y1: 3.22087631e-2,
  x0: 2.23151711e-3,
  x1: 3.70974749e-1,
};

function puForward(y: number): number {
  if (y <= PU.y0) return PU.a * y;
  if (y <= PU.y1) return PU.b * Math.pow(y, PU.c) + PU.d;
  return PU.e * Math.log(y + PU.f) + PU.g;
}

function puInverse(x: number): number {
  if (x <= PU.x0) return x / PU.a;
  if (x <= PU.x1) return Math.pow((x - PU.d) / PU.b, 1 / PU.c);
  return Math.exp((x - PU.g) / PU.e) - PU.f;
}

const RCP_NORM_SCALE = puForward(65504);
const NORM_SCALE = 1 / RCP_NORM_SCALE;

/** A tile: the input region (aligned size, may reach past the image: zeros there) and the core it writes. */
interface Tile {
  x: number;
  y: number;
  w: number;
  h: number;
  coreX: number;
  coreY: number;
  coreW: number;
  coreH: number;
}

/** Splits the image into tiles of at most MAX_TILE with `overlap` pixels of context around each core. */
function tiles(width: number, height: number, overlap: number): Tile[] {
  const axis = (size: number) => {
    const whole = Math.ceil(size / ALIGN) * ALIGN;
    if (whole <= MAX_TILE) return [{ at: 0, len: whole, core: 0, coreLen: size }];
    const core = MAX_TILE - 2 * overlap;
    const spans = [];
    for (let c = 0; c < size; c += core) {
      const coreLen = Math.min(core, size - c);
      const at = Math.max(0, c - overlap);
      const end = Math.min(size, c + coreLen + overlap);
      spans.push({ at, len: Math.ceil((end - at) / ALIGN) * ALIGN, core: c, coreLen });
    }
    return spans;
  };
  const out: Tile[] = [];
  for (const ys of axis(height)) {
    for (const xs of axis(width)) {
      out.push({
        x: xs.at,
        y: ys.at,
        w: xs.len,
        h: ys.len,
        coreX: xs.core,
        coreY: ys.core,
        coreW: xs.coreLen,
        coreH: ys.coreLen,
      });
    }
  }
  return out;
}

/** The tile's input channels, zero outside the image. */
function cut(
  tensor: Float32Array,
  width: number,
  height: number,
  channels: number,
  tile: Tile,
): Float32Array {
  const out = new Float32Array(tile.w * tile.h * channels);
  const rowLen = Math.min(tile.w, width - tile.x) * channels;
  for (let y = 0; y < Math.min(tile.h, height - tile.y); y++) {
    const from = ((tile.y + y) * width + tile.x) * channels;
    out.set(tensor.subarray(from, from + rowLen), y * tile.w * channels);
  }
  return out;
}
