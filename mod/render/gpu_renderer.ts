import { traceKernel } from "../../kernels/mod.ts";
import type { Gpu } from "../gpu/mod.ts";
import {
  MATERIAL_BASE_FLOATS,
  MATERIAL_FLOATS,
  type RenderData,
  TEXREF_FLOATS,
  TEXTURE_SLOTS,
} from "../render_data/mod.ts";
import { getLogger } from "@logtape/logtape";

const log = getLogger(["octane", "render"]);

/** Image-wide render settings that are not part of the scene. */
export interface RenderSettings {
  /** Image width in pixels. */
  width: number;
  /** Image height in pixels. */
  height: number;
  /** Seed of every random number, together with pixel and sample index. */
  seed: number;
  /** Longest path, in bounces. */
  maxDepth: number;
  /** "mis" (default): next-event estimation and BSDF sampling by MIS; "bsdf": BSDF sampling alone. */
  strategy?: "mis" | "bsdf";
}

/** A rectangle of the image, in pixels. */
export interface Region {
  /** Left column. */
  x: number;
  /** Top row. */
  y: number;
  /** Width. */
  width: number;
  /** Height. */
  height: number;
}

/** A range of sample indices: [start, start + count). */
export interface SampleRange {
  /** First sample index. */
  start: number;
  /** Number of samples per pixel. */
  count: number;
}

/** What one render call returns. */
export interface TileResult {
  /** Per-pixel radiance sums over the range, 3 floats (rgb) per pixel of the region, row-major. */
  sums: Float32Array;
  /** Rays traced (camera, bounce and shadow rays). */
  rays: number;
  /** Most loop iterations any one invocation ran in one dispatch (see {@linkcode SOFTWARE_LOOP_LIMIT}). */
  loopIterations: number;
  /** Samples dropped because they were not finite (degenerate geometry); 0 in a healthy scene. */
  droppedSamples: number;
  /** BVH traversals cut short at the node count: 0 unless the render data is not a tree. */
  cappedTraversals: number;
}

/**
 * llvmpipe (Mesa's software GPU, what CI renders on) silently ends every loop of a shader invocation after
 * this many loop iterations in total, counted over a SIMD group of invocations. On such an adapter each
 * dispatch runs one sample per pixel, and the renderer warns when an invocation came near the limit.
 */
export const SOFTWARE_LOOP_LIMIT = 65535;

/** Bounce at which Russian roulette starts. */
const RR_DEPTH = 3;
/** Path samples per dispatch: small enough that no dispatch runs for seconds on a slow GPU. */
const SAMPLES_PER_DISPATCH = 1 << 20;
/**
 * Milliseconds of dispatches a software adapter may run before the renderer lets the event loop turn: there
 * `queue.submit` runs the dispatch on this thread, so a unit of a second would otherwise stall the process's
 * networking (a master's uploads to joining slaves, heartbeats) for that second.
 */
const SOFTWARE_YIELD_MS = 20;
const PARAMS_BYTES = 176;

/**
 * Renders sample ranges of image regions on one GPU. Each call clears the region's accumulator, runs the
 * samples in as many dispatches as needed and reads the sums back once.
 */
export class GpuRenderer {
  #gpu: Gpu;
  #settings: RenderSettings;
  #data: RenderData;
  #pipeline: GPUComputePipeline;
  #bindGroup: GPUBindGroup;
  #params: GPUBuffer;
  #accum: GPUBuffer;
  #stats: GPUBuffer;
  #readback: GPUBuffer;
  #buffers: GPUBuffer[];
  #warnedLimit = false;
  #warnedCap = false;

  private constructor(gpu: Gpu, data: RenderData, settings: RenderSettings, pipeline: GPUComputePipeline) {
    this.#gpu = gpu;
    this.#settings = settings;
    this.#data = data;
    this.#pipeline = pipeline;
    const device = gpu.device;
    const storage = (label: string, bytes: ArrayBuffer | ArrayBufferView) => {
      const src = bytes instanceof ArrayBuffer
        ? new Uint8Array(bytes)
        : new Uint8Array(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength);
      const buffer = device.createBuffer({
        label,
        size: align4(Math.max(16, src.byteLength)),
        usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
      });
      device.queue.writeBuffer(buffer, 0, src);
      return buffer;
    };
    const pixels = settings.width * settings.height;
    this.#params = device.createBuffer({
      label: "render params",
      size: PARAMS_BYTES,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    const nodes = storage("BVH nodes", data.nodes);
    const tris = storage("triangles", data.triangles);
    const materials = storage("materials", data.materials);
    const lights = storage("lights", data.lights);
    const attributes = storage("triangle attributes", data.attributes);
    const texels = storage("texels", data.texels);
    this.#accum = device.createBuffer({
      label: "accumulation buffer",
      size: pixels * 16,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
    this.#stats = device.createBuffer({
      label: "ray counter",
      size: 16,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
    this.#readback = device.createBuffer({
      label: "readback buffer",
      size: pixels * 16 + 16,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    this.#buffers = [
      this.#params,
      nodes,
      tris,
      materials,
      lights,
      this.#accum,
      this.#stats,
      attributes,
      texels,
      this.#readback,
    ];
    this.#bindGroup = device.createBindGroup({
      label: "trace bind group",
      layout: pipeline.getBindGroupLayout(0),
      entries: [this.#params, nodes, tris, materials, lights, this.#accum, this.#stats, attributes, texels]
        .map((
          buffer,
          binding,
        ) => ({ binding, resource: { buffer } })),
    });
  }

  /**
   * Uploads render data and builds the tracing pipeline.
   * @throws {RangeError} when the image or the scene is larger than the GPU's limits
   */
  static async create(gpu: Gpu, data: RenderData, settings: RenderSettings): Promise<GpuRenderer> {
    const { width, height } = settings;
    const limit = gpu.device.limits.maxStorageBufferBindingSize;
    if (width * height * 16 > limit) {
      throw new RangeError(
        `Cannot render ${width}x${height}: the accumulator needs ${
          width * height * 16
        } bytes, the GPU binds at most ${limit}`,
      );
    }
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
    device.pushErrorScope("validation");
    const module = device.createShaderModule({ label: "trace kernel", code: traceKernel });
    const info = await module.getCompilationInfo();
    const errors = info.messages.filter((m) => m.type === "error");
    if (errors.length > 0) {
      throw new Error(
        `Cannot compile the trace kernel: ${errors.map((m) => `line ${m.lineNum}: ${m.message}`).join("; ")}`,
      );
    }
    const pipeline = await device.createComputePipelineAsync({
      label: "trace pipeline",
      layout: "auto",
      compute: {
        module,
        entryPoint: "main",
        constants: { HAS_TEXTURES: hasTextures(data) ? 1 : 0, HAS_ALPHA_MASK: hasAlphaMask(data) ? 1 : 0 },
      },
    });
    const renderer = new GpuRenderer(gpu, data, settings, pipeline);
    const error = await device.popErrorScope();
    if (error) {
      renderer.destroy();
      throw new Error(`Cannot set up the GPU renderer: ${error.message}`);
    }
    return renderer;
  }

  /** Bytes of GPU buffers this renderer holds. */
  get bufferBytes(): number {
    return this.#buffers.reduce((sum, b) => sum + b.size, 0);
  }

  /** The adapter this renderer runs on. */
  get gpu(): Gpu {
    return this.#gpu;
  }

  /**
   * Renders `range` samples of every pixel of `region` (the whole image by default).
   * @returns the per-pixel sums of those samples and the number of rays traced
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
    const device = this.#gpu.device;
    const pixels = region.width * region.height;
    device.pushErrorScope("validation");
    const first = device.createCommandEncoder({ label: "clear accumulator" });
    first.clearBuffer(this.#accum, 0, pixels * 16);
    first.clearBuffer(this.#stats);
    device.queue.submit([first.finish()]);

    const software = this.#gpu.summary.software;
    const perDispatch = software ? 1 : Math.max(1, Math.floor(SAMPLES_PER_DISPATCH / pixels));
    const params = new ArrayBuffer(PARAMS_BYTES);
    const u = new Uint32Array(params);
    const f = new Float32Array(params);
    f.set(this.#data.camera, 16);
    f[31] = width / height;
    u[15] = this.#settings.strategy === "bsdf" ? 1 : 0;
    // environment: colour + intensity, map layout, sampling (total weight, has map, NEE pick probability)
    const env = this.#data.environment;
    const envBits = new Uint32Array(env.buffer, env.byteOffset, env.length);
    const hasMap = envBits[9] !== 0;
    f.set(env.subarray(0, 4), 32);
    u.set(envBits.subarray(4, 8), 36);
    f.set([env[8]!, hasMap ? 1 : 0, hasMap ? (this.#data.stats.lights > 0 ? 0.5 : 1) : 0, 0], 40);
    u.set([
      width,
      height,
      region.x,
      region.y,
      region.width,
      region.height,
      0,
      0,
      this.#settings.seed >>> 0,
      this.#settings.maxDepth,
      RR_DEPTH,
      this.#data.stats.lights,
    ]);
    let turned = performance.now();
    for (let done = 0; done < range.count; done += perDispatch) {
      if (software && performance.now() - turned >= SOFTWARE_YIELD_MS) {
        await new Promise((resolve) => setTimeout(resolve, 0));
        turned = performance.now();
      }
      u[6] = range.start + done;
      u[7] = Math.min(perDispatch, range.count - done);
      device.queue.writeBuffer(this.#params, 0, params);
      const encoder = device.createCommandEncoder({ label: "trace samples" });
      const pass = encoder.beginComputePass({ label: "trace pass" });
      pass.setPipeline(this.#pipeline);
      pass.setBindGroup(0, this.#bindGroup);
      pass.dispatchWorkgroups(Math.ceil(region.width / 8), Math.ceil(region.height / 8));
      pass.end();
      device.queue.submit([encoder.finish()]);
    }
    const last = device.createCommandEncoder({ label: "read back" });
    last.copyBufferToBuffer(this.#accum, 0, this.#readback, 0, pixels * 16);
    last.copyBufferToBuffer(this.#stats, 0, this.#readback, pixels * 16, 16);
    device.queue.submit([last.finish()]);
    const error = await device.popErrorScope();
    if (error) throw new Error(`GPU render failed: ${error.message}`);
    await this.#readback.mapAsync(GPUMapMode.READ, 0, pixels * 16 + 16);
    const mapped = this.#readback.getMappedRange(0, pixels * 16 + 16);
    const acc = new Float32Array(mapped, 0, pixels * 4);
    const sums = new Float32Array(pixels * 3);
    for (let i = 0; i < pixels; i++) {
      sums[i * 3] = acc[i * 4]!;
      sums[i * 3 + 1] = acc[i * 4 + 1]!;
      sums[i * 3 + 2] = acc[i * 4 + 2]!;
    }
    const [rays, loopIterations, droppedSamples, cappedTraversals] = new Uint32Array(mapped, pixels * 16, 4);
    this.#readback.unmap();
    if (
      software && loopIterations! * simdLanes(this.#gpu.summary.name) >= SOFTWARE_LOOP_LIMIT &&
      !this.#warnedLimit
    ) {
      this.#warnedLimit = true;
      log.warn(
        "Paths may be cut short: an invocation ran {n} loop iterations and the software GPU stops loops after {limit} per SIMD group; lower --max-depth or use a hardware GPU",
        { n: loopIterations, limit: SOFTWARE_LOOP_LIMIT },
      );
    }
    if (droppedSamples! > 0) log.debug("Dropped {n} non-finite samples", { n: droppedSamples });
    if (cappedTraversals! > 0 && !this.#warnedCap) {
      this.#warnedCap = true;
      log.warn("{n} ray traversals stopped at the BVH's node count: the render data is not a tree", {
        n: cappedTraversals,
      });
    }
    return {
      sums,
      rays: rays!,
      loopIterations: loopIterations!,
      droppedSamples: droppedSamples!,
      cappedTraversals: cappedTraversals!,
    };
  }

  /** Frees the GPU buffers (the device stays open). */
  destroy(): void {
    for (const b of this.#buffers) b.destroy();
    this.#buffers = [];
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

/** True when some material uses a texture. */
function hasTextures(data: RenderData): boolean {
  const bits = new Uint32Array(data.materials.buffer, data.materials.byteOffset, data.materials.length);
  for (let m = 0; m < data.materials.length / MATERIAL_FLOATS; m++) {
    for (let slot = 0; slot < TEXTURE_SLOTS.length; slot++) {
      if (bits[m * MATERIAL_FLOATS + MATERIAL_BASE_FLOATS + slot * TEXREF_FLOATS + 3] !== 0) return true;
    }
  }
  return false;
}

/** True when some material is alpha-masked (its cutoff is not negative). */
function hasAlphaMask(data: RenderData): boolean {
  for (let m = 0; m < data.materials.length / MATERIAL_FLOATS; m++) {
    if (data.materials[m * MATERIAL_FLOATS + 12]! >= 0) return true;
  }
  return false;
}

/** SIMD width of a llvmpipe adapter from its description ("llvmpipe (LLVM 15.0.6, 256 bits)"): 32-bit lanes. */
function simdLanes(name: string): number {
  const bits = /(\d+) bits/.exec(name);
  return bits ? Math.max(1, Number(bits[1]) / 32) : 16;
}

function align4(n: number): number {
  return Math.ceil(n / 4) * 4;
}
