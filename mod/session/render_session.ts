import { hostname } from "node:os";
import type { AdapterSummary } from "../gpu/mod.ts";
import { newNode } from "../net/master/mod.ts";
import { cameraAspect, renderDataHash } from "../render_data/mod.ts";
import type { Denoiser } from "../denoise/mod.ts";
import {
  aovMeans,
  type LocalRenderResult,
  meanImage,
  renderLocal,
  type RenderProgress,
} from "../render/mod.ts";
import type { Camera } from "../scene/mod.ts";
import { openDevices } from "./devices.ts";
import { imageSize } from "./image.ts";
import { type OutputFiles, wantsAovs, writeImages, writeReportFile, writtenFiles } from "./outputs.ts";
import { buildReport, type DenoiseReport, type RenderReport } from "./report.ts";
import { openScene } from "./scene.ts";
import { StopPolicy } from "./stop.ts";
import type { ImageJob } from "./job.ts";

/** What `octane render` asks of a render session. */
export interface RenderSessionOptions extends ImageJob {
  /** Listen to Ctrl-C and SIGTERM (default true). */
  signals?: boolean;
}

/** The render about to start, for the CLI's first line. */
export interface RenderStart {
  /** The scene as given. */
  scene: string;
  /** Its triangles. */
  triangles: number;
  /** Image width. */
  width: number;
  /** Image height. */
  height: number;
  /** Samples per pixel asked for. */
  spp: number;
  /** The GPU that renders. */
  gpu: AdapterSummary;
  /** The camera, in full precision. */
  camera: Camera;
}

/** What a render session tells while it runs. */
export interface RenderEvents {
  /** The scene is open and the GPU ready: rendering starts. */
  started?(start: RenderStart): void;
  /** After every batch. */
  progress?(progress: RenderProgress): void;
}

/** A finished render session. */
export interface RenderOutcome {
  /** The report (written where --report asked). */
  report: RenderReport;
  /** Why it ended before its target, if it did. */
  stopped?: "interrupted" | "time limit";
  /** The files written, in the order the CLI names them. */
  written: string[];
}

/**
 * `octane render` as a session: opens the scene, the GPU and the denoiser, renders until done, the time limit
 * or Ctrl-C (the stop policy: one Ctrl-C stops after the batch in flight), writes the outputs and the report.
 * @throws {SceneNotFoundError} {CameraNotFoundError} {ImageTooLargeError} {DenoiseWeightsError} before any work
 */
export async function runRender(
  options: RenderSessionOptions,
  events: RenderEvents = {},
): Promise<RenderOutcome> {
  const { spp, seed, maxDepth, files } = options;
  const aovs = wantsAovs(files);
  const opened = await openScene(options.scene);
  const { data } = opened;
  const { width, height } = imageSize(options, cameraAspect(data));
  const { gpu, denoiser } = await openDevices({
    render: true,
    width,
    height,
    role: "render",
    aovs,
    denoise: files.denoise === true,
  });
  events.started?.({
    scene: options.scene.name,
    triangles: data.stats.triangles,
    width,
    height,
    spp,
    gpu: gpu!.summary,
    camera: opened.camera,
  });
  const stop = new StopPolicy({ stop: () => {}, signals: options.signals ?? true });
  let result;
  try {
    result = await renderLocal(gpu!, data, {
      spp,
      width,
      height,
      seed,
      maxDepth,
      aovs,
      timeLimit: options.timeLimit,
      signal: stop.signal,
      ...(events.progress ? { onProgress: events.progress } : {}),
    });
  } finally {
    stop.close();
  }
  const denoise = await writeRenderImages(files, result, { width, height, denoiser });
  const report = buildReport({
    scene: options.scene.name,
    sceneHash: renderDataHash(data),
    width,
    height,
    seed,
    sppTarget: spp,
    elapsedMs: result.elapsedMs,
    interrupted: stop.stopping,
    nodes: [{ ...newNode("local", hostname(), [result.gpu]), samples: result.samples * width * height }],
    local: { setupMs: result.setupMs, rays: result.rays },
    ...(denoise ? { denoise } : {}),
  });
  await writeReportFile(files, report);
  const stopped = stop.stopping ? "interrupted" : result.samples < spp ? "time limit" : undefined;
  return { report, ...(stopped ? { stopped } : {}), written: writtenFiles(files) };
}

/** The render's mean image and AOVs, written (denoised first with a denoiser, which is closed after). */
async function writeRenderImages(
  files: OutputFiles,
  result: LocalRenderResult,
  o: { width: number; height: number; denoiser?: Denoiser | undefined },
): Promise<DenoiseReport | undefined> {
  const { width, height, denoiser } = o;
  const image = meanImage(result.sums, result.samples, width, height);
  const aovs = result.aovs ? aovMeans(result.aovs, result.samples, width, height) : undefined;
  try {
    return await writeImages(files, image, { aovs, denoiser });
  } finally {
    await denoiser?.close();
  }
}
