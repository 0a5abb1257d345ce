/**
 * The master: listens for slaves, sends them render data, hands out work and merges their samples.
 * @module
 */
export { Master, type MasterOptions, type MasterResult, type NodeInfo } from "./master.ts";
export { Scheduler, type WorkUnit } from "./scheduler.ts";
