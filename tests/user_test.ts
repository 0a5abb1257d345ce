/**
 * What a user meets first with real processes on loopback: a master that keeps its work on Ctrl-C and a
 * time limit, says who joins, leaves and rendered what at the default log level; slaves that wait for
 * their master, stay for the next render, and say what they found at an address that is not a master.
 * Every wait is bounded; every process is killed at the end.
 */
import assert from "node:assert/strict";
import { fakeSlave } from "./_fake_slave.ts";
import {
  assertClose,
  freePort,
  NETS,
  outputsIn,
  processes,
  re,
  readPfm,
  referenceRender,
  type Start,
  startMaster as startHarnessMaster,
  startSlave,
  until,
  withDir,
} from "./_harness.ts";

const SIZE = ["--width", "40", "--height", "32", "--seed", "5"];
/**
 * Where a master listens for a slave started before it: an address of this file's own, never 127.0.0.1,
 * where the waiting slave's own source port could be the master's.
 */
const LATE_HOST = `${NETS.user}.1`;

/** A master rendering `spp` into `dir` (net.png, net.pfm, report.json); no --verbose. */
function startMaster(start: Start, dir: string, spp: number, extra: string[] = [], at?: number) {
  return startHarnessMaster(start, {
    ...(at === undefined ? {} : { bind: LATE_HOST, port: at }),
    args: ["--spp", String(spp), ...SIZE, ...outputsIn(dir), ...extra],
  });
}

Deno.test("Ctrl-C on a master merges the units in flight, writes the image of the samples done, says bye, exits 0", async () => {
  await withDir(async (dir) => {
    await processes(async (start) => {
      const master = await startMaster(start, dir, 1_000_000);
      const slave = startSlave(start, master);
      // the default log level names the slave as it joins
      await master.waitFor(/INFO master: Slave 127\.0\.0\.1:\d+ \(.+\) joined with /);
      await master.waitFor(/Slave 127\.0\.0\.1:\d+ has the render data/);
      await slave.waitFor(/Rendering for 127\.0\.0\.1:\d+: \d+ units?/, 30_000);
      master.kill("SIGINT");
      await master.waitFor(/Stopping: merging the \d+ units? in flight/);
      assert.equal(await master.exit(), 0, master.out);
      assert.equal(await slave.exit(30_000), 0, slave.out);
      assert.match(slave.out, /finished the render; slave exiting/);
      assert.match(master.out, /Rendered [\d.]+ of 1000000 spp \(interrupted\)/);
      assert.match(master.out, /Who rendered what:\n +node +GPU +share +samples\/s\n +local \(master\) /);
      assert.doesNotMatch(master.out, /NaN/);
      const report = JSON.parse(await Deno.readTextFile(`${dir}/report.json`));
      assert.equal(report.interrupted, true);
      // one band (40x32 pixels): every row holds the same whole number of samples, a prefix 0..k-1
      const k = report.samplesPerPixel;
      assert.ok(Number.isInteger(k) && k > 0 && k < 1_000_000, `samples per pixel ${k}`);
      assert.deepEqual(report.rowSamples, { min: k, max: k });
      assert.ok(report.nodes.find((n: { role: string }) => n.role === "slave").samples > 0);
      // the split identity: the interrupted network image is the local render of k samples
      assertClose(await readPfm(`${dir}/net.pfm`), await referenceRender(dir, k, SIZE), 1e-5);
    });
  });
});

Deno.test("--time-limit stops a master as Ctrl-C does", async () => {
  await withDir(async (dir) => {
    await processes(async (start) => {
      const master = await startMaster(start, dir, 1_000_000, ["--time-limit", "1"]);
      assert.equal(await master.exit(60_000), 0, master.out);
      const report = JSON.parse(await Deno.readTextFile(`${dir}/report.json`));
      assert.equal(report.interrupted, true);
      assert.ok(report.samplesPerPixel > 0);
    });
  });
});

Deno.test("a second Ctrl-C quits at once; units that never come are waited for twice the unit timeout", async () => {
  await withDir(async (dir) => {
    await processes(async (start) => {
      // a slave that holds every unit it gets keeps the stopping master waiting
      const holding = async (extra: string[]) => {
        const master = await startMaster(start, dir, 1_000, [
          "--no-local-render",
          "--wait-slaves",
          "1",
          ...extra,
        ]);
        const fake = await fakeSlave({ host: master.host, port: master.port, answer: () => "hold" });
        await until("the slave to get work", 30_000, () => fake.units.length > 0 || undefined, 50);
        return { master, fake };
      };
      const hurried = await holding([]);
      hurried.master.kill("SIGINT");
      await hurried.master.waitFor(/Stopping: merging the 2 units in flight/);
      // a stopping master hands out no work: a slave that comes now is told so, and would try again
      const late = startSlave(start, hurried.master, { args: ["--wait", "0"] });
      assert.equal(await late.exit(30_000), 1, late.out);
      assert.match(late.out, /refused this slave: this master is stopping/);
      hurried.master.kill("SIGINT");
      assert.equal(await hurried.master.exit(), 130, hurried.master.out);
      assert.match(hurried.master.out, /master stopped at once: the render in progress was not written/);
      hurried.fake.close();

      const patient = await holding(["--unit-timeout", "1"]);
      patient.master.kill("SIGTERM");
      assert.equal(await patient.master.exit(30_000), 130, patient.master.out);
      assert.match(patient.master.out, /Gave up waiting for \d+ units in flight after 2 s/);
      assert.match(patient.master.out, /Stopped before any sample was merged: no image written/);
      patient.fake.close();
      await assert.rejects(Deno.stat(`${dir}/net.png`), Deno.errors.NotFound);
    });
  });
});

Deno.test("a slave started before its master waits for it, and with --keep-running stays for the next render", async () => {
  await withDir(async (dir) => {
    await processes(async (start) => {
      const port = freePort([LATE_HOST]);
      // --verbose: each attempt to reach the master is a debug line
      const slave = startSlave(start, `${LATE_HOST}:${port}`, { args: ["--keep-running", "--verbose"] });
      await slave.waitFor(
        new RegExp(`Waiting for master ${re(LATE_HOST)}:\\d+ \\(.*Connection refused.*\\); Ctrl-C stops`),
      );
      await slave.waitFor(/(Master \S+ not there yet[^]*){3}/, 30_000);
      assert.equal(slave.out.match(/Waiting for master/g)?.length, 1, "said once over three attempts");
      for (let round = 1; round <= 2; round++) {
        const mark = slave.out.length;
        const master = await startMaster(
          start,
          dir,
          64,
          ["--wait-slaves", "1", "--no-local-render"],
          port,
        );
        assert.equal(await master.exit(), 0, master.out);
        assert.match(master.out, /Who rendered what:[^]*127\.0\.0\.1 +llvmpipe.* 100\.0%/);
        await slave.waitFor(/finished the render; waiting for the next render/, 30_000, mark);
        const report = JSON.parse(await Deno.readTextFile(`${dir}/report.json`));
        assert.equal(report.nodes.length, 1, `round ${round}: the slave rendered it all`);
      }
      slave.kill("SIGINT");
      assert.equal(await slave.exit(30_000), 0, slave.out);
    });
  });
});

Deno.test("a slave's --wait bounds its wait; at an HTTP server it says so at once", async () => {
  await processes(async (start) => {
    const nobody = `${LATE_HOST}:${freePort([LATE_HOST])}`;
    const slave = startSlave(start, nobody, { args: ["--wait", "1"] });
    assert.equal(await slave.exit(30_000), 1, slave.out);
    assert.match(
      slave.out,
      new RegExp(`octane: No master at ${re(nobody)} within 1 s \\(--wait\\): .*refused`),
    );

    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => new Response("hi"));
    try {
      const lost = startSlave(start, `127.0.0.1:${server.addr.port}`);
      assert.equal(await lost.exit(30_000), 1, lost.out);
      assert.match(lost.out, /is not an octane master: it is an HTTP server: check the address and port/);
    } finally {
      await server.shutdown();
    }
  });
});

Deno.test("a master with no node to render says what it waits for, never NaN, and a stop then writes nothing", async () => {
  await withDir(async (dir) => {
    await processes(async (start) => {
      const master = await startMaster(start, dir, 16, ["--no-local-render", "--wait-slaves", "2"]);
      await master.waitFor(/^waiting for 2 slaves \(0 ready\)$/m, 30_000);
      master.kill("SIGINT");
      assert.equal(await master.exit(), 130, master.out);
      assert.match(master.out, /Stopped before any sample was merged: no image written/);
      assert.doesNotMatch(master.out, /NaN|1 slaves/);
      await assert.rejects(Deno.stat(`${dir}/net.png`), Deno.errors.NotFound);
    });
  });
});

Deno.test("a slave that stops is named with why at the default log level, and the render goes on without it", async () => {
  await withDir(async (dir) => {
    await processes(async (start) => {
      const master = await startMaster(start, dir, 1_000_000);
      const slave = startSlave(start, master);
      await master.waitFor(/Slave 127\.0\.0\.1:\d+ has the render data/);
      await slave.waitFor(/Rendering for 127\.0\.0\.1:\d+/, 30_000);
      slave.kill("SIGINT");
      assert.equal(await slave.exit(), 0, slave.out);
      await master.waitFor(/INFO master: Slave 127\.0\.0\.1:\d+ \(.+\) left: it stopped/);
      master.kill("SIGTERM");
      assert.equal(await master.exit(), 0, master.out);
      assert.match(master.out, /Who rendered what:[^]*\n +127\.0\.0\.1 +llvmpipe/);
    });
  });
});

Deno.test("a --keep-running slave whose GPU cannot render the scene says so and exits, instead of joining again and again", async () => {
  await withDir(async (dir) => {
    await processes(async (start) => {
      const master = await startMaster(start, dir, 16, ["--no-local-render", "--width", "128"]);
      // a row of 128 pixels needs 2 KiB of accumulator: a GPU that binds 1 KiB cannot hold one
      const slave = startSlave(start, master, {
        args: ["--keep-running"],
        env: { OCTANE_DIAG_MAX_BINDING_BYTES: "1024" },
      });
      assert.equal(await slave.exit(30_000), 1, slave.out);
      assert.match(
        slave.out,
        /^octane: this slave's GPU cannot render the scene of master 127\.0\.0\.1:\d+: /m,
      );
      assert.equal(master.out.match(/joined with/g)?.length, 1, "it joined once");
      master.kill("SIGINT");
      assert.equal(await master.exit(), 130, master.out);
    });
  });
});
