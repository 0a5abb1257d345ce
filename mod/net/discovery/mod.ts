/**
 * Discovery: masters find daemons by scanning IPv4 subnets on the daemon port, list them, and enable the
 * wanted ones (each then runs a slave that joins the master).
 * @module
 */
export { type DaemonEntry, DaemonPool, describeEntry, type EnableRule, type PoolOptions } from "./pool.ts";
export { type DaemonReport, probeDaemon, type ProbeOptions, type ProbeResult, scanDaemons } from "./probe.ts";
export {
  interfaceSubnets,
  MIN_PREFIX,
  parseSubnet,
  scanTargets,
  type Subnet,
  subnetHosts,
} from "./subnet.ts";
