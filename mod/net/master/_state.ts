import { getLogger } from "@logtape/logtape";
import type { RenderSettings } from "../../render/mod.ts";
import type { HandshakeGate } from "../protocol/mod.ts";
import { Phases } from "./_phase.ts";
import type { RenderJob } from "./_render_job.ts";
import type { SlaveLink } from "./_slave_link.ts";
import { WireSections } from "./_wire.ts";
import type { NodeInfo } from "./node.ts";

const log = getLogger(["octane", "master"]);

/** Options of {@linkcode Master}. */
export interface MasterOptions extends RenderSettings {
  /** Samples per pixel. */
  spp: number;
  /** Port to listen on. */
  port: number;
  /** Address to listen on. */
  bind: string;
  /** Take the next free port when `port` is busy. */
  autoPort: boolean;
  /** Render on this machine's GPU too. */
  localRender: boolean;
  /** The farm key every slave must hold; none: links are encrypted but anyone may join. */
  key?: Uint8Array;
  /** Seconds without a frame after which a slave is dropped. */
  heartbeatTimeout: number;
  /** Target seconds per work unit. */
  unitSeconds: number;
  /** Least seconds a node has for a unit before it goes to another node too. */
  unitTimeout: number;
  /** Fraction of slaves' units another node renders again to check them (0: none). */
  verify: number;
  /** Hand out no work until this many slaves have the render data (for scripted farm renders). */
  waitSlaves: number;
  /** Seconds after which work is handed out even if fewer than waitSlaves slaves are ready. */
  waitTimeout?: number;
  /** Seconds of rendering after which the render stops as `Master.stop` stops it. */
  timeLimit?: number;
  /** Bounds on connections not yet proven (defaults from mod/net/defaults.ts). */
  gate?: HandshakeGate;
  /**
   * Compress render-data sections on the wire where it pays (zstd; default true). False sends them raw:
   * for links faster than the slaves can decompress, and for the benchmark's figures without it.
   */
  compressSections: boolean;
}

/**
 * What the master's parts share: the current render job, the master's phase and render generation, the
 * nodes and slaves, whether work may be handed out, and a wake-up for everyone waiting on a change.
 */
export class MasterState {
  /** The options. */
  readonly options: MasterOptions;
  /** The render in progress (replaced by an update or a restart: the next generation). */
  render: RenderJob;
  /** The phase and the render generation: every move between phases is made through it. */
  readonly phases: Phases;
  /** Every node that took part, the local one first. */
  readonly nodes: NodeInfo[] = [];
  /** The slaves connected now. */
  readonly slaves = new Set<SlaveLink>();
  /** True while paused: no new work goes out; the units in flight are merged. */
  paused = false;
  /** Hosts of slaves found lying: they may not join again while this master runs. */
  readonly banned = new Set<string>();
  /** The wire form of the render data's sections, shared by every slave's upload. */
  readonly wire: WireSections;
  #wake: (() => void)[] = [];

  /** Shared state for a master rendering `render`. */
  constructor(options: MasterOptions, render: RenderJob) {
    this.options = options;
    this.render = render;
    this.phases = new Phases(options.waitSlaves > 0 ? "waiting" : "rendering");
    this.wire = new WireSections(options.compressSections);
  }

  /** True once the master is closed. */
  get closed(): boolean {
    return this.phases.name === "closed";
  }

  /**
   * True once enough slaves are ready for work to be handed out (see waitSlaves: the master moves from
   * `waiting` to `rendering` here); from then on it stays true, so that a slave leaving never stalls the
   * render. False while paused.
   */
  get go(): boolean {
    if (this.paused) return false;
    if (this.phases.name === "waiting" && this.render.readySlaves >= this.options.waitSlaves) {
      this.phases.to("rendering");
    }
    return this.phases.workGoesOut;
  }

  /** Resolves at the next {@linkcode MasterState.signal}. */
  changed(): Promise<void> {
    return new Promise((resolve) => this.#wake.push(resolve));
  }

  /** Wakes everyone waiting on a change, and hands work to idle slaves (a unit may have come back). */
  signal(): void {
    const waiting = this.#wake;
    this.#wake = [];
    for (const w of waiting) w();
    this.#feedAll();
  }

  /**
   * Drops the nodes a spot check found lying: their link is closed, their host may not join again, and
   * everything they contributed is rendered again by others.
   */
  convict(nodes: readonly string[]): void {
    for (const id of nodes) {
      const slave = [...this.slaves].find((s) => s.link.label === id);
      const info = slave?.info ?? this.nodes.find((n) => n.id === id);
      const host = slave?.link.peerHost ?? id.replace(/:\d+$/, ""); // a slave gone already: its label
      this.banned.add(host);
      const reopened = this.render.discard(id, info);
      log.warn(
        "Slave {id} rendered samples that other nodes render differently: dropping it and rendering its part again{note}",
        { id, note: reopened ? "" : " (its part could not be told apart)" },
      );
      slave?.drop("its results disagree with other nodes'");
    }
    this.signal();
  }

  /** Hands work to every ready slave that has room for more. */
  #feedAll(): void {
    for (const s of this.slaves) s.feed();
  }
}
