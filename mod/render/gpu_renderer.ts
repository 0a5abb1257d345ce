import type { Gpu } from "../gpu/mod.ts";
import {
  ACCUM_PIXEL,
  bindGroup,
  PARAMS,
  PUNCTUAL,
  PUNCTUAL_HEADER,
  type Resources,
  STATS,
  TRACE_WORKGROUP,
} from "../gpu_layout/mod.ts";
import { SHEEN_TABLE } from "../gpu_layout/sheen_table.ts";
import type { RenderData } from "../render_data/mod.ts";
import { getLogger } from "@logtape/logtape";
import { accumulatorPixelBytes, bandBytes, bandRows, maxImageWidth, rowBands } from "./limits.ts";
import { textureShift, traversalLayout, traversalTexture } from "./traversal.ts";
import { imageParams, setDispatch } from "./_params.ts";
import { tracePipeline } from "./_trace_pipeline.ts";
import { DispatchPlan, SOFTWARE_LOOP_LIMIT } from "./_dispatch_plan.ts";
import type { Region, RenderSettings, SampleRange, TileResult } from "./types.ts";

const log = getLogger(["octane", "render"]);

/** The buffers bound to the path tracer whatever the band: every binding of "trace" but the accumulator. */
type SceneBindings = Omit<Resources<"trace">, "accum">;

/**
 * Renders sample ranges of image regions on one GPU. A region larger than one storage binding holds (or
 * than 128 MiB: see {@linkcode bandBytes}) is rendered in bands of whole rows that do fit, one after
 * another; for each band the renderer clears the accumulator, runs the samples in as many dispatches as
 * needed and reads the sums back once.
 */
export class GpuRenderer {
  #gpu: Gpu;
  #settings: RenderSettings;
  /** The image's Params block; each dispatch writes its region and samples into it before uploading it. */
  #paramsBlock: ArrayBuffer;
  #pipeline: GPUComputePipeline;
  #layout: GPUBindGroupLayout;
  #params: GPUBuffer;
  #stats: GPUBuffer;
  /** What every band binds besides its accumulator. */
  #scene: SceneBindings;
  #accum?: GPUBuffer;
  #readback?: GPUBuffer;
  #bindGroup?: GPUBindGroup;
  /** Pixels the accumulator holds. */
  #capacity = 0;
  #buffers: GPUBuffer[];
  #warnedLimit = false;
  #warnedCap = false;
  /** Bytes a pixel of the accumulator: 16 (radiance), 48 with AOVs. */
  #pixelBytes: number;
  /** How a band's samples are split into dispatches. */
  #plan: DispatchPlan;
  /** The BVH and the triangles in the traversal layout. */
  #traversal?: GPUTexture;

  private constructor(
    gpu: Gpu,
    data: RenderData,
    settings: RenderSettings,
    pipeline: { pipeline: GPUComputePipeline; layout: GPUBindGroupLayout },
    traversal: GPUTexture,
  ) {
    this.#gpu = gpu;
    this.#settings = settings;
    this.#paramsBlock = imageParams(data, settings);
    this.#pipeline = pipeline.pipeline;
    this.#layout = pipeline.layout;
    this.#pixelBytes = accumulatorPixelBytes(settings.aovs === true);
    this.#plan = new DispatchPlan(gpu.summary.software);
    const device = gpu.device;
    const upload = (label: string, bytes: ArrayBuffer | ArrayBufferView, usage: number, least = 16) => {
      const src = bytes instanceof ArrayBuffer
        ? new Uint8Array(bytes)
        : new Uint8Array(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength);
      const buffer = device.createBuffer({
        label,
        size: align4(Math.max(least, src.byteLength)),
        usage: usage | GPUBufferUsage.COPY_DST,
      });
      // (Deno's writeBuffer panics on no bytes)
      if (src.byteLength > 0) device.queue.writeBuffer(buffer, 0, src);
      return buffer;
    };
    const storage = (label: string, bytes: ArrayBuffer | ArrayBufferView, least?: number) =>
      upload(label, bytes, GPUBufferUsage.STORAGE, least);
    this.#params = device.createBuffer({
      label: "render params",
      size: PARAMS.size,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    this.#stats = device.createBuffer({
      label: "ray counter",
      size: STATS.size,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
    this.#scene = {
      params: this.#params,
      punctual: storage("punctual lights", punctualRecords(data), PUNCTUAL.size),
      tris: storage("triangles", data.triangles),
      materials: storage("materials", data.materials),
      lights: storage("lights", data.lights),
      stats: this.#stats,
      attrs: storage("triangle attributes", data.attributes),
      texels: storage("texels", data.texels),
      scene_texels: traversal.createView(),
      sheen_table: upload("sheen table", SHEEN_TABLE, GPUBufferUsage.UNIFORM),
    };
    this.#buffers = Object.values(this.#scene).filter((r): r is GPUBuffer => r instanceof GPUBuffer);
    this.#traversal = traversal;
  }

  /**
   * Makes the accumulator and its readback buffer hold at least `pixels` pixels: they are sized by the
   * largest band rendered so far, so a node that renders bands of a huge image holds one band.
   */
  #reserve(pixels: number): void {
    if (pixels <= this.#capacity) return;
    const device = this.#gpu.device;
    this.#accum?.destroy();
    this.#readback?.destroy();
    this.#buffers = this.#buffers.filter((b) => b !== this.#accum && b !== this.#readback);
    this.#accum = device.createBuffer({
      label: "accumulation buffer",
      size: pixels * this.#pixelBytes,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
    this.#readback = device.createBuffer({
      label: "readback buffer",
      size: pixels * this.#pixelBytes + STATS.size,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    this.#buffers.push(this.#accum, this.#readback);
    this.#bindGroup = bindGroup(device, "trace", this.#layout, { ...this.#scene, accum: this.#accum });
    this.#capacity = pixels;
  }

  /**
   * Uploads render data and builds the tracing pipeline for the scene's recorded features.
   * @throws {RangeError} when a row of the image or a section of the scene is larger than one GPU binding
   */
  static async create(gpu: Gpu, data: RenderData, settings: RenderSettings): Promise<GpuRenderer> {
    const { width, height } = settings;
    const pixelBytes = accumulatorPixelBytes(settings.aovs === true);
    const widest = maxImageWidth(gpu, pixelBytes);
    if (width > widest) {
      throw new RangeError(
        `Cannot render ${width}x${height}: a row of the accumulator needs ${
          width * pixelBytes
        } bytes and the GPU binds at most ${bandBytes(gpu)}, so images are at most ${widest} pixels wide`,
      );
    }
    const limit = gpu.maxBindingBytes;
    const sections = [["triangles", data.triangles], ["BVH", data.nodes], [
      "triangle attributes",
      data.attributes,
    ], ["textures", data.texels]] as const;
    for (const [name, section] of sections) {
      if (section.byteLength > limit) {
        throw new RangeError(
          `Cannot render scene: its ${name} take ${section.byteLength} bytes, the GPU binds at most ${limit}`,
        );
      }
    }
    const device = gpu.device;
    const layout = traversalLayout(data);
    const rowShift = textureShift(layout.texels.length / 4, device.limits.maxTextureDimension2D);
    device.pushErrorScope("validation");
    const pipeline = await tracePipeline(device, {
      features: data.features,
      aovs: settings.aovs === true,
      rowShift,
    });
    const texture = traversalTexture(device, layout, rowShift).texture;
    const renderer = new GpuRenderer(gpu, data, settings, pipeline, texture);
    const error = await device.popErrorScope();
    if (error) {
      renderer.destroy();
      throw new Error(`Cannot set up the GPU renderer: ${error.message}`);
    }
    return renderer;
  }

  /** Bytes of GPU buffers and textures this renderer holds (the traversal texture: 16 bytes a texel). */
  get bufferBytes(): number {
    const t = this.#traversal;
    return this.#buffers.reduce((sum, b) => sum + b.size, 0) + (t ? t.width * t.height * 16 : 0);
  }

  /** The adapter this renderer runs on. */
  get gpu(): Gpu {
    return this.#gpu;
  }

  /**
   * Renders `range` samples of every pixel of `region` (the whole image by default).
   * @returns the per-pixel sums of those samples (and of their AOVs, when the settings ask) and the number
   * of rays traced
   */
  async render(
    range: SampleRange,
    region: Region = { x: 0, y: 0, width: this.#settings.width, height: this.#settings.height },
  ): Promise<TileResult> {
    const { width, height } = this.#settings;
    checkRegion(region, width, height);
    if (
      !Number.isInteger(range.start) || !Number.isInteger(range.count) || range.start < 0 ||
      range.count < 1 || range.start + range.count > 0xffffffff
    ) {
      throw new RangeError(
        `Cannot render samples [${range.start}, ${
          range.start + range.count
        }): not a range of 32-bit sample indices`,
      );
    }
    const sums = new Float32Array(region.width * region.height * 3);
    const aovs = this.#settings.aovs ? new Float32Array(region.width * region.height * 6) : undefined;
    const stats: BandStats = { rays: 0, loop_iterations: 0, dropped_samples: 0, capped_traversals: 0 };
    for (const band of rowBands(region, bandRows(this.#gpu, region.width, this.#pixelBytes))) {
      const b = await this.#renderBand(
        range,
        band,
        sums.subarray((band.y - region.y) * region.width * 3),
        aovs?.subarray((band.y - region.y) * region.width * 6),
      );
      stats.rays += b.rays;
      stats.loop_iterations = Math.max(stats.loop_iterations, b.loop_iterations);
      stats.dropped_samples += b.dropped_samples;
      stats.capped_traversals += b.capped_traversals;
    }
    const { rays, loop_iterations: loopIterations, dropped_samples: droppedSamples } = stats;
    const cappedTraversals = stats.capped_traversals;
    if (this.#plan.nearLimit(loopIterations) && !this.#warnedLimit) {
      this.#warnedLimit = true;
      log.warn(
        "Paths may be cut short: an invocation ran {n} loop iterations and the software GPU stops loops after {limit} per SIMD group; lower --max-depth or use a hardware GPU",
        { n: loopIterations, limit: SOFTWARE_LOOP_LIMIT },
      );
    }
    if (droppedSamples > 0) log.debug("Dropped {n} non-finite samples", { n: droppedSamples });
    if (cappedTraversals > 0 && !this.#warnedCap) {
      this.#warnedCap = true;
      log.warn("{n} ray traversals stopped at the BVH's node count: the render data is not a tree", {
        n: cappedTraversals,
      });
    }
    return {
      sums,
      ...(aovs ? { aovs } : {}),
      rays,
      loopIterations,
      droppedSamples,
      cappedTraversals,
    };
  }

  /**
   * Renders one band (one that fits the accumulator) in as many dispatches as its samples need, and reads
   * its sums back into `out` (rgb, row-major) and, with AOVs, theirs into `aovOut` (albedo rgb, normal xyz).
   * @returns the band's counters
   */
  async #renderBand(
    range: SampleRange,
    band: Region,
    out: Float32Array,
    aovOut?: Float32Array,
  ): Promise<BandStats> {
    const device = this.#gpu.device;
    const pixels = band.width * band.height;
    const bytes = pixels * this.#pixelBytes;
    device.pushErrorScope("validation");
    this.#reserve(pixels);
    const accum = this.#accum!, readback = this.#readback!;
    const first = device.createCommandEncoder({ label: "clear accumulator" });
    first.clearBuffer(accum, 0, bytes);
    first.clearBuffer(this.#stats);
    device.queue.submit([first.finish()]);
    const plan = this.#plan.for(band.width, band.height, range.count);
    for (let done = 0; done < range.count; done += plan.samples) {
      for (let row = 0; row < band.height; row += plan.rows) {
        await this.#plan.yieldNow();
        const rows = Math.min(plan.rows, band.height - row);
        setDispatch(this.#paramsBlock, {
          x: band.x,
          y: band.y + row,
          width: band.width,
          height: rows,
          sampleStart: range.start + done,
          sampleCount: Math.min(plan.samples, range.count - done),
          accumBase: row * band.width,
        });
        device.queue.writeBuffer(this.#params, 0, this.#paramsBlock);
        const encoder = device.createCommandEncoder({ label: "trace samples" });
        const pass = encoder.beginComputePass({ label: "trace pass" });
        pass.setPipeline(this.#pipeline);
        pass.setBindGroup(0, this.#bindGroup!);
        pass.dispatchWorkgroups(Math.ceil(band.width / TRACE_WORKGROUP), Math.ceil(rows / TRACE_WORKGROUP));
        pass.end();
        device.queue.submit([encoder.finish()]);
      }
    }
    const last = device.createCommandEncoder({ label: "read back" });
    last.copyBufferToBuffer(accum, 0, readback, 0, bytes);
    last.copyBufferToBuffer(this.#stats, 0, readback, bytes, STATS.size);
    device.queue.submit([last.finish()]);
    const error = await device.popErrorScope();
    if (error) throw new Error(`GPU render failed: ${error.message}`);
    await readback.mapAsync(GPUMapMode.READ, 0, bytes + STATS.size);
    try {
      const mapped = readback.getMappedRange(0, bytes + STATS.size);
      readAccumulator(new Float32Array(mapped, 0, bytes / 4), out, aovOut);
      const stats = STATS.readAt(mapped, bytes);
      this.#plan.adapt(stats.loop_iterations, plan.samples);
      return stats;
    } finally {
      readback.unmap();
    }
  }

  /** Frees the GPU buffers (the device stays open). */
  destroy(): void {
    for (const b of this.#buffers) b.destroy();
    this.#buffers = [];
    this.#traversal?.destroy();
    this.#traversal = undefined;
  }
}

/** What a band's dispatches counted (the Stats record). */
type BandStats = {
  rays: number;
  loop_iterations: number;
  dropped_samples: number;
  capped_traversals: number;
};

/**
 * Copies a band's accumulator (ACCUM_PIXEL records: one a pixel, three with AOVs: radiance, albedo, normal)
 * into its radiance sums `out` (rgb a pixel) and AOV sums `aovOut` (albedo rgb, normal xyz a pixel).
 */
function readAccumulator(acc: Float32Array, out: Float32Array, aovOut?: Float32Array): void {
  const P = ACCUM_PIXEL.words, S = ACCUM_PIXEL.word.sum;
  const stride = aovOut ? 3 * P : P;
  const pixels = acc.length / stride;
  for (let i = 0; i < pixels; i++) {
    const at = i * stride + S;
    for (let c = 0; c < 3; c++) out[i * 3 + c] = acc[at + c]!;
    if (!aovOut) continue;
    for (let c = 0; c < 3; c++) {
      aovOut[i * 6 + c] = acc[at + P + c]!;
      aovOut[i * 6 + 3 + c] = acc[at + 2 * P + c]!;
    }
  }
}

function checkRegion(r: Region, width: number, height: number): void {
  const ok = [r.x, r.y, r.width, r.height].every(Number.isInteger) && r.x >= 0 && r.y >= 0 && r.width >= 1 &&
    r.height >= 1 &&
    r.x + r.width <= width && r.y + r.height <= height;
  if (!ok) {
    throw new RangeError(
      `Cannot render region ${JSON.stringify(r)}: it is not inside the ${width}x${height} image`,
    );
  }
}

/** The punctual section's light records without its header, for the punctual binding (none: no bytes). */
function punctualRecords(data: RenderData): Uint8Array {
  const p = data.punctual;
  if (!p) return new Uint8Array(0);
  return new Uint8Array(p.buffer, p.byteOffset + PUNCTUAL_HEADER.size, p.byteLength - PUNCTUAL_HEADER.size);
}

function align4(n: number): number {
  return Math.ceil(n / 4) * 4;
}
