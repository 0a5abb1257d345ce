import { PROBE_TIMEOUT_MS, SCAN_CONCURRENCY } from "../net/defaults.ts";
import { type DaemonEntry, DaemonPool, type EnableRule, type Subnet } from "../net/discovery/mod.ts";
import type { NodeInfo } from "../net/master/mod.ts";

/** Where and how a master looks for daemons (`--net`, `--subnet`, `--enable`...). */
export interface DiscoverySettings {
  /** Subnets to scan. */
  subnets: Subnet[];
  /** The daemons' port. */
  daemonPort: number;
  /** Seconds between scans. */
  interval: number;
  /** Which daemons found start a slave for this master. */
  enable: EnableRule;
}

/** Starts scanning for daemons for the master on `masterPort`; `onChange` hears of every change of the list. */
export function startPool(
  settings: DiscoverySettings,
  o: {
    masterPort: number;
    bind: string;
    key?: Uint8Array | undefined;
    heartbeatTimeout: number;
    onChange?: ((entries: readonly DaemonEntry[]) => void) | undefined;
  },
): DaemonPool {
  const pool = new DaemonPool({
    ...settings,
    masterPort: o.masterPort,
    // slaves join the address the master listens on, where it is one address
    ...(o.bind !== "0.0.0.0" && o.bind !== "::" ? { masterAddress: o.bind } : {}),
    ...(o.key ? { key: o.key } : {}),
    timeoutMs: PROBE_TIMEOUT_MS,
    concurrency: SCAN_CONCURRENCY,
    heartbeatTimeout: o.heartbeatTimeout,
  });
  if (o.onChange) pool.onChange = o.onChange;
  pool.start();
  return pool;
}

/** The daemon that started a slave (it reported the slave's pid, on the same host), if any. */
export function daemonOf(pool: DaemonPool | undefined, node: NodeInfo): string | undefined {
  if (node.pid === undefined || !pool) return undefined;
  return pool.daemons.find((e) =>
    e.pids.includes(node.pid!) && e.report.kind === "daemon" && e.report.status.host === node.host
  )?.address;
}
