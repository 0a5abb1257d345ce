/**
 * The session layer between the command line and the engine: a render or a master session opens the GPU and
 * the denoiser, owns the stop policy, writes the outputs and builds the one report; the CLI parses flags
 * into its typed options and prints what it reports.
 * @module
 */
export { IMAGE_DEFAULTS, IMAGE_LIMITS, type ImageSettings, imageSize } from "./image.ts";
export type { ImageJob } from "./job.ts";
export { applyCameraOverrides, type CameraOverrides, overridesAny, targetDistance } from "./camera.ts";
export { type OpenedScene, openScene, type SceneRequest } from "./scene.ts";
export { type DeviceRequest, type Devices, openDevices } from "./devices.ts";
export {
  denoiseWords,
  type OutputDenoiser,
  type OutputFiles,
  rawPath,
  wantsAovs,
  writeImages,
  writeReportFile,
  writtenFiles,
} from "./outputs.ts";
export {
  buildReport,
  type DenoiseReport,
  type NodeReport,
  type RenderReport,
  type ReportFacts,
  writeReport,
} from "./report.ts";
export {
  type RenderEvents,
  type RenderOutcome,
  type RenderSessionOptions,
  type RenderStart,
  runRender,
} from "./render_session.ts";
export { onStopSignals, STOP_SIGNALS, StopPolicy, type StopPolicyOptions, type StopSource } from "./stop.ts";
export { daemonOf, type DiscoverySettings, startPool } from "./discovery.ts";
export { type DenoiseFilm, PreviewDenoiser, type PreviewDenoiseStatus } from "./live_denoise.ts";
export { type LiveContext, liveFilm, liveSource, liveStatus } from "./live_source.ts";
export { MasterSession } from "./master_session.ts";
export {
  type MasterEvents,
  type MasterRender,
  type MasterSessionOptions,
  type MasterStatus,
} from "./master_options.ts";
export { SceneWatchError, watchScene } from "./watch.ts";
