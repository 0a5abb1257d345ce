import { getLogger } from "@logtape/logtape";
import { hostname } from "node:os";
import type { Gpu } from "../../gpu/mod.ts";
import type { RenderData } from "../../render_data/mod.ts";
import { VERSION } from "../../version.ts";
import { deadline } from "../async.ts";
import {
  BYE_TIMEOUT_MS,
  HANDSHAKE_TIMEOUT_MS,
  HEARTBEAT_TIMEOUT_SECONDS,
  MASTER_PORT,
  UNIT_SECONDS,
  UNIT_TIMEOUT_SECONDS,
  VERIFY_FRACTION,
} from "../defaults.ts";
import { type Link, ProtocolError, serveLinks } from "../protocol/mod.ts";
import { renderLocally } from "./_local_node.ts";
import { RenderJob } from "./_render_job.ts";
import { SlaveLink } from "./_slave_link.ts";
import { type MasterOptions, MasterState } from "./_state.ts";
import { LOCAL, type VerifyStats } from "./_verify.ts";
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
    this.#state = new MasterState(options, new RenderJob(data, options, 1));
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
    if (state.stoppedAt !== undefined) return false;
    const next = new RenderJob(data, state.options, state.render.scheduler.nextJob);
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
    if (state.stoppedAt !== undefined) return false;
    if (options.spp !== undefined) state.options.spp = options.spp;
    this.#begin(new RenderJob(state.render.data, state.options, state.render.scheduler.nextJob));
    log.info("Restarting the render at {spp} spp", { spp: state.options.spp });
    return true;
  }

  #begin(next: RenderJob): void {
    const state = this.#state;
    state.render = next;
    for (const n of state.nodes) n.samples = 0; // contributions count per render
    for (const s of state.slaves) s.restart();
    state.signal();
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
    this.#watchdog = setInterval(() => this.#watch(), 500);
    if (!state.options.key) {
      log.warn(
        "No farm key: links are encrypted but not authenticated, and any host that reaches port {port} may join this render (octane key generate, then --key-file on every node)",
        { port: this.port },
      );
    }
    const waitTimer = this.#startWaitTimer();
    const accepting = this.#accept();
    const local = state.options.localRender ? renderLocally(state, this.#gpu!) : Promise.resolve();
    let last: MasterResult | undefined;
    try {
      while (!state.closed) {
        const job = state.render;
        const stopped = state.stoppedAt !== undefined &&
          (job.scheduler.drained || performance.now() - state.stoppedAt > this.#drainLimitMs);
        if ((job.scheduler.finished || stopped) && !job.reported) {
          job.reported = true;
          for (const s of state.slaves) s.countBytes();
          const interrupted = !job.scheduler.finished;
          if (interrupted && !job.scheduler.drained) {
            log.warn("Gave up waiting for {n} units in flight after {s} s", {
              n: job.scheduler.outstanding,
              s: this.#drainLimitMs / 1000,
            });
          }
          last = {
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
          await options.onRender?.(last);
          if (!options.keepGoing) break;
        }
        if (state.stoppedAt !== undefined && job.reported) break;
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
   * Stops the render gracefully (Ctrl-C, a time limit): no new work goes out, the units in flight are
   * merged (at most twice the unit timeout is waited for them), `run` hands the render over with the
   * samples done (`interrupted`), says bye to the slaves and returns. Returns the units in flight;
   * calling it again does nothing.
   */
  stop(): number {
    const state = this.#state;
    if (state.stoppedAt !== undefined) return 0;
    state.stoppedAt = performance.now();
    state.render.scheduler.drain();
    state.signal();
    return state.render.scheduler.outstanding;
  }

  /** True once `stop` was called. */
  get stopping(): boolean {
    return this.#state.stoppedAt !== undefined;
  }

  get #drainLimitMs(): number {
    return 2 * this.#state.options.unitTimeout * 1000;
  }

  /** Stops listening and drops every slave. */
  close(): void {
    const state = this.#state;
    state.closed = true;
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
      if (state.go) return;
      state.waitOver = true;
      log.warn("Only {n} of {want} slaves were ready after {s} s: rendering with them", {
        n: state.render.readySlaves,
        want: state.options.waitSlaves,
        s: wait,
      });
      state.signal();
    }, wait * 1000);
  }

  /** Accepts slaves until closed (see serveLinks: the handshake gate, retried accepts, budgeted refusals). */
  #accept(): Promise<void> {
    const key = this.#state.options.key;
    return serveLinks(this.#listener, {
      signal: this.#stop.signal,
      services: ["render"],
      ...(key ? { key } : {}),
      log,
      closing: () => this.#state.closed,
      ...(this.#state.options.gate ? { gate: this.#state.options.gate } : {}),
      onLink: (link, proven) => this.#admit(link, proven),
    });
  }

  /** Hello and welcome; the slave is served from then on. */
  async #admit(link: Link, proven: () => void): Promise<void> {
    const joined = performance.now();
    try {
      const first = await deadline(link.receive(["hello"]), HANDSHAKE_TIMEOUT_MS, {
        message: `no hello within ${HANDSHAKE_TIMEOUT_MS / 1000} s`,
      });
      proven();
      if (!first) return link.close();
      if (first.type !== "hello") throw new ProtocolError(`expected hello, got ${first.type}`);
      if (this.#state.closed) return link.close();
      if (this.#state.stoppedAt !== undefined) {
        // no work goes out any more: a slave that joined now would download the render data for nothing
        await link.send("refuse", { reason: "this master is stopping", retry: true });
        return link.close();
      }
      if (this.#state.banned.has(link.peerHost)) {
        const reason = "this master dropped that host for results that disagree with other nodes'";
        log.warn("Refused slave {peer}: {reason}", { peer: link.label, reason });
        await link.send("refuse", { reason });
        return link.close();
      }
      if (first.body.version !== VERSION) {
        // samples of another release could differ, and the image would not equal a local render
        const reason =
          `it runs octane ${first.body.version}, this master runs octane ${VERSION}: run the same octane on every node`;
        log.warn("Refused slave {peer}: {reason}", { peer: link.label, reason });
        await link.send("refuse", { reason });
        return link.close();
      }
      await link.send("welcome", { version: VERSION, host: hostname() });
      await new SlaveLink(this.#state, link, first.body, joined).serve();
    } catch (error: unknown) {
      log.warn("Closing connection with {peer}: {reason}", {
        peer: link.label,
        reason: error instanceof Error ? error.message : String(error),
      });
      link.close();
    }
  }

  /** Twice a second: silent slaves, overdue units, and checks no node may take any more. */
  #watch(): void {
    const state = this.#state;
    const timeout = state.options.heartbeatTimeout;
    for (const s of state.slaves) {
      if (s.link.silentSeconds > timeout) s.drop(`no heartbeat for ${timeout} s`);
    }
    const late = state.render.scheduler.overdue(performance.now());
    for (const { job, owner } of late) {
      if (owner === LOCAL) {
        log.info("Unit {job} of the local GPU is overdue: handing it to another node too", { job });
      } else [...state.slaves].find((s) => s.link.label === owner)?.missed(job);
    }
    const started = state.render.started;
    const limit = state.options.timeLimit;
    if (limit !== undefined && started !== undefined && performance.now() - started > limit * 1000) {
      if (state.stoppedAt === undefined) {
        log.info("Time limit of {s} s reached: merging the {n} units in flight", {
          s: limit,
          n: this.stop(),
        });
      }
    }
    // a stopping master also wakes to give up on units in flight that never come
    if (late.length > 0 || state.stoppedAt !== undefined) state.signal();
    this.#dropUntakeableChecks();
  }

  /** A check every active node is excluded from can never be answered: it is given up, with a warning. */
  #dropUntakeableChecks(): void {
    const state = this.#state;
    const job = state.render;
    const pending = job.scheduler.pendingChecks;
    if (pending.length === 0 || job.scheduler.samplesDone < job.scheduler.samplesTotal) return;
    const active = [
      ...(state.options.localRender && state.nodes.some((n) => n.id === LOCAL && n.active) ? [LOCAL] : []),
      ...[...state.slaves].filter((s) => s.ready).map((s) => s.link.label),
    ];
    if (pending.every((exclude) => active.every((node) => exclude.has(node)))) {
      const n = job.dropChecks();
      log.warn("Gave up {n} spot checks: no node is left that may render them", { n });
      state.signal();
    }
  }
}
