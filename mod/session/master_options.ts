import type { DaemonEntry } from "../net/discovery/mod.ts";
import type { Master, NodeInfo } from "../net/master/mod.ts";
import type { DiscoverySettings } from "./discovery.ts";
import type { RenderReport } from "./report.ts";
import type { ImageJob } from "./job.ts";

/** What `octane master` asks of a master session. */
export interface MasterSessionOptions extends ImageJob {
  /** Port slaves join on; with `autoPort`, the next free one when it is taken. */
  port: number;
  /** Address to listen on. */
  bind: string;
  /** Take the next free port when `port` is busy. */
  autoPort: boolean;
  /** The farm key. */
  key?: Uint8Array | undefined;
  /** Seconds of silence after which a slave is dropped. */
  heartbeatTimeout: number;
  /** Hand out no work until this many slaves have the render data. */
  waitSlaves: number;
  /** With waitSlaves: start anyway after this many seconds. */
  waitTimeout?: number | undefined;
  /** Fraction of slaves' units rendered again to check them. */
  verify: number;
  /** Least seconds a node has for a unit before it goes to another node too. */
  unitTimeout: number;
  /** Render on this machine's GPU too. */
  localRender: boolean;
  /** Scan for daemons, when asked to. */
  discovery?: DiscoverySettings | undefined;
  /** --watch: render again when the scene file changes. */
  watch: boolean;
  /** --keep-open: after the render, keep serving until Ctrl-C. */
  keepOpen: boolean;
  /** Listen to Ctrl-C and SIGTERM (default true). */
  signals?: boolean;
}

/** A render a master session wrote. */
export interface MasterRender {
  /** Its report (written where --report asked). */
  report: RenderReport;
  /** The files written, in the order the CLI names them. */
  written: string[];
  /** Every node, each slave with the daemon that started it, where one did. */
  nodes: (NodeInfo & { daemon?: string })[];
  /** What the master does next: watch the scene for changes, or stay open for the live view; else end. */
  next?: "watching" | "keeping open";
}

/** What a master session tells while it runs; the CLI prints it. */
export interface MasterEvents {
  /** The daemon list changed. */
  daemons?(entries: readonly DaemonEntry[]): void;
  /** The first stop request: no new work goes out, the units in flight are merged. */
  stopping?(unitsInFlight: number): void;
  /**
   * A second Ctrl-C while stopping: the master and its daemon pool are closed and nothing is written. The
   * CLI exits 130 at once; without it, `run` ends with code 130.
   */
  quit?(): void;
  /** A render was written (every render once, with --watch). */
  rendered?(render: MasterRender): void;
  /** A stop before any sample was merged: nothing is written. */
  nothingMerged?(): void;
}

/** What the status line shows of a master session. */
export interface MasterStatus {
  /** The master's progress. */
  progress: Master["progress"];
  /** Pixels of the image. */
  pixels: number;
  /** Slaves waited for before work goes out. */
  waitSlaves: number;
  /** The daemon list in a few words, when scanning. */
  daemons?: string | undefined;
  /** True once stopping. */
  stopping: boolean;
}
