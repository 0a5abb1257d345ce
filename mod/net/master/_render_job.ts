import { type RenderData, renderDataSections, sectionsHash } from "../../render_data/mod.ts";
import { UNITS_IN_FLIGHT } from "../defaults.ts";
import { Film } from "./_film.ts";
import { Verifier, type VerifyStats } from "./_verify.ts";
import type { NodeInfo } from "./node.ts";
import { type Assignment, Scheduler } from "./scheduler.ts";

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
  /** Least seconds a node has for a unit before it goes to another node too (twice that for a first unit). */
  unitTimeout: number;
  /** Fraction of the units merged from slaves that another node renders again to check (0: none). */
  verify: number;
  /** Merge AOVs too: every result carries them after its radiance (see {@linkcode RenderJob.floatsOf}). */
  aovs?: boolean;
}

/** What became of a node's answer to a unit. */
export type Outcome =
  | { kind: "merged" }
  | { kind: "ignored" } // not its unit any more, or another node's answer came first
  | { kind: "bad"; reason: string } // not finite, negative or the wrong size: the unit goes back
  | { kind: "checked"; agreed: boolean }
  | { kind: "liars"; nodes: string[] };

/**
 * One render of one scene version: its render data and sections, the work still to hand out, the merged
 * film, each node's rate, and the spot checks of slaves' results.
 */
export class RenderJob {
  /** The render data. */
  readonly data: RenderData;
  /** Which render of the master this is (see `Phases.generation`): 1, then one more for each update or restart. */
  readonly generation: number;
  /** Its content hash. */
  readonly id: string;
  /** Its sections, each with its hash. */
  readonly sections: ReturnType<typeof renderDataSections>;
  /** The units. */
  readonly scheduler: Scheduler;
  /** The merged image. */
  readonly film: Film;
  /** When the first unit was handed out (rendering time excludes waiting for slaves). */
  started?: number;
  /** Slaves that have this job's render data. */
  readySlaves = 0;
  #settings: JobSettings;
  #verifier: Verifier;
  #convicted = new Set<string>();
  #started = new Set<string>();

  /**
   * The render `generation` over `data`; its job numbers start at `firstJob` (unique across the master's
   * renders, so that a late answer to an earlier render's unit never matches one of this render's).
   */
  constructor(data: RenderData, settings: JobSettings, o: { firstJob: number; generation: number }) {
    const { firstJob } = o;
    this.data = data;
    this.generation = o.generation;
    this.sections = renderDataSections(data);
    this.id = sectionsHash(this.sections);
    this.scheduler = new Scheduler(settings.width, settings.height, settings.spp, { firstJob });
    this.#verifier = new Verifier(settings.verify);
    this.film = new Film(settings.width * settings.height, {
      perNode: this.#verifier.enabled,
      aovs: settings.aovs === true,
    });
    this.#settings = settings;
  }

  /** Spot-check counts for the report. */
  get verification(): VerifyStats {
    return this.#verifier.stats;
  }

  /**
   * The next unit for node `owner`, sized to take about unitSeconds at its rate, with a deadline of a few
   * times its expected time (at least unitTimeout; twice that before the node's rate is known).
   */
  take(owner: string, info: NodeInfo): Assignment | undefined {
    const s = this.#settings;
    // a node's first unit of a job is one sample per pixel: a restarted render (a camera moved in the
    // live view) shows its first image after a short unit, not a full one
    const first = !this.#started.has(owner);
    const samples = info.rate > 0 && !first
      ? Math.max(1, Math.floor(info.rate * s.unitSeconds / this.scheduler.bandPixels))
      : 1;
    // sized for the range actually handed out (a retry or a check may be another node's size)
    const deadlineMs = (range: { height: number; count: number }) =>
      info.rate > 0
        ? Math.max(
          s.unitTimeout * 1000,
          4 * UNITS_IN_FLIGHT * (range.height * s.width * range.count / info.rate) * 1000,
        )
        : 2 * s.unitTimeout * 1000;
    const unit = this.scheduler.take(owner, samples, { now: performance.now(), deadlineMs });
    if (unit) this.#started.add(owner);
    if (unit && this.started === undefined) this.started = performance.now();
    return unit;
  }

  /**
   * Floats in a unit's result: rgb for every pixel of its rows; with AOVs, then 6 more for every pixel
   * (albedo rgb, normal xyz), as the renderer returns them.
   */
  floatsOf(unit: { height: number }): number {
    return unit.height * this.#settings.width * (this.#settings.aovs ? 9 : 3);
  }

  /**
   * Takes node `owner`'s answer to unit `job` (sums the master measured to have taken `seconds`; with AOVs
   * the radiance sums then the AOV sums, see floatsOf): a render answer is checked (finite, non-negative
   * radiance, AOVs in range, the right size) and merged when it is the first for its unit, and perhaps
   * queued to be checked; a check answer is judged.
   */
  accept(
    owner: string,
    answer: { info: NodeInfo; job: number; sums: Float32Array; seconds: number },
  ): Outcome {
    const info = answer.info;
    const unit = this.scheduler.peek(answer.job, owner);
    if (!unit || this.#convicted.has(owner)) return { kind: "ignored" };
    const bad = badSums(answer.sums, this.floatsOf(unit), unit.count, this.#settings.aovs === true);
    if (bad) {
      this.scheduler.release(owner, { jobs: [answer.job], avoid: true });
      return { kind: "bad", reason: bad };
    }
    const done = this.scheduler.complete(answer.job, owner);
    if (!done) return { kind: "ignored" };
    if (done.purpose !== "render") {
      const { verdict, next } = this.#verifier.answered(done.task, owner, answer.sums);
      if (next) this.scheduler.request(next.task, next.purpose, next.exclude);
      if (verdict.kind === "liars") return verdict;
      return { kind: "checked", agreed: verdict.kind === "agreed" };
    }
    const pixels = done.height * this.#settings.width;
    this.film.add(
      owner,
      done.y * this.#settings.width * 3,
      answer.sums.subarray(0, pixels * 3),
      this.#settings.aovs ? answer.sums.subarray(pixels * 3) : undefined,
    );
    const pixelSamples = done.height * this.#settings.width * done.count;
    info.samples += pixelSamples;
    info.lastResultAt = performance.now();
    const rate = pixelSamples / Math.max(answer.seconds, 1e-3);
    info.rate = info.rate > 0 ? 0.5 * info.rate + 0.5 * rate : rate;
    const check = this.#verifier.merged(done.task, owner, answer.sums);
    if (check) this.scheduler.request(check.task, check.purpose, check.exclude);
    return { kind: "merged" };
  }

  /**
   * Throws away everything `node` contributed (it lied): its part of the film, its samples, and its merged
   * units go back to be rendered by others. False when the film does not keep nodes apart (no checks).
   */
  discard(node: string, info?: NodeInfo): boolean {
    // nothing more of it is merged, whatever is still on its way
    this.#convicted.add(node);
    this.scheduler.release(node, { avoid: true });
    if (!this.film.remove(node)) return false;
    this.#verifier.forget(this.scheduler.reopen(node));
    if (info) info.samples = 0;
    return true;
  }

  /** Gives up the checks nobody may answer (no other node left); returns how many. */
  dropChecks(): number {
    this.#verifier.forgetAll();
    return this.scheduler.dropChecks();
  }
}

/** Largest radiance of one sample: the kernel drops samples at or above it. */
const MAX_SAMPLE_RADIANCE = 1e30;

/**
 * Why sums cannot be merged (the wrong count; a radiance value not finite, negative, or more than `samples`
 * samples of a renderer can add up to; with `aovs`, an albedo outside [0, samples] or a normal component
 * outside [-samples, samples], give or take float rounding), or undefined.
 */
function badSums(sums: Float32Array, count: number, samples: number, aovs: boolean): string | undefined {
  if (sums.length !== count) return `${sums.length} values instead of ${count}`;
  const most = samples * MAX_SAMPLE_RADIANCE;
  const radiance = aovs ? count / 3 : count;
  if (aovs) {
    // each sample adds an albedo in [0, 1] and a unit normal
    const bound = samples * 1.01 + 1;
    for (let i = radiance; i < count; i++) {
      const v = sums[i]!;
      if (!Number.isFinite(v)) return `an AOV value is not finite (${v})`;
      const albedo = (i - radiance) % 6 < 3;
      if (albedo ? !(v >= 0 && v <= bound) : !(Math.abs(v) <= bound)) {
        return `an AOV ${
          albedo ? "albedo" : "normal"
        } value (${v}) is outside what ${samples} samples add up to`;
      }
    }
  }
  for (let i = 0; i < radiance; i++) {
    const v = sums[i]!;
    if (!(v >= 0)) return Number.isNaN(v) ? "a value is not finite (NaN)" : "a value is negative";
    if (v === Infinity) return "a value is not finite (Infinity)";
    if (v >= most) return `a value (${v}) is more than ${samples} samples can add up to`;
  }
  return undefined;
}
