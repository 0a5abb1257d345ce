/**
 * Scale on a namespace LAN: 64 daemons on their own hosts, 16 of them enabled, so 16 slaves render one
 * image with the master. Slaves share this machine's cores (one llvmpipe thread each, a small image).
 */
import assert from "node:assert/strict";
import {
  assertClose,
  makeKey,
  outputsIn,
  readPfm,
  referenceRender,
  type Running,
  withDir,
} from "../_harness.ts";
import { withLan } from "./_lan.ts";

const SIZE = ["--width", "40", "--height", "32", "--seed", "9"];
const DAEMONS = 64;
const SLAVES = 16;

Deno.test(`${DAEMONS} daemons listed and ${SLAVES} slaves enabled: every link held, the merge exact`, async () => {
  await withDir(async (dir) => {
    const spp = 128;
    const key = `${dir}/farm.key`;
    await makeKey(key);
    const ref = await referenceRender(dir, spp, SIZE);
    await withLan(1 + DAEMONS, {}, async (lan, start) => {
      const [m, ...hosts] = lan.hosts;
      const daemons: Running[] = [];
      // started eight at a time: each start is a Deno start-up and a slave probe on the shared cores
      for (let i = 0; i < hosts.length; i += 8) {
        const batch = hosts.slice(i, i + 8).map((h) =>
          start(h, ["daemon", "--key-file", key], { LP_NUM_THREADS: "1" })
        );
        for (const d of batch) await d.waitFor(/Daemon listening on/, 120_000);
        daemons.push(...batch);
      }
      const enabled = hosts.slice(0, SLAVES).map((h) => h.address);
      const master = start(m!, [
        "master",
        "--net",
        "--key-file",
        key,
        "--enable",
        enabled.join(","),
        "--wait-slaves",
        String(SLAVES),
        "--scan-interval",
        "5",
        "--spp",
        String(spp),
        ...SIZE,
        ...outputsIn(dir),
      ], { LP_NUM_THREADS: "1" });
      assert.equal(await master.exit(180_000), 0, master.out);
      assertClose(await readPfm(`${dir}/net.pfm`), ref, 1e-5);
      const report = JSON.parse(await Deno.readTextFile(`${dir}/report.json`));
      assert.equal(
        report.nodes.reduce((s: number, n: { samples: number }) => s + n.samples, 0),
        spp * 40 * 32,
        "every sample exactly once",
      );
      const slaves = report.nodes.filter((n: { role: string }) => n.role === "slave");
      assert.deepEqual(slaves.map((n: { daemon: string }) => n.daemon).sort(), enabled.sort());
      assert.doesNotMatch(master.out, /Slave \S+ \(\S+\) left: (?!the render is done)/, "a link was lost");
      // the last daemon list names all of them
      const lists = master.out.split("Daemons on port 48000:\n");
      const last = lists.at(-1)!.split("\n").filter((l) => /^ {2}10\.213\.[\d.]+ {2}/.test(l));
      assert.equal(last.length, DAEMONS, lists.at(-1));
      assert.equal(last.filter((l) => /enabled, slave pid/.test(l)).length, SLAVES, lists.at(-1));
    });
  });
});
