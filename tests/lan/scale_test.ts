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
  until,
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
      // --keep-open: the master, its slaves and its scans stay up after the render until Ctrl-C, so the test
      // waits for a listing of every daemon instead of racing the first scan's probes (each has a 1 s
      // deadline, which a daemon on these loaded cores can miss once; scans repeat every 5 s)
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
        "--keep-open",
        "--spp",
        String(spp),
        ...SIZE,
        ...outputsIn(dir),
      ], { LP_NUM_THREADS: "1" });
      await master.waitFor(new RegExp(`Rendered ${spp} spp`), 180_000);
      assertClose(await readPfm(`${dir}/net.pfm`), ref, 1e-5);
      const report = JSON.parse(await Deno.readTextFile(`${dir}/report.json`));
      assert.equal(
        report.nodes.reduce((s: number, n: { samples: number }) => s + n.samples, 0),
        spp * 40 * 32,
        "every sample exactly once",
      );
      const slaves = report.nodes.filter((n: { role: string }) => n.role === "slave");
      assert.deepEqual(slaves.map((n: { daemon: string }) => n.daemon).sort(), enabled.sort());
      // a daemon list that names all of them, the enabled ones with their slaves
      const listed = (block: string) => block.split("\n").filter((l) => /^ {2}10\.213\.[\d.]+ {2}/.test(l));
      const enabledIn = (lines: string[]) => lines.filter((l) => /enabled, slave pid/.test(l)).length;
      const full = await until(
        "a daemon list naming all the daemons, the enabled ones with a slave",
        90_000,
        () =>
          master.out.split("Daemons on port 48000:\n").slice(1).map(listed).find((l) =>
            l.length === DAEMONS && enabledIn(l) === SLAVES
          ),
      ).catch((error: unknown) => {
        throw new Error(`${error instanceof Error ? error.message : error}; master output:\n${master.out}`);
      });
      assert.equal(full.length, DAEMONS);
      // every link held through the render and the listing (the Ctrl-C below ends them all)
      assert.doesNotMatch(master.out, /Slave \S+ \(\S+\) left: (?!the render is done)/, "a link was lost");
      master.kill("SIGINT");
      assert.equal(await master.exit(60_000), 0, master.out);
    });
  });
});
