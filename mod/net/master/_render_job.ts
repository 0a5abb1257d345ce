import { type RenderData, renderDataSections, sectionsHash } from "../../render_data/mod.ts";
import type { NodeInfo } from "./node.ts";
import { Scheduler, type WorkUnit } from "./scheduler.ts";

/** What a render job needs of the master's options. */
export interface JobSettings {
  /** Samples per pixel. */
  spp: number;
  /** Image width. */
  width: number;
  /** Image height. */
  height: number;
  /** Target seconds per work unit. */
  unitSeconds: number;
}

/**
 * One render of one scene version: its render data and sections, the work still to hand out, the merged
 * sums and how fast each node renders.
 */
export class RenderJob {
  /** The render data. */
  readonly data: RenderData;
  /** Its content hash. */
  readonly id: string;
  /** Its sections, each with its hash. */
  readonly sections: ReturnType<typeof renderDataSections>;
  /** The units. */
  readonly scheduler: Scheduler;
  /** Per-pixel radiance sums, rgb. */
  readonly sums: Float64Array;
  /** When the first unit was handed out (rendering time excludes waiting for slaves). */
  started?: number;
  /** Slaves that have this job's render data. */
  readySlaves = 0;
  /** True once its result was handed to the caller. */
  reported = false;
  #settings: JobSettings;

  /** A job over `data`; its job numbers start at `firstJob` (unique across the master's jobs). */
  constructor(data: RenderData, settings: JobSettings, firstJob: number) {
    this.data = data;
    this.sections = renderDataSections(data);
    this.id = sectionsHash(this.sections);
    this.scheduler = new Scheduler(settings.width, settings.height, settings.spp, { firstJob });
    this.sums = new Float64Array(settings.width * settings.height * 3);
    this.#settings = settings;
  }

  /** The next unit for `owner`, sized to take about unitSeconds at the node's rate. */
  take(owner: string, info: NodeInfo): WorkUnit | undefined {
    const unit = this.scheduler.take(owner, this.#unitSize(info));
    if (unit && this.started === undefined) this.started = performance.now();
    return unit;
  }

  /** Samples per pixel for a unit of about unitSeconds on a node of this rate. */
  #unitSize(info: NodeInfo): number {
    if (!(info.rate > 0)) return 1;
    return Math.max(1, Math.floor(info.rate * this.#settings.unitSeconds / this.scheduler.bandPixels));
  }

  /** Adds a unit's sums to the image and updates the node's samples and rate. */
  merge(unit: WorkUnit, sums: Float32Array, info: NodeInfo, seconds: number): void {
    const offset = unit.y * this.#settings.width * 3;
    for (let i = 0; i < sums.length; i++) this.sums[offset + i]! += sums[i]!;
    const pixelSamples = unit.height * this.#settings.width * unit.count;
    info.samples += pixelSamples;
    const rate = pixelSamples / Math.max(seconds, 1e-3);
    info.rate = info.rate > 0 ? 0.5 * info.rate + 0.5 * rate : rate;
  }

  /** Floats in a unit's result: rgb for every pixel of its rows. */
  floatsOf(unit: WorkUnit): number {
    return unit.height * this.#settings.width * 3;
  }
}
