import assert from "node:assert/strict";
import { Daemon } from "../daemon/daemon.ts";
import { MISSED_SCANS } from "../defaults.ts";
import { DaemonPool } from "./pool.ts";
import { parseSubnet } from "./subnet.ts";

const FACTS = {
  version: "0.0.0",
  protocol: 0,
  host: "test",
  os: "linux",
  arch: "x86_64",
  bits: 64,
  gpus: [],
};

Deno.test("a daemon that misses one scan stays listed; one that misses two in a row leaves the list", async () => {
  const daemon = Daemon.listen(FACTS, { bind: "127.0.0.2", port: 0, command: ["/no/such/octane"] });
  const serving = daemon.serve();
  const pool = new DaemonPool({
    subnets: [parseSubnet("127.0.0.2/32")],
    daemonPort: daemon.port,
    masterPort: 1,
    interval: 60,
    enable: "none",
    concurrency: 1,
    timeoutMs: 1000,
  });
  try {
    await pool.scanOnce();
    assert.deepEqual(pool.daemons.map((e) => e.address), ["127.0.0.2"]);
    await daemon.close();
    await serving;
    for (let scan = 1; scan < MISSED_SCANS; scan++) {
      await pool.scanOnce();
      assert.deepEqual(
        pool.daemons.map((e) => e.address),
        ["127.0.0.2"],
        `dropped after ${scan} missed scan`,
      );
    }
    await pool.scanOnce();
    assert.deepEqual(pool.daemons, []);
  } finally {
    await pool.close();
  }
});
