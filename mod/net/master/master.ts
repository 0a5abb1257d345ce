import { getLogger } from "@logtape/logtape";
import type { Gpu } from "../../gpu/mod.ts";
import type { RenderData } from "../../render_data/mod.ts";
import { deadline } from "../async.ts";
import {
  BYE_TIMEOUT_MS,
  HEARTBEAT_TIMEOUT_SECONDS,
  MASTER_PORT,
  UNIT_SECONDS,
  UNIT_TIMEOUT_SECONDS,
  VERIFY_FRACTION,
} from "../defaults.ts";
import { acceptSlaves } from "./_admission.ts";
import { renderLocally } from "./_local_node.ts";
import { RenderJob } from "./_render_job.ts";
import type { PhaseName } from "./_phase.ts";
import { type MasterOptions, MasterState } from "./_state.ts";
import type { VerifyStats } from "./_verify.ts";
import { watch } from "./_watchdog.ts";
import type { NodeInfo } from "./node.ts";

export type { MasterOptions } from "./_state.ts";

const log = getLogger(["octane", "master"]);

const defaults = {
  port: MASTER_PORT,
  bind: "0.0.0.0",
  autoPort: false,
  localRender: true,
  heartbeatTimeout: HEARTBEAT_TIMEOUT_SECONDS,
  unitSeconds: UNIT_SECONDS,
  unitTimeout: UNIT_TIMEOUT_SECONDS,
  verify: VERIFY_FRACTION,
  waitSlaves: 0,
  compressSections: true,
} satisfies Partial<MasterOptions>;

/** A finished network render. */
export interface MasterResult {
  /** Per-pixel radiance sums, rgb. */
  sums: Float64Array;
  /**
   * With the `aovs` option: per-pixel AOV sums merged from every node exactly as `sums` (6 a pixel: albedo
   * rgb, normal xyz; divide each row by `rowSamples`, e.g. with `aovMeans`).
   */
  aovs?: Float64Array;
  /** Samples per pixel in `sums`. */
  samples: number;
  /** Milliseconds from start to the last merged sample. */
  elapsedMs: number;
  /** Content hash of the render data rendered. */
  sceneHash: string;
  /** Every node that took part. */
  nodes: NodeInfo[];
  /** Spot checks of slaves' results. */
  verification: VerifyStats;
  /** True when the render was stopped (`stop`) before every sample was merged. */
  interrupted: boolean;
  /** Samples merged for each row (all `samples` unless interrupted). */
  rowSamples: Uint32Array;
}

/** Options of {@linkcode Master.run}. */
export interface RunOptions {
  /** Called with every finished render (each scene version once with --watch). */
  onRender?: (result: MasterResult) => void | Promise<void>;
  /** Keep serving after a render finishes, for updates (`update`) until `close`. */
  keepGoing?: boolean;
}

/**
 * Drives a network render: listens for slaves on sealed links, sends them the render data, hands out
 * (rows, samples) units to them and to the local GPU, and merges the sums. Samples depend only on (pixel,
 * sample, seed), so the image equals a local render whoever renders what. `update` restarts the render on
 * new data; slaves are sent only the sections they do not have.
 */
export class Master {
  #state: MasterState;
  #listener: Deno.Listener;
  #watchdog?: ReturnType<typeof setInterval>;
  #gpu?: Gpu;
  #stop = new AbortController();

  private constructor(data: RenderData, options: MasterOptions, listener: Deno.Listener, gpu?: Gpu) {
    this.#state = new MasterState(options, new RenderJob(data, options, { firstJob: 1, generation: 1 }));
    this.#listener = listener;
    this.#gpu = gpu;
  }

  /**
   * Listens on the port (or, with autoPort, the next free one up to 100 higher).
   * @throws {Deno.errors.AddrInUse} when the port is taken and autoPort is off
   */
  static start(
    data: RenderData,
    options: Partial<MasterOptions> & Pick<MasterOptions, "spp" | "width" | "height" | "seed" | "maxDepth">,
    gpu?: Gpu,
  ): Master {
    const o = { ...defaults, ...options };
    if (o.localRender && !gpu) {
      throw new RangeError("Cannot render locally without a GPU: pass one, or set localRender to false");
    }
    let listener: Deno.Listener | undefined;
    for (let port = o.port; port <= o.port + (o.autoPort ? 100 : 0) && port <= 65535; port++) {
      try {
        listener = Deno.listen({ hostname: o.bind, port, transport: "tcp" });
        break;
      } catch (error: unknown) {
        if (!(error instanceof Deno.errors.AddrInUse) || !o.autoPort) throw error;
      }
    }
    if (!listener) throw new Deno.errors.AddrInUse(`Ports ${o.port} to ${o.port + 100} are all in use`);
    return new Master(data, o, listener, gpu);
  }

  /** The port listened on. */
  get port(): number {
    return (this.#listener.addr as Deno.NetAddr).port;
  }

  /** Progress for status lines: samples merged and their total, the nodes, the slaves ready to render. */
  get progress(): {
    samplesDone: number;
    samplesTotal: number;
    elapsedMs: number;
    nodes: readonly NodeInfo[];
    readySlaves: number;
  } {
    for (const s of this.#state.slaves) s.countBytes();
    const job = this.#state.render;
    return {
      samplesDone: job.scheduler.samplesDone,
      samplesTotal: job.scheduler.samplesTotal,
      elapsedMs: job.started === undefined ? 0 : performance.now() - job.started,
      nodes: this.#state.nodes,
      readySlaves: job.readySlaves,
    };
  }

  /**
   * Restarts the render on new render data (a changed scene); every slave is sent the sections it lacks.
   * @returns false when the data is the same as the current render's
   */
  update(data: RenderData): boolean {
    const state = this.#state;
    if (!state.phases.canBegin) return false;
    const next = this.#nextJob(data);
    if (next.id === state.render.id) return false;
    this.#begin(next);
    log.info("Scene changed: render data {id}, restarting the render", { id: next.id.slice(0, 12) });
    return true;
  }

  /**
   * Throws the samples away and renders the same data again, with a new samples-per-pixel target if given.
   * @returns false once stopping
   */
  restart(options: { spp?: number } = {}): boolean {
    const state = this.#state;
    if (!state.phases.canBegin) return false;
    if (options.spp !== undefined) state.options.spp = options.spp;
    this.#begin(this.#nextJob(state.render.data));
    log.info("Restarting the render at {spp} spp", { spp: state.options.spp });
    return true;
  }

  /** The next generation's job over `data`; its job numbers follow the current render's. */
  #nextJob(data: RenderData): RenderJob {
    const { render, phases } = this.#state;
    return new RenderJob(data, this.#state.options, {
      firstJob: render.scheduler.nextJob,
      generation: phases.generation + 1,
    });
  }

  /** Makes `next` (of the next generation) the render in progress. */
  #begin(next: RenderJob): void {
    const state = this.#state;
    if (state.phases.begin() !== next.generation) {
      throw new RangeError(`Cannot begin render ${next.generation}: it is not the next generation`);
    }
    state.render = next;
    for (const n of state.nodes) n.samples = 0; // contributions count per render
    for (const s of state.slaves) s.restart();
    state.signal();
  }

  /**
   * The generation of the render in progress: 1, then one more for every update and restart. A film, a
   * camera or a result of another generation belongs to another render.
   */
  get generation(): number {
    return this.#state.render.generation;
  }

  /** The master's phase (see `Phases`): waiting, rendering, finished, stopping or closed. */
  get phase(): PhaseName {
    return this.#state.phases.name;
  }

  /** The render data of the render in progress. */
  get data(): RenderData {
    return this.#state.render.data;
  }

  /** Samples per pixel the render in progress aims at. */
  get spp(): number {
    return this.#state.options.spp;
  }

  /**
   * The merged image so far: the live sums (not a copy: read them at once), the AOV sums when the render
   * merges them (the same way), and the samples of each row.
   */
  snapshot(): {
    sums: Float64Array;
    aovs?: Float64Array;
    rowSamples: Uint32Array;
    width: number;
    height: number;
  } {
    const { options, render } = this.#state;
    return {
      sums: render.film.sums,
      ...(render.film.aovs ? { aovs: render.film.aovs } : {}),
      rowSamples: render.scheduler.rowSamples(),
      width: options.width,
      height: options.height,
    };
  }

  /** Pauses (true) or resumes (false) handing out work; units in flight are still merged. */
  set paused(on: boolean) {
    const state = this.#state;
    if (state.paused === on) return;
    state.paused = on;
    log.info(on ? "Paused: no new work goes out" : "Resumed");
    state.signal();
  }

  /** True while paused. */
  get paused(): boolean {
    return this.#state.paused;
  }

  /** Renders until the render finishes (or, with keepGoing, until `close`); accepts slaves meanwhile. */
  async run(options: RunOptions = {}): Promise<MasterResult> {
    const state = this.#state;
    this.#watchdog = setInterval(() => watch(state, () => this.stop()), 500);
    if (!state.options.key) {
      log.warn(
        "No farm key: links are encrypted but not authenticated, and any host that reaches port {port} may join this render (octane key generate, then --key-file on every node)",
        { port: this.port },
      );
    }
    const waitTimer = this.#startWaitTimer();
    const accepting = acceptSlaves(state, this.#listener, this.#stop.signal);
    const local = state.options.localRender ? renderLocally(state, this.#gpu!) : Promise.resolve();
    let last: MasterResult | undefined;
    try {
      while (!state.closed) {
        const job = state.render;
        if (this.#due(job)) {
          last = this.#handOver(job);
          await options.onRender?.(last);
          if (!options.keepGoing) break;
        }
        if (state.phases.name === "stopping" && state.phases.handedOver) break;
        await state.changed();
      }
      // a slave that no longer reads cannot keep the master from exiting
      const byes = Promise.allSettled([...state.slaves].map((s) => s.link.send("bye", {})));
      await deadline(byes, BYE_TIMEOUT_MS, { message: "" }).catch(() => {});
    } finally {
      // also when onRender fails (an output that cannot be written): nothing may be left listening
      clearTimeout(waitTimer);
      this.close();
      await local;
      await accepting;
    }
    if (!last) throw new Error("The master was closed before the render finished");
    return last;
  }

  /**
   * True when the render in progress is to be handed over: it finished, or the master is stopping and its
   * units in flight are merged (or have been waited for long enough); a render is handed over once.
   */
  #due(job: RenderJob): boolean {
    const { phases } = this.#state;
    if (phases.handedOver) return false;
    if (job.scheduler.finished) return true;
    return phases.name === "stopping" &&
      (job.scheduler.drained || performance.now() - phases.stoppedAt! > this.#drainLimitMs);
  }

  /** Hands the render in progress over: the master's phase moves on, and the result is made. */
  #handOver(job: RenderJob): MasterResult {
    const state = this.#state;
    state.phases.handOver();
    for (const s of state.slaves) s.countBytes();
    const interrupted = !job.scheduler.finished;
    if (interrupted && !job.scheduler.drained) {
      log.warn("Gave up waiting for {n} units in flight after {s} s", {
        n: job.scheduler.outstanding,
        s: this.#drainLimitMs / 1000,
      });
    }
    return {
      // units given up on may still answer and be merged into the film: hand over what rowSamples counts
      sums: interrupted ? job.film.sums.slice() : job.film.sums,
      ...(job.film.aovs ? { aovs: interrupted ? job.film.aovs.slice() : job.film.aovs } : {}),
      samples: state.options.spp,
      elapsedMs: performance.now() - (job.started ?? performance.now()),
      sceneHash: job.id,
      nodes: state.nodes.map((n) => ({ ...n, gpus: [...n.gpus], upload: { ...n.upload } })),
      verification: job.verification,
      interrupted,
      rowSamples: job.scheduler.rowSamples(),
    };
  }

  /**
   * Stops the render gracefully (Ctrl-C, a time limit): no new work goes out, the units in flight are
   * merged (at most twice the unit timeout is waited for them), `run` hands the render over with the
   * samples done (`interrupted`), says bye to the slaves and returns. Returns the units in flight;
   * calling it again does nothing.
   */
  stop(): number {
    const state = this.#state;
    if (!state.phases.canBegin) return 0; // stopping or closed already
    state.phases.to("stopping");
    state.render.scheduler.drain();
    state.signal();
    return state.render.scheduler.outstanding;
  }

  /** True once `stop` was called. */
  get stopping(): boolean {
    return this.#state.phases.stoppedAt !== undefined;
  }

  get #drainLimitMs(): number {
    return 2 * this.#state.options.unitTimeout * 1000;
  }

  /** Stops listening and drops every slave. */
  close(): void {
    const state = this.#state;
    if (!state.closed) state.phases.to("closed");
    this.#stop.abort();
    clearInterval(this.#watchdog);
    try {
      this.#listener.close();
    } catch {
      // already closed
    }
    for (const s of state.slaves) s.link.close();
    state.signal();
  }

  /** With waitSlaves and waitTimeout: hands out work after waitTimeout whoever is ready. */
  #startWaitTimer(): ReturnType<typeof setTimeout> | undefined {
    const state = this.#state;
    const wait = state.options.waitTimeout;
    if (wait === undefined || state.options.waitSlaves <= 0) return undefined;
    return setTimeout(() => {
      if (state.phases.name !== "waiting") return;
      state.phases.to("rendering");
      log.warn("Only {n} of {want} slaves were ready after {s} s: rendering with them", {
        n: state.render.readySlaves,
        want: state.options.waitSlaves,
        s: wait,
      });
      state.signal();
    }, wait * 1000);
  }
}
