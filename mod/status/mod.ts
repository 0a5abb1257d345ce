/**
 * Status display: the live progress line and number formatting.
 * @module
 */
export {
  formatDuration,
  formatRate,
  StatusLine,
  type StatusLineOptions,
  type StatusSink,
} from "./progress.ts";
