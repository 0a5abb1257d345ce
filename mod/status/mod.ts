/**
 * Status display: the live progress line, the nodes of a network render, and number formatting.
 * @module
 */
export {
  formatDuration,
  formatRate,
  StatusLine,
  type StatusLineOptions,
  type StatusSink,
} from "./progress.ts";
export { nodeNames, nodeRates, type NodeView, plural, sharesTable } from "./nodes.ts";
