/**
 * The slave: joins a master over a sealed link, keeps its render data in memory and renders the units it
 * is sent.
 * @module
 */
export { Slave, type SlaveExit, SlaveJoinError, type SlaveOptions } from "./slave.ts";
