/**
 * The daemon: the resident helper of a slave machine that masters find by scanning, which starts and
 * stops a slave for one master at a time and watches its heartbeat.
 * @module
 */
export { Daemon, type DaemonOptions, type DaemonStatus } from "./daemon.ts";
export { DAEMON_TOKEN_ENV } from "./_slave_process.ts";
export { describeFacts, parseFacts, probeSlave, type SlaveFacts } from "./facts.ts";
export { connectWatch, type WatchLink } from "./watch.ts";
