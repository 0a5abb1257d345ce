/**
 * Links that fail on a namespace LAN: a slave's cable pulled for longer than the heartbeat timeout, the
 * master's cable pulled, and a host that dies with its daemon inside. Renders still equal a local render.
 */
import assert from "node:assert/strict";
import { assertClose, gone, makeKey, outputsIn, readPfm, referenceRender, withDir } from "../_harness.ts";
import { withLan } from "./_lan.ts";

const SIZE = ["--width", "40", "--height", "32", "--seed", "5"];
const SPP = 320;
const TIMEOUT = 3;
const re = (address: string) => address.replaceAll(".", "\\.");

/** The master's flags for a render on the LAN with `spp`, writing into `dir`. */
const masterArgs = (key: string, dir: string, spp: number, extra: string[] = []) => [
  "master",
  "--net",
  "--key-file",
  key,
  "--scan-interval",
  "2",
  "--heartbeat-timeout",
  String(TIMEOUT),
  "--verbose",
  "--spp",
  String(spp),
  ...SIZE,
  ...outputsIn(dir),
  ...extra,
];

Deno.test("a slave's cable pulled past the heartbeat timeout: its units go back, it rejoins when plugged in, the image equals local; the master's cable pulled: the daemon stops its slave", async () => {
  await withDir(async (dir) => {
    const key = `${dir}/farm.key`;
    await makeKey(key);
    const ref = await referenceRender(dir, SPP, SIZE);
    await withLan(2, {}, async (lan, start) => {
      const [m, a] = lan.hosts;
      const daemon = start(a!, ["daemon", "--key-file", key, "--heartbeat-timeout", String(TIMEOUT)]);
      await daemon.waitFor(/Daemon listening on/, 120_000);
      // only the slave renders: while it is cut off nothing moves, so work is left for its return
      const master = start(m!, masterArgs(key, dir, SPP, ["--no-local-render"]));
      const A = re(a!.address);
      await master.waitFor(new RegExp(`First samples from slave ${A}:\\d+ merged`), 60_000);
      await lan.linkDown(a!);
      const left = await master.waitFor(
        new RegExp(`Slave ${A}:\\d+ \\(\\S+\\) left: [^\\n]*; (\\d+) of its units go to other nodes`),
        (TIMEOUT + 5) * 1000,
      );
      assert.ok(Number(left[1]) > 0);
      await master.waitFor(new RegExp(`Daemon ${A} is no longer enabled: lost`), (TIMEOUT + 5) * 1000);
      // stay cut off past the timeout on both ends, until the daemon lets go of this master too
      await daemon.waitFor(/Released master /, (TIMEOUT + 5) * 1000);
      const mark = master.out.length;
      await lan.linkUp(a!);
      await master.waitFor(new RegExp(`Slave ${A}:\\d+ \\(\\S+\\) joined`), 30_000, mark);
      assert.equal(await master.exit(60_000), 0, master.out);
      assertClose(await readPfm(`${dir}/net.pfm`), ref, 1e-5);
      const report = JSON.parse(await Deno.readTextFile(`${dir}/report.json`));
      assert.equal(
        report.nodes.reduce((s: number, n: { samples: number }) => s + n.samples, 0),
        SPP * 40 * 32,
        "every sample exactly once",
      );
      const slaves = report.nodes.filter((n: { role: string }) => n.role === "slave");
      assert.equal(slaves.length, 2, "the first slave and the one started after the link came back");
      for (const s of slaves) assert.equal(s.address.replace(/:\d+$/, ""), a!.address);
      assert.ok(slaves[1].samples > 0, "the slave that rejoined contributed nothing");

      // the master's cable pulled: the daemon gives up on it after its timeout and stops the slave
      const second = start(m!, masterArgs(key, `${dir}`, 1_000_000, ["--no-local-render"]));
      const pid = Number((await second.waitFor(new RegExp(`${A} .*enabled, slave pid (\\d+)`), 60_000))[1]);
      const dmark = daemon.out.length;
      await lan.linkDown(m!);
      const t0 = performance.now();
      await daemon.waitFor(
        new RegExp(`Released master .*stopping slave ${pid}`),
        (TIMEOUT + 5) * 1000,
        dmark,
      );
      await daemon.waitFor(/Available again/, 10_000, dmark);
      assert.ok(await gone(pid, 10_000), `slave ${pid} still runs`);
      const took = (performance.now() - t0) / 1000;
      assert.ok(took < TIMEOUT + 3 + 3, `the daemon took ${took.toFixed(1)} s to stop its slave`);
      await lan.linkUp(m!);
    });
  });
});

Deno.test("a host that dies with its daemon inside: the master marks it lost and the render finishes, equal to local", async () => {
  await withDir(async (dir) => {
    const key = `${dir}/farm.key`;
    await makeKey(key);
    const ref = await referenceRender(dir, SPP, SIZE);
    await withLan(3, {}, async (lan, start) => {
      const [m, a, b] = lan.hosts;
      const daemons = [a!, b!].map((h) => start(h, ["daemon", "--key-file", key]));
      for (const d of daemons) await d.waitFor(/Daemon listening on/, 120_000);
      const master = start(m!, masterArgs(key, dir, SPP, ["--no-local-render", "--wait-slaves", "2"]));
      const B = re(b!.address);
      await master.waitFor(new RegExp(`First samples from slave ${B}:\\d+ merged`), 60_000);
      await lan.kill(b!);
      await master.waitFor(
        new RegExp(`Daemon ${B} is no longer enabled: lost: no heartbeat for ${TIMEOUT} s`),
        20_000,
      );
      await master.waitFor(new RegExp(`Slave ${B}:\\d+ \\(\\S+\\) left`), 20_000);
      assert.equal(await master.exit(60_000), 0, master.out);
      assertClose(await readPfm(`${dir}/net.pfm`), ref, 1e-5);
      assert.match(master.out, new RegExp(`${B} .*lost: no heartbeat for ${TIMEOUT} s`));
    });
  });
});
