/**
 * The master: listens for slaves on sealed links, sends them render data, hands out work and merges their
 * samples.
 * @module
 */
export { Master, type MasterOptions, type MasterResult, type RunOptions } from "./master.ts";
export { newNode, type NodeInfo } from "./node.ts";
export { Scheduler, type WorkUnit } from "./scheduler.ts";
