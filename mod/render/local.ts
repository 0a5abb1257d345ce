import type { AdapterSummary, Gpu } from "../gpu/mod.ts";
import type { RenderData } from "../render_data/mod.ts";
import { GpuRenderer } from "./gpu_renderer.ts";
import type { RenderSettings } from "./types.ts";

/** Progress of a render, reported after every batch. */
export interface RenderProgress {
  /** Samples per pixel finished. */
  samplesDone: number;
  /** Samples per pixel asked for. */
  samplesTarget: number;
  /** Milliseconds since the render started (set-up excluded). */
  elapsedMs: number;
  /** Pixel samples per second so far. */
  samplesPerSecond: number;
  /** Rays traced so far. */
  rays: number;
}

/** Options of {@linkcode renderLocal}. */
export interface LocalRenderOptions extends Partial<RenderSettings> {
  /** Samples per pixel. */
  spp: number;
  /** Stop after the batch that passes this many seconds (the image then has fewer samples). */
  timeLimit?: number;
  /** Target seconds per batch (one readback each). */
  batchSeconds?: number;
  /** Called after every batch. */
  onProgress?: (progress: RenderProgress) => void;
  /** Stops the render after the batch in flight; the result then has the samples finished so far. */
  signal?: AbortSignal;
}

/** A finished local render. */
export interface LocalRenderResult {
  /** Per-pixel radiance sums, rgb. */
  sums: Float64Array;
  /**
   * With `aovs`: per-pixel AOV sums over the same samples, 6 floats a pixel (albedo rgb, normal xyz; see
   * `TileResult.aovs`); `aovMeans` makes images of them.
   */
  aovs?: Float64Array;
  /** Samples per pixel in `sums`. */
  samples: number;
  /** Milliseconds spent rendering (set-up excluded). */
  elapsedMs: number;
  /** Milliseconds spent uploading data and compiling the kernel. */
  setupMs: number;
  /** Rays traced. */
  rays: number;
  /** The GPU that rendered. */
  gpu: AdapterSummary;
  /** Bytes of GPU buffers used. */
  gpuBufferBytes: number;
}

const defaults = { width: 512, height: 512, seed: 1, maxDepth: 16, batchSeconds: 1 } satisfies Partial<
  LocalRenderOptions
>;

/**
 * Renders render data on this machine's GPU, in batches of samples whose size adapts so each takes about
 * `batchSeconds`. Sample i of every pixel is the same whatever the batching.
 * @example
 * ```ts ignore
 * const result = await renderLocal(gpu, compileScene(cornellBox()), { spp: 16, width: 64, height: 64 });
 * ```
 */
export async function renderLocal(
  gpu: Gpu,
  data: RenderData,
  options: LocalRenderOptions,
): Promise<LocalRenderResult> {
  const o = { ...defaults, ...options };
  const setupStart = performance.now();
  const renderer = await GpuRenderer.create(gpu, data, o);
  const setupMs = performance.now() - setupStart;
  const sums = new Float64Array(o.width * o.height * 3);
  const aovs = o.aovs ? new Float64Array(o.width * o.height * 6) : undefined;
  const start = performance.now();
  let done = 0, rays = 0, batch = 1;
  try {
    while (done < o.spp && !o.signal?.aborted) {
      const count = Math.min(batch, o.spp - done);
      const t0 = performance.now();
      const tile = await renderer.render({ start: done, count });
      const seconds = (performance.now() - t0) / 1000;
      for (let i = 0; i < sums.length; i++) sums[i]! += tile.sums[i]!;
      if (aovs) { for (let i = 0; i < aovs.length; i++) aovs[i]! += tile.aovs![i]!; }
      done += count;
      rays += tile.rays;
      const elapsedMs = performance.now() - start;
      o.onProgress?.({
        samplesDone: done,
        samplesTarget: o.spp,
        elapsedMs,
        samplesPerSecond: done * o.width * o.height / (elapsedMs / 1000),
        rays,
      });
      if (o.signal?.aborted || (o.timeLimit !== undefined && elapsedMs / 1000 >= o.timeLimit)) break;
      // aim the next batch at batchSeconds, growing at most 4x at a time
      const perSample = seconds / count;
      batch = Math.max(1, Math.min(batch * 4, Math.floor(o.batchSeconds / Math.max(perSample, 1e-6))));
    }
    return {
      sums,
      ...(aovs ? { aovs } : {}),
      samples: done,
      elapsedMs: performance.now() - start,
      setupMs,
      rays,
      gpu: gpu.summary,
      gpuBufferBytes: renderer.bufferBytes,
    };
  } finally {
    renderer.destroy();
  }
}
