/**
 * The protocol fuzzer's short pass (tools/fuzz.ts; `deno task fuzz` runs the long one): seeded random and
 * mutated frames for every role in every state, before and after the handshake. Every target keeps
 * serving, answers a real peer afterwards, and its memory stays bounded.
 */
import assert from "node:assert/strict";
import { toHex } from "../mod/bytes.ts";
import { openGpu } from "../mod/gpu/mod.ts";
import { Link } from "../mod/net/protocol/mod.ts";
import {
  DAEMON_READS,
  fuzzDaemon,
  fuzzMaster,
  fuzzServer,
  fuzzSlave,
  MASTER_READS,
  Random,
} from "../tools/fuzz.ts";
import { NETS, octane } from "./_harness.ts";

const FRAMES = 4000;
/** The in-process daemon's address: this file's own (see NETS). */
const DAEMON = `${NETS.fuzz}.2`;
const rss = () => Deno.memoryUsage().rss;

Deno.test(`fuzz the master with ${FRAMES} frames (seed 11); a real slave then joins and the render finishes`, async () => {
  const key = crypto.getRandomValues(new Uint8Array(32));
  const before = rss();
  const { master, done } = fuzzMaster(key, 0);
  try {
    const c = await fuzzServer(master.port, {
      service: "render",
      types: MASTER_READS,
      key,
      frames: FRAMES,
      random: new Random(11),
    });
    assert.equal(c.frames, FRAMES);
    assert.ok(rss() - before < 300 * 2 ** 20, `RSS grew by ${((rss() - before) / 2 ** 20).toFixed(0)} MiB`);
    const dir = await Deno.makeTempDir({ prefix: "octane-fuzz-" });
    try {
      await Deno.writeTextFile(
        `${dir}/key`,
        toHex(key),
        {
          mode: 0o600,
        },
      );
      const slave = octane(["slave", "--master", `127.0.0.1:${master.port}`, "--key-file", `${dir}/key`]);
      const result = await done;
      assert.ok(result, "the render finished");
      assert.equal(await slave.exit(60_000), 0, slave.out);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  } finally {
    master.close();
    await done;
  }
});

Deno.test(`fuzz the daemon and its heartbeat service with ${FRAMES} frames (seeds 12, 13); it answers a probe afterwards`, async () => {
  const key = crypto.getRandomValues(new Uint8Array(32));
  const before = rss();
  const { daemon, done } = fuzzDaemon(key, DAEMON);
  try {
    for (const [service, seed] of [["daemon", 12], ["watch", 13]] as const) {
      const c = await fuzzServer(daemon.port, {
        service,
        types: DAEMON_READS,
        key,
        frames: FRAMES / 2,
        random: new Random(seed),
        host: DAEMON,
      });
      assert.equal(c.frames, FRAMES / 2);
    }
    assert.ok(rss() - before < 300 * 2 ** 20, `RSS grew by ${((rss() - before) / 2 ** 20).toFixed(0)} MiB`);
    const link = await Link.connect(DAEMON, daemon.port, { service: "daemon", key });
    await link.send("probe", { version: "test", host: "test", port: 1, address: "127.0.0.1" });
    assert.equal((await link.receive())?.type, "status");
    link.close();
  } finally {
    await daemon.close();
    await done;
  }
});

Deno.test(`fuzz the slave with ${FRAMES / 10} frames over many sessions (seed 14): each ends with a reason, none hangs`, async () => {
  const key = crypto.getRandomValues(new Uint8Array(32));
  const gpu = await openGpu();
  try {
    const c = await fuzzSlave(gpu, { key, frames: FRAMES / 10, random: new Random(14) });
    assert.equal(c.frames, FRAMES / 10);
    assert.ok(c.connections > 10, `${c.connections} sessions`);
    assert.deepEqual(Object.keys(c.outcomes).filter((k) => k !== "lost" && k !== "finished"), []);
  } finally {
    gpu.device.destroy();
  }
});
