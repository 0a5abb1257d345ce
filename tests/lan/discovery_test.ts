/**
 * `octane master --net` as a user runs it on a LAN: no --subnet, the master scans its own interface's /24
 * (a namespace LAN's, where nothing else answers and no route leads out), finds the daemons, enables them,
 * and the image equals the local render. Every process runs inside a host of the LAN.
 */
import assert from "node:assert/strict";
import { assertClose, makeKey, outputsIn, readPfm, referenceRender, withDir } from "../_harness.ts";
import { withLan } from "./_lan.ts";

const SIZE = ["--width", "40", "--height", "32", "--seed", "3"];
const re = (address: string) => address.replaceAll(".", "\\.");

Deno.test("master --net with no --subnet finds the daemons on its own /24 within two scan intervals, and the image equals a local render", async () => {
  await withDir(async (dir) => {
    const spp = 64;
    const key = `${dir}/farm.key`;
    await makeKey(key);
    const ref = await referenceRender(dir, spp, SIZE);
    await withLan(3, {}, async (lan, start) => {
      const [m, ...hosts] = lan.hosts;
      const daemons = hosts.map((h) => start(h, ["daemon", "--key-file", key]));
      for (const d of daemons) await d.waitFor(/Daemon listening on 0\.0\.0\.0:48000/, 120_000);
      const interval = 3;
      const master = start(m!, [
        "master",
        "--net",
        "--key-file",
        key,
        "--scan-interval",
        String(interval),
        "--wait-slaves",
        "2",
        "--spp",
        String(spp),
        ...SIZE,
        ...outputsIn(dir),
      ]);
      await master.waitFor(/Master listening on/);
      const t0 = performance.now();
      const [a, b] = hosts.map((h) => re(h.address));
      await master.waitFor(new RegExp(`Scanning ${re(lan.subnet)} \\(254 addresses\\)`), 10_000);
      await master.waitFor(
        new RegExp(`${a} .*(available|enabled)[^\\n]*\\n\\s+${b} .*(available|enabled)`),
        30_000,
      );
      const found = (performance.now() - t0) / 1000;
      assert.ok(found < 2 * interval, `daemons listed ${found.toFixed(2)} s after the master started`);
      await master.waitFor(
        new RegExp(`${a} .*enabled, slave pid \\d+[^\\n]*\\n\\s+${b} .*enabled, slave pid \\d+`),
      );
      assert.equal(await master.exit(), 0, master.out);
      assertClose(await readPfm(`${dir}/net.pfm`), ref, 1e-5);

      // each slave is named by its real LAN address, in the report and in the table
      const report = JSON.parse(await Deno.readTextFile(`${dir}/report.json`));
      const slaves = report.nodes.filter((n: { role: string }) => n.role === "slave");
      const addresses = hosts.map((h) => h.address);
      assert.deepEqual(slaves.map((n: { daemon: string }) => n.daemon).sort(), addresses);
      for (const n of slaves) {
        assert.equal(n.address.replace(/:\d+$/, ""), n.daemon, "a slave's address is its daemon's host");
        assert.ok(n.samples > 0, `the slave on ${n.daemon} contributed nothing`);
      }
      for (const address of addresses) {
        assert.match(master.out, new RegExp(`^\\s+${re(address)} \\(daemon ${re(address)}\\)\\s`, "m"));
      }
      assert.doesNotMatch(master.out, /127\.0\.0\.1:\d+ \(daemon/, "a slave was named by a loopback address");
    });
  });
});
