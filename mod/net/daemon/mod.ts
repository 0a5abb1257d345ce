/**
 * The daemon: the resident helper of a slave machine that masters find by scanning, which starts and
 * stops a slave for one master at a time and watches its heartbeat.
 * @module
 */
export {
  Daemon,
  DAEMON_TOKEN_ENV,
  type DaemonOptions,
  type DaemonState,
  type DaemonStatus,
} from "./daemon.ts";
export { describeFacts, parseFacts, probeSlave, type SlaveFacts } from "./facts.ts";
export { connectWatch, type WatchLink } from "./watch.ts";
