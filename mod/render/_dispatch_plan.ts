// How the renderer splits a band's samples into dispatches: on a hardware GPU a million path samples a
// dispatch; on a software GPU (llvmpipe) as many samples per pixel as its loop limit allows, over a share of
// the band's rows, so that each dispatch takes about as long as one sample of the whole band, and the event
// loop turns between them.
import { TRACE_WORKGROUP } from "../gpu_layout/mod.ts";

/**
 * llvmpipe (Mesa's software GPU, what CI renders on) silently ends every loop of a shader invocation after
 * this many loop iterations in total, counted over a SIMD group of invocations. On such an adapter the
 * renderer sizes the samples of one dispatch by the iterations it measures (see DispatchPlan.adapt), and
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

/** A band's dispatches: samples per pixel of each, and rows of each. */
export interface Dispatches {
  /** Samples per pixel of one dispatch. */
  samples: number;
  /** Rows of the band one dispatch covers (whole workgroups). */
  rows: number;
}

/** The dispatch sizes of one renderer, adapted to what its dispatches measure on a software GPU. */
export class DispatchPlan {
  #software: boolean;
  /** Samples per pixel of one dispatch on a software adapter (see {@linkcode DispatchPlan.adapt}). */
  #softwareSamples = 1;
  #turned = performance.now();

  /** A plan for a hardware or a software (`software`) adapter. */
  constructor(software: boolean) {
    this.#software = software;
  }

  /** The dispatches of a band of `width` x `height` pixels rendering `count` samples. */
  for(width: number, height: number, count: number): Dispatches {
    if (!this.#software) {
      return { samples: Math.max(1, Math.floor(SAMPLES_PER_DISPATCH / (width * height))), rows: height };
    }
    const samples = Math.min(this.#softwareSamples, count);
    // a dispatch of k samples covers about 1/k of the band's rows, so that it takes about as long as one
    // sample of the whole band (whole workgroups of rows: a share that ended mid-workgroup would leave its
    // lanes idle)
    return { samples, rows: Math.ceil(height / samples / TRACE_WORKGROUP) * TRACE_WORKGROUP };
  }

  /**
   * Lets the event loop turn when a software adapter has run dispatches for {@linkcode SOFTWARE_YIELD_MS}:
   * there `queue.submit` runs them on this thread.
   */
  async yieldNow(): Promise<void> {
    if (!this.#software || performance.now() - this.#turned < SOFTWARE_YIELD_MS) return;
    await new Promise((resolve) => setTimeout(resolve, 0));
    this.#turned = performance.now();
  }

  /** True when an invocation's loop iterations came near the software adapter's limit. */
  nearLimit(loopIterations: number): boolean {
    return this.#software && loopIterations * SOFTWARE_GROUP_FACTOR >= SOFTWARE_LOOP_LIMIT;
  }

  /**
   * Sets the samples per pixel of a software adapter's dispatches from the most loop iterations an
   * invocation ran in the last band with `samples` per dispatch: as many as keep that count, times
   * {@linkcode SOFTWARE_GROUP_FACTOR}, under half of llvmpipe's loop limit, from 1 to
   * {@linkcode SOFTWARE_MAX_SAMPLES}. More samples per dispatch let the kernel's path regeneration keep a SIMD
   * group's lanes busy. The count grows less than linearly with the samples (the longest paths do not line
   * up), so the estimate from fewer samples errs on the safe side.
   */
  adapt(loopIterations: number, samples: number): void {
    if (!this.#software) return;
    const perSample = Math.max(1, loopIterations / samples) * SOFTWARE_GROUP_FACTOR;
    this.#softwareSamples = Math.max(
      1,
      Math.min(SOFTWARE_MAX_SAMPLES, Math.floor(SOFTWARE_LOOP_LIMIT / 2 / perSample)),
    );
  }
}
