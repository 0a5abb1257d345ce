import type { AdapterSummary } from "../gpu/mod.ts";
import type { MasterResult, NodeInfo } from "../net/master/mod.ts";
import { VERSION } from "../version.ts";

/** A node's part in the render, as the report gives it (`--report`). */
export interface NodeReport {
  /** "local" (this machine's GPU) or "slave". */
  role: "local" | "slave";
  /** A slave's address (host:port as the master saw it). */
  address?: string;
  /** The daemon that started the slave, where one did. */
  daemon?: string;
  /** Host name the node reported. */
  host: string;
  /** Its GPUs. */
  gpus: AdapterSummary[];
  /** Pixel samples it contributed. */
  samples: number;
  /** Its samples per pixel of the image. */
  samplesPerPixel: number;
  /** Network render: bytes the master sent to it, on the wire. */
  bytesSent?: number;
  /** Network render: bytes received from it, on the wire. */
  bytesReceived?: number;
  /** Network render: result payload bytes (compressed). */
  resultBytes?: number;
  /** Network render: those results uncompressed. */
  resultBytesUncompressed?: number;
  /** Network render: render-data bytes sent to it, raw. */
  renderDataBytes?: number;
  /** Network render: those bytes on the wire. */
  renderDataWireBytes?: number;
  /** Network render: milliseconds from connecting to its first merged sample (slaves). */
  firstSampleMs?: number;
}

/** What the denoiser did (`--denoise`). */
export interface DenoiseReport {
  /** Wall time of the denoise, milliseconds. */
  ms: number;
  /** The adapter it ran on. */
  adapter: string;
  /** The weights: rt_hdr, or rt_hdr_alb_nrm with albedo and normal. */
  weights: string;
  /** The weights' file name. */
  weightsFile: string;
  /** Where the raw images went (beside -o and --hdr). */
  raw: string[];
}

/**
 * The JSON `--report` writes, for `render`, `master` and `demo` alike: one type and one builder
 * ({@linkcode buildReport}). Its keys are a contract users and tests rely on; the fields of a network render
 * are absent from a local one's report.
 */
export interface RenderReport {
  /** octane's version. */
  version: string;
  /** The scene as given. */
  scene: string;
  /** Content hash of the render data rendered. */
  sceneHash: string;
  /** Image width. */
  width: number;
  /** Image height. */
  height: number;
  /** Random seed. */
  seed: number;
  /** Samples per pixel asked for. */
  sppTarget: number;
  /** Samples per pixel done: the mean over the image when rows differ (see `rowSamples`). */
  samplesPerPixel: number;
  /** Network render: the least and most samples merged for a row (they differ when interrupted). */
  rowSamples?: { min: number; max: number };
  /** True when the render was stopped before its target (Ctrl-C, the live view's stop; a master's time limit). */
  interrupted: boolean;
  /** Seconds of rendering. */
  wallSeconds: number;
  /** Local render: seconds of set-up (upload, kernel compile). */
  setupSeconds?: number;
  /** Pixel samples per second. */
  samplesPerSecond: number;
  /** Local render: rays per second. */
  raysPerSecond?: number;
  /** Network render: bytes received per pixel sample from slaves. */
  bytesPerRemoteSample?: number;
  /** Network render: spot checks of slaves' results. */
  verification?: MasterResult["verification"];
  /** Network render: the master's host and port. */
  master?: { host: string; port: number };
  /** Every node that took part. */
  nodes: NodeReport[];
  /** `--denoise`: what the denoiser did. */
  denoise?: DenoiseReport;
}

/** What a render did, from which {@linkcode buildReport} makes the report. */
export interface ReportFacts
  extends
    Pick<RenderReport, "scene" | "sceneHash" | "width" | "height" | "seed" | "sppTarget" | "interrupted"> {
  /** Milliseconds of rendering. */
  elapsedMs: number;
  /** Every node that took part (a local render: its one GPU, id "local"). */
  nodes: readonly NodeInfo[];
  /** Local render: set-up milliseconds and rays traced. */
  local?: { setupMs: number; rays: number };
  /** Network render: the samples of each row, the spot checks, the master, and who started each slave. */
  network?: {
    rowSamples: Uint32Array;
    verification: MasterResult["verification"];
    master: { host: string; port: number };
    daemonOf(node: NodeInfo): string | undefined;
  };
  /** What the denoiser did, when it ran. */
  denoise?: DenoiseReport;
}

/** The report of a render: the one builder behind every `--report`. */
export function buildReport(facts: ReportFacts): RenderReport {
  const pixels = facts.width * facts.height;
  const seconds = facts.elapsedMs / 1000;
  const pixelSamples = facts.nodes.reduce((n, x) => n + x.samples, 0);
  const { local, network } = facts;
  const remote = facts.nodes.filter((n) => n.id !== "local");
  const remoteSamples = remote.reduce((n, x) => n + x.samples, 0);
  const received = facts.nodes.reduce((n, x) => n + x.bytesReceived, 0);
  return {
    version: VERSION,
    scene: facts.scene,
    sceneHash: facts.sceneHash,
    width: facts.width,
    height: facts.height,
    seed: facts.seed,
    sppTarget: facts.sppTarget,
    samplesPerPixel: pixelSamples / pixels,
    ...(network ? { rowSamples: minMax(network.rowSamples) } : {}),
    interrupted: facts.interrupted,
    wallSeconds: seconds,
    ...(local ? { setupSeconds: local.setupMs / 1000 } : {}),
    samplesPerSecond: seconds > 0 ? pixelSamples / seconds : 0,
    ...(local ? { raysPerSecond: seconds > 0 ? local.rays / seconds : 0 } : {}),
    ...(network
      ? {
        bytesPerRemoteSample: remoteSamples > 0 ? received / remoteSamples : 0,
        verification: network.verification,
        master: network.master,
      }
      : {}),
    nodes: facts.nodes.map((n) => nodeReport(n, pixels, network?.daemonOf)),
    ...(facts.denoise ? { denoise: facts.denoise } : {}),
  };
}

function nodeReport(
  n: NodeInfo,
  pixels: number,
  daemonOf?: (node: NodeInfo) => string | undefined,
): NodeReport {
  const local = n.id === "local";
  const base: NodeReport = {
    role: local ? "local" : "slave",
    ...(local ? {} : { address: n.id }),
    host: n.host,
    gpus: n.gpus,
    samples: n.samples,
    samplesPerPixel: n.samples / pixels,
  };
  if (!daemonOf) return base;
  const daemon = daemonOf(n);
  return {
    ...base,
    ...(daemon ? { daemon } : {}),
    bytesSent: n.bytesSent,
    bytesReceived: n.bytesReceived,
    resultBytes: n.resultBytes,
    resultBytesUncompressed: n.resultRawBytes,
    renderDataBytes: n.renderDataBytes,
    renderDataWireBytes: n.renderDataWireBytes,
    ...(n.firstSampleMs !== undefined ? { firstSampleMs: n.firstSampleMs } : {}),
  };
}

function minMax(rows: Uint32Array): { min: number; max: number } {
  let min = Infinity, max = -Infinity;
  for (const r of rows) (min = Math.min(min, r)), (max = Math.max(max, r));
  return { min, max };
}

/** Writes the report as indented JSON. */
export async function writeReport(file: string, report: RenderReport): Promise<void> {
  await Deno.writeTextFile(file, JSON.stringify(report, null, 2) + "\n");
}
