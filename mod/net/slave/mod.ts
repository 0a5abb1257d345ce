/**
 * The slave: joins a master, keeps its render data in memory and renders the units it is sent.
 * @module
 */
export { runSlave, type SlaveExit, SlaveJoinError, type SlaveOptions } from "./slave.ts";
