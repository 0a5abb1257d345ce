/**
 * The master's live view: a web page (and a small JSON API) showing the image as it converges, the nodes,
 * the daemons and the log, with the camera and the render's controls.
 * @module
 */
export { type LogLine, LogRing, recentLog } from "./log_ring.ts";
export { type Film, previewPng } from "./_preview.ts";
export {
  LIVE_VIEW_PORT,
  type LiveSource,
  type LiveView,
  type LiveViewOptions,
  newToken,
  serveLiveView,
} from "./server.ts";
