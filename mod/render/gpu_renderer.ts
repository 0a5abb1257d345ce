import { layeredTraceKernel, traceKernel } from "../../kernels/mod.ts";
import type { Gpu } from "../gpu/mod.ts";
import {
  MATERIAL_BASE_FLOATS,
  MATERIAL_EXT_OFFSET,
  MATERIAL_FLOATS,
  PUNCTUAL_FLOATS,
  type RenderData,
  TEXREF_FLOATS,
  TEXTURE_SLOTS,
} from "../render_data/mod.ts";
import { getLogger } from "@logtape/logtape";
import { accumulatorPixelBytes, bandBytes, bandRows, maxImageWidth, rowBands } from "./limits.ts";
import { textureShift, type TraversalLayout, traversalLayout, traversalTexture } from "./traversal.ts";

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
  /**
   * Also accumulate each sample's first-hit albedo and shading normal (AOVs for a denoiser; see
   * {@linkcode TileResult.aovs}). The radiance is the same either way.
   */
  aovs?: boolean;
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
  /**
   * With {@linkcode RenderSettings.aovs}: per-pixel sums of the AOVs over the range, 6 floats per pixel of
   * the region (albedo rgb, then the world-space shading normal xyz), row-major. Each sample adds the albedo
   * and normal of the first surface along its path that is not a perfect mirror or smooth glass (roughness
   * below 0.01 and a mirror or refraction sampled there); a path that leaves the scene first adds the
   * environment's radiance clamped to [0, 1] and a zero normal.
   */
  aovs?: Float32Array;
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
 * this many loop iterations in total, counted over a SIMD group of invocations. On such an adapter the
 * renderer sizes the samples of one dispatch by the iterations it measures (see #adaptSoftwareSamples), and
 * warns when an invocation came near the limit.
 */
export const SOFTWARE_LOOP_LIMIT = 65535;
/**
 * How many times its longest invocation's loop iterations a SIMD group counts, at most, as measured: the
 * group runs a loop until its last lane leaves it, so its count exceeds any one lane's. On llvmpipe 22.3
 * (8 lanes) a dispatch whose longest invocation ran 26,011 iterations rendered the same image as one sample
 * per dispatch, and one whose longest ran 59,569 lost samples, so the factor is below 2.5.
 */
const SOFTWARE_GROUP_FACTOR = 2.5;

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
/** Most samples per pixel of one dispatch on a software adapter. */
const SOFTWARE_MAX_SAMPLES = 32;
const PARAMS_BYTES = 192;
/** Word of the render params that holds the first accumulator pixel of a dispatch's rows. */
const ACCUM_BASE_WORD = 44;
/** Binding of the accumulator (see kernels/mod.ts). */
const ACCUM_BINDING = 5;
/** Bindings of the buffers, in order (the BVH is read through a texture: binding 9). */
const BUFFER_BINDINGS = [0, 2, 3, 4, 5, 6, 7, 8];

/**
 * Renders sample ranges of image regions on one GPU. A region larger than one storage binding holds (or
 * than 128 MiB: see {@linkcode bandBytes}) is rendered in bands of whole rows that do fit, one after
 * another; for each band the renderer clears the accumulator, runs the samples in as many dispatches as
 * needed and reads the sums back once.
 */
export class GpuRenderer {
  #gpu: Gpu;
  #settings: RenderSettings;
  #data: RenderData;
  #pipeline: GPUComputePipeline;
  #params: GPUBuffer;
  #stats: GPUBuffer;
  /** Buffers of bindings 0 to 8 but the accumulator's, in binding order. */
  #bindings: GPUBuffer[];
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
  /** Samples per pixel of one dispatch on a software adapter (see #adaptSoftwareSamples). */
  #softwareSamples = 1;
  /** The BVH and the triangles in the traversal layout (binding 9). */
  #traversal?: GPUTexture;

  private constructor(
    gpu: Gpu,
    data: RenderData,
    settings: RenderSettings,
    pipeline: GPUComputePipeline,
    traversal: { layout: TraversalLayout; shift: number },
  ) {
    this.#gpu = gpu;
    this.#settings = settings;
    this.#data = data;
    this.#pipeline = pipeline;
    this.#pixelBytes = accumulatorPixelBytes(settings.aovs === true);
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
    this.#params = device.createBuffer({
      label: "render params",
      size: PARAMS_BYTES,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    const tris = storage("triangles", data.triangles);
    const materials = storage("materials", data.materials);
    const lights = storage("lights", lightsBuffer(data));
    const attributes = storage("triangle attributes", data.attributes);
    const texels = storage("texels", data.texels);
    this.#stats = device.createBuffer({
      label: "ray counter",
      size: 16,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
    this.#bindings = [this.#params, tris, materials, lights, this.#stats, attributes, texels];
    this.#buffers = [...this.#bindings];
    this.#traversal = traversalTexture(device, traversal.layout, traversal.shift).texture;
  }

  /**
   * Makes the accumulator (binding 5) and its readback buffer hold at least `pixels` pixels: they are sized
   * by the largest band rendered so far, so a node that renders bands of a huge image holds one band.
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
      size: pixels * this.#pixelBytes + 16,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    this.#buffers.push(this.#accum, this.#readback);
    this.#bindGroup = device.createBindGroup({
      label: "trace bind group",
      layout: this.#pipeline.getBindGroupLayout(0),
      entries: [
        ...this.#bindings.toSpliced(ACCUM_BINDING - 1, 0, this.#accum)
          .map((buffer, i): GPUBindGroupEntry => ({ binding: BUFFER_BINDINGS[i]!, resource: { buffer } })),
        { binding: 9, resource: this.#traversal!.createView() },
      ],
    });
    this.#capacity = pixels;
  }

  /**
   * Uploads render data and builds the tracing pipeline.
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
    const shift = textureShift(layout.texels.length / 4, device.limits.maxTextureDimension2D);
    device.pushErrorScope("validation");
    const features = materialFeatures(data);
    const module = device.createShaderModule({
      label: "trace kernel",
      code: features.layers ? layeredTraceKernel : traceKernel,
    });
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
        constants: {
          HAS_TEXTURES: hasTextures(data) ? 1 : 0,
          HAS_ALPHA_MASK: hasAlphaMask(data) ? 1 : 0,
          HAS_UV1: readsUvSet1(data) ? 1 : 0,
          HAS_VOLUME: features.volume ? 1 : 0,
          AOVS: settings.aovs ? 1 : 0,
          HAS_ENV_MAP: hasEnvironmentMap(data) ? 1 : 0,
          HAS_PUNCTUAL: data.punctual ? 1 : 0,
          HAS_TRI_LIGHTS: data.stats.lights > 0 ? 1 : 0,
          HAS_SPECULAR: features.specular ? 1 : 0,
          HAS_METAL: features.metal ? 1 : 0,
          HAS_GLOSSY: features.specular || features.metal ? 1 : 0,
          HAS_TRANSMISSION: features.transmission ? 1 : 0,
          TEXEL_ROW_SHIFT: shift,
        },
      },
    });
    const renderer = new GpuRenderer(gpu, data, settings, pipeline, { layout, shift });
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
    const params = this.#paramsBytes();
    const sums = new Float32Array(region.width * region.height * 3);
    const aovs = this.#settings.aovs ? new Float32Array(region.width * region.height * 6) : undefined;
    const stats = new Uint32Array(4);
    for (const band of rowBands(region, bandRows(this.#gpu, region.width, this.#pixelBytes))) {
      const bandStats = await this.#renderBand(
        range,
        band,
        params,
        sums.subarray((band.y - region.y) * region.width * 3),
        aovs?.subarray((band.y - region.y) * region.width * 6),
      );
      stats[0]! += bandStats[0]!;
      stats[1] = Math.max(stats[1]!, bandStats[1]!);
      stats[2]! += bandStats[2]!;
      stats[3]! += bandStats[3]!;
    }
    const [rays, loopIterations, droppedSamples, cappedTraversals] = stats;
    if (
      this.#gpu.summary.software &&
      loopIterations! * SOFTWARE_GROUP_FACTOR >= SOFTWARE_LOOP_LIMIT &&
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
      ...(aovs ? { aovs } : {}),
      rays: rays!,
      loopIterations: loopIterations!,
      droppedSamples: droppedSamples!,
      cappedTraversals: cappedTraversals!,
    };
  }

  /** The render params of this image, with the region and sample fields left for each dispatch. */
  #paramsBytes(): ArrayBuffer {
    const { width, height } = this.#settings;
    const params = new ArrayBuffer(PARAMS_BYTES);
    const u = new Uint32Array(params);
    const f = new Float32Array(params);
    f.set(this.#data.camera, 16);
    f[31] = width / height;
    u[15] = this.#settings.strategy === "bsdf" ? 1 : 0;
    // environment: colour + intensity, map layout, sampling (total weight, has map, NEE pick probability)
    const env = this.#data.environment;
    const envBits = new Uint32Array(env.buffer, env.byteOffset, env.length);
    const hasMap = hasEnvironmentMap(this.#data);
    f.set(env.subarray(0, 4), 32);
    u.set(envBits.subarray(4, 8), 36);
    f.set([env[8]!, hasMap ? 1 : 0, hasMap ? (this.#data.stats.lights > 0 ? 0.5 : 1) : 0, 0], 40);
    u.set([width, height, 0, 0, 0, 0, 0, 0, this.#settings.seed >>> 0, this.#settings.maxDepth, RR_DEPTH]);
    u[11] = this.#data.stats.lights;
    // punctual lights: count, first record (in 8-byte entries of the lights buffer), and the share of the
    // non-environment picks that go to emissive triangles; with them the environment's share is by power
    const punctual = this.#data.punctual;
    if (punctual) {
      const count = new Uint32Array(punctual.buffer, punctual.byteOffset, 1)[0]!;
      const [pEnv, pTri] = [punctual[1]!, punctual[2]!];
      u.set([count, this.#data.lights.byteLength / 8], 12);
      f[14] = pEnv < 1 ? Math.min(1, pTri / (1 - pEnv)) : 0;
      // the loader refuses an environment share without a map; a second guard, as the GPU would search it
      f[42] = hasMap ? pEnv : 0;
    } else {
      f[14] = 1;
    }
    return params;
  }

  /**
   * Renders one band (one that fits the accumulator) in as many dispatches as its samples need, and reads
   * its sums back into `out` (rgb, row-major) and, with AOVs, theirs into `aovOut` (albedo rgb, normal xyz).
   * @returns the band's stats: rays, most loop iterations, dropped samples, capped traversals
   */
  async #renderBand(
    range: SampleRange,
    band: Region,
    params: ArrayBuffer,
    out: Float32Array,
    aovOut?: Float32Array,
  ): Promise<Uint32Array> {
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
    const software = this.#gpu.summary.software;
    const perDispatch = software
      ? Math.min(this.#softwareSamples, range.count)
      : Math.max(1, Math.floor(SAMPLES_PER_DISPATCH / pixels));
    // on a software adapter a dispatch of k samples covers about 1/k of the band's rows, so that it takes
    // about as long as one sample of the whole band (the event loop turns between dispatches)
    // (whole workgroups of 8 rows: a share that ended mid-workgroup would leave its lanes idle)
    const rowsPerDispatch = software ? Math.ceil(band.height / perDispatch / 8) * 8 : band.height;
    const u = new Uint32Array(params);
    let turned = performance.now();
    for (let done = 0; done < range.count; done += perDispatch) {
      for (let row = 0; row < band.height; row += rowsPerDispatch) {
        if (software && performance.now() - turned >= SOFTWARE_YIELD_MS) {
          await new Promise((resolve) => setTimeout(resolve, 0));
          turned = performance.now();
        }
        const rows = Math.min(rowsPerDispatch, band.height - row);
        u.set([band.x, band.y + row, band.width, rows], 2);
        u[6] = range.start + done;
        u[7] = Math.min(perDispatch, range.count - done);
        u[ACCUM_BASE_WORD] = row * band.width;
        device.queue.writeBuffer(this.#params, 0, params);
        const encoder = device.createCommandEncoder({ label: "trace samples" });
        const pass = encoder.beginComputePass({ label: "trace pass" });
        pass.setPipeline(this.#pipeline);
        pass.setBindGroup(0, this.#bindGroup!);
        pass.dispatchWorkgroups(Math.ceil(band.width / 8), Math.ceil(rows / 8));
        pass.end();
        device.queue.submit([encoder.finish()]);
      }
    }
    const last = device.createCommandEncoder({ label: "read back" });
    last.copyBufferToBuffer(accum, 0, readback, 0, bytes);
    last.copyBufferToBuffer(this.#stats, 0, readback, bytes, 16);
    device.queue.submit([last.finish()]);
    const error = await device.popErrorScope();
    if (error) throw new Error(`GPU render failed: ${error.message}`);
    await readback.mapAsync(GPUMapMode.READ, 0, bytes + 16);
    try {
      const mapped = readback.getMappedRange(0, bytes + 16);
      if (aovOut) {
        // three vec4f a pixel: radiance, albedo, normal
        const acc = new Float32Array(mapped, 0, pixels * 12);
        for (let i = 0; i < pixels; i++) {
          for (let c = 0; c < 3; c++) {
            out[i * 3 + c] = acc[i * 12 + c]!;
            aovOut[i * 6 + c] = acc[i * 12 + 4 + c]!;
            aovOut[i * 6 + 3 + c] = acc[i * 12 + 8 + c]!;
          }
        }
      } else {
        const acc = new Float32Array(mapped, 0, pixels * 4);
        for (let i = 0; i < pixels; i++) {
          out[i * 3] = acc[i * 4]!;
          out[i * 3 + 1] = acc[i * 4 + 1]!;
          out[i * 3 + 2] = acc[i * 4 + 2]!;
        }
      }
      const stats = new Uint32Array(mapped.slice(bytes, bytes + 16));
      if (software) this.#adaptSoftwareSamples(stats[1]!, Math.min(perDispatch, range.count));
      return stats;
    } finally {
      readback.unmap();
    }
  }

  /**
   * Sets the samples per pixel of a software adapter's dispatches from the most loop iterations an
   * invocation ran in the last band with `samples` per dispatch: as many as keep that count, times
   * {@linkcode SOFTWARE_GROUP_FACTOR}, under half of llvmpipe's loop limit, from 1 to
   * {@linkcode SOFTWARE_MAX_SAMPLES}. More samples per dispatch let the kernel's path regeneration keep a SIMD
   * group's lanes busy. The count grows less than linearly with the samples (the longest paths do not line
   * up), so the estimate from fewer samples errs on the safe side.
   */
  #adaptSoftwareSamples(loopIterations: number, samples: number): void {
    const perSample = Math.max(1, loopIterations / samples) * SOFTWARE_GROUP_FACTOR;
    this.#softwareSamples = Math.max(
      1,
      Math.min(SOFTWARE_MAX_SAMPLES, Math.floor(SOFTWARE_LOOP_LIMIT / 2 / perSample)),
    );
  }

  /** Frees the GPU buffers (the device stays open). */
  destroy(): void {
    for (const b of this.#buffers) b.destroy();
    this.#buffers = [];
    this.#traversal?.destroy();
    this.#traversal = undefined;
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

/** True when some material's texture reads texture coordinate set 1 (its reference's fourth UV word is 1). */
function readsUvSet1(data: RenderData): boolean {
  const bits = new Uint32Array(data.materials.buffer, data.materials.byteOffset, data.materials.length);
  for (let m = 0; m < data.materials.length / MATERIAL_FLOATS; m++) {
    for (let slot = 0; slot < TEXTURE_SLOTS.length; slot++) {
      const at = m * MATERIAL_FLOATS + MATERIAL_BASE_FLOATS + slot * TEXREF_FLOATS;
      if (bits[at + 3] !== 0 && data.materials[at + 7] === 1) return true;
    }
  }
  return false;
}

/** True when the environment has a map (word 9 of its block, "has map", is not 0). */
function hasEnvironmentMap(data: RenderData): boolean {
  return new Uint32Array(data.environment.buffer, data.environment.byteOffset, 16)[9] !== 0;
}

/** True when some material is alpha-masked (its cutoff is not negative). */
function hasAlphaMask(data: RenderData): boolean {
  for (let m = 0; m < data.materials.length / MATERIAL_FLOATS; m++) {
    if (data.materials[m * MATERIAL_FLOATS + 12]! >= 0) return true;
  }
  return false;
}

/**
 * Which material extensions the scene uses: layers where some material has a clear coat or a sheen (the
 * layered kernel), volume where some material absorbs inside its volume (HAS_VOLUME). Scenes without them
 * compile without their code, and render exactly as before the extensions were added.
 */
function materialFeatures(
  data: RenderData,
): { layers: boolean; volume: boolean; specular: boolean; metal: boolean; transmission: boolean } {
  let layers = false, volume = false, specular = false, metal = false, transmission = false;
  for (let m = 0; m < data.materials.length / MATERIAL_FLOATS; m++) {
    const b = data.materials.subarray(m * MATERIAL_FLOATS);
    if (b[7]! > 0) metal = true;
    if (b[10]! > 0) transmission = true;
    if (b[11]! > 0) specular = true;
    const e = data.materials.subarray(m * MATERIAL_FLOATS + MATERIAL_EXT_OFFSET);
    if (e[0]! > 0 || e[4]! > 0 || e[5]! > 0 || e[6]! > 0) layers = true;
    if (e[8]! > 0 || e[9]! > 0 || e[10]! > 0) volume = true;
  }
  return { layers, volume, specular, metal, transmission };
}

/** The lights buffer: the emissive triangles' entries, then the punctual lights' records (no header). */
function lightsBuffer(data: RenderData): Uint8Array {
  const tri = new Uint8Array(data.lights);
  const punctual = data.punctual;
  if (!punctual) return tri;
  const records = new Uint8Array(
    punctual.buffer,
    punctual.byteOffset + PUNCTUAL_FLOATS * 4,
    punctual.byteLength - PUNCTUAL_FLOATS * 4,
  );
  const out = new Uint8Array(tri.length + records.length);
  out.set(tri);
  out.set(records, tri.length);
  return out;
}

function align4(n: number): number {
  return Math.ceil(n / 4) * 4;
}
