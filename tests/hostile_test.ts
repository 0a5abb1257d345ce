/**
 * Peers that hold the farm key but misbehave: poisoned, oversized, duplicate and foreign results, lies about
 * timing, early and repeated `ready`, units held without an answer; a master whose render data is a zip bomb
 * or other bytes than it claims. The render finishes and the image still equals a local render. Real
 * master and slave processes on loopback; the hostile peers are this test process.
 */
import assert from "node:assert/strict";
import { zstdCompressSync } from "node:zlib";
import { openGpu } from "../mod/gpu/mod.ts";
import { encodeSection, Link } from "../mod/net/protocol/mod.ts";
import { VERSION } from "../mod/version.ts";
import { compileScene, renderDataSections } from "../mod/render_data/mod.ts";
import { cornellBox } from "../mod/scene/mod.ts";
import { serveCrafted, zstdBomb } from "./_fake_master.ts";
import { fakeSlave, filled } from "./_fake_slave.ts";
import {
  assertClose,
  freePort,
  makeKey,
  NETS,
  outputsIn,
  processes,
  re,
  readPfm,
  referenceRender,
  type Start,
  startMaster as startHarnessMaster,
  startSlave,
  withDir,
} from "./_harness.ts";

const SIZE = ["--width", "40", "--height", "32", "--seed", "3"];
/**
 * Where the crafted masters and then an honest one listen for a slave started before them: an address of
 * this file's own, never 127.0.0.1, where the waiting slave's own source port could be the master's.
 */
const CRAFTED_HOST = `${NETS.hostile}.1`;
const keyed = (dir: string) => makeKey(`${dir}/key`);

/** A keyed master on 127.0.0.1 (on `port` when given) rendering `spp` into `dir`, verbose. */
async function startMaster(start: Start, dir: string, spp: number, extra: string[] = [], port?: number) {
  const master = await startHarnessMaster(start, {
    ...(port === undefined ? {} : { bind: CRAFTED_HOST, port }),
    args: [
      "--spp",
      String(spp),
      ...SIZE,
      "--key-file",
      `${dir}/key`,
      ...outputsIn(dir),
      "--verbose",
      ...extra,
    ],
  });
  return { master, port: master.port };
}

Deno.test("poisoned, oversized, duplicate and foreign results and early ready are refused; the image equals a local render", async () => {
  await withDir(async (dir) => {
    const key = await keyed(dir);
    const spp = 256;
    const ref = await referenceRender(dir, spp, SIZE);
    await processes(async (start) => {
      // --wait-slaves 3: three early or repeated `ready`s from one peer must not start the render
      const { master, port } = await startMaster(start, dir, spp, [
        "--wait-slaves",
        "3",
        "--wait-timeout",
        "20",
      ]);
      const at = { host: "127.0.0.1", port, key };
      let n = 0;
      const poison = await fakeSlave({
        ...at,
        earlyReady: 3,
        readyCount: 3,
        // NaN, +Inf, negative sums, each claiming it took no time
        answer: (u, w) => [{ sums: filled(u, w, [NaN, Infinity, -1][n++ % 3]!), seconds: 0 }],
      });
      const oversized = await fakeSlave({
        ...at,
        answer: (u, w) => [{ sums: new Float32Array(u.height * w * 3 + 3) }],
      });
      const liar = await fakeSlave({
        ...at,
        // a result for a job it does not hold, then its own unit poisoned, twice
        answer: (u, w) => [
          { sums: filled(u, w, 0.5), job: u.job + 1000 },
          { sums: filled(u, w, NaN) },
          { sums: filled(u, w, NaN) },
        ],
      });

      assert.equal(await master.exit(180_000), 0, master.out);
      for (const f of [poison, oversized, liar]) f.close();
      // each slave is counted ready once, after its render data went out, however often it says so
      const readies = master.out.split("\n").filter((l) =>
        /has the render data and starts rendering/.test(l)
      );
      assert.equal(readies.length, 3, master.out);
      for (const line of readies) {
        const peer = /Slave (\S+) has/.exec(line)![1]!;
        assert.ok(
          master.out.indexOf(`on the wire) to ${peer}`) < master.out.indexOf(line),
          `${peer} counted before its upload`,
        );
      }
      assert.match(
        master.out,
        /Refused a result of slave 127\.0\.0\.1:\d+ \(1 of 3\): a value is not finite \(NaN\)/,
      );
      assert.match(master.out, /Refused a result of slave 127\.0\.0\.1:\d+ \(\d of 3\): a value is negative/);
      assert.match(
        master.out,
        /Refused a result of slave 127\.0\.0\.1:\d+ \(\d of 3\): a result for unit \d+, never given it/,
      );
      assert.match(
        master.out,
        /Refused a result of slave 127\.0\.0\.1:\d+ \(\d of 3\): unit \d+ answered twice/,
      );
      assert.match(
        master.out,
        /Refused a result of slave 127\.0\.0\.1:\d+ \(\d of 3\): result data (holds \d+ bytes, not \d+|is not valid zstd)/,
      );
      assert.match(master.out, /Dropping slave 127\.0\.0\.1:\d+: 3 bad results/);
      assertClose(await readPfm(`${dir}/net.pfm`), ref, 1e-5);
      const report = JSON.parse(await Deno.readTextFile(`${dir}/report.json`));
      const fakes = report.nodes.filter((x: { host: string }) => x.host === "fake");
      assert.ok(fakes.length >= 1);
      for (const f of fakes) assert.equal(f.samples, 0, "a hostile slave's samples were merged");
    });
  });
});

Deno.test("a slave that takes units and never answers cannot stall the render: overdue units go to another node", async () => {
  await withDir(async (dir) => {
    const key = await keyed(dir);
    const spp = 128;
    const ref = await referenceRender(dir, spp, SIZE);
    await processes(async (start) => {
      const { master, port } = await startMaster(start, dir, spp, [
        "--wait-slaves",
        "1",
        "--unit-timeout",
        "2",
      ]);
      const holder = await fakeSlave({ host: "127.0.0.1", port, key, answer: () => "hold" });
      assert.equal(await master.exit(180_000), 0, master.out);
      holder.close();
      assert.ok(holder.units.length > 0, "the holder was given units");
      assert.match(
        master.out,
        /Unit \d+ of slave 127\.0\.0\.1:\d+ is overdue: handing it to another node too/,
      );
      assert.match(master.out, /Dropping slave 127\.0\.0\.1:\d+: 2 units overdue/);
      assertClose(await readPfm(`${dir}/net.pfm`), ref, 1e-5);
    });
  });
});

Deno.test("--verify: a slave that renders other samples (another seed) is caught, dropped and its part rendered again; an honest one passes every check", async () => {
  await withDir(async (dir) => {
    const key = await keyed(dir);
    const spp = 256;
    const ref = await referenceRender(dir, spp, SIZE);
    const gpu = await openGpu();
    try {
      await processes(async (start) => {
        const { master, port } = await startMaster(start, dir, spp, ["--wait-slaves", "2", "--verify", "1"]);
        const honest = startSlave(start, master, { args: ["--key-file", `${dir}/key`] });
        const liar = await fakeSlave({
          host: "127.0.0.1",
          port,
          key,
          renderer: { gpu, seedOffset: 1 },
          answer: async (u, _w, render) => [{ sums: await render!(u) }],
        });
        assert.equal(await master.exit(180_000), 0, master.out);
        liar.close();
        await honest.exit(30_000);
        assert.match(
          master.out,
          /Slave 127\.0\.0\.1:\d+ rendered samples that other nodes render differently: dropping it/,
        );
        assertClose(await readPfm(`${dir}/net.pfm`), ref, 1e-5);
        const report = JSON.parse(await Deno.readTextFile(`${dir}/report.json`));
        assert.equal(report.verification.fraction, 1);
        assert.equal(report.verification.liars.length, 1, JSON.stringify(report.verification));
        assert.ok(report.verification.checks >= 2);
        const byHost = (host: string) => report.nodes.filter((n: { host: string }) => n.host === host);
        assert.equal(byHost("fake")[0].samples, 0, "the liar's samples are gone from the image");
        const real = report.nodes.filter((n: { role: string; host: string }) =>
          n.role === "slave" && n.host !== "fake"
        );
        assert.ok(real[0].samples > 0, "the honest slave contributed");
        assert.ok(!report.verification.liars.includes(real[0].address), "the honest slave was not convicted");
      });
    } finally {
      gpu.device.destroy();
    }
  });
});

Deno.test("--verify without the master's GPU: two honest slaves and a liar; a third render decides, the liar goes, the image equals a local render", async () => {
  await withDir(async (dir) => {
    const key = await keyed(dir);
    const spp = 128;
    const ref = await referenceRender(dir, spp, SIZE);
    const gpu = await openGpu();
    try {
      await processes(async (start) => {
        const { master, port } = await startMaster(start, dir, spp, [
          "--wait-slaves",
          "3",
          "--verify",
          "1",
          "--no-local-render",
        ]);
        const honest = [1, 2].map(() => startSlave(start, master, { args: ["--key-file", `${dir}/key`] }));
        const liar = await fakeSlave({
          host: "127.0.0.1",
          port,
          key,
          renderer: { gpu, seedOffset: 7 },
          answer: async (u, _w, render) => [{ sums: await render!(u) }],
        });
        assert.equal(await master.exit(180_000), 0, master.out);
        liar.close();
        for (const h of honest) await h.exit(30_000);
        assert.match(master.out, /rendered samples that other nodes render differently: dropping it/);
        assertClose(await readPfm(`${dir}/net.pfm`), ref, 1e-5);
        const report = JSON.parse(await Deno.readTextFile(`${dir}/report.json`));
        assert.equal(report.verification.liars.length, 1, JSON.stringify(report.verification));
        const liarNode = report.nodes.find((n: { host: string }) => n.host === "fake");
        assert.equal(liarNode.samples, 0);
        assert.ok(report.verification.liars.includes(liarNode.address));
      });
    } finally {
      gpu.device.destroy();
    }
  });
});

Deno.test("a slave refuses render data that inflates past its offered length or to other bytes, says why, and renders for the next master", async () => {
  await withDir(async (dir) => {
    const key = await keyed(dir);
    const spp = 32;
    const ref = await referenceRender(dir, spp, SIZE);
    const data = compileScene(cornellBox());
    const honest = renderDataSections(data).map((s) => encodeSection(s));
    const at = honest.findIndex((w) => w.info.name === "nodes");
    const nodes = honest[at]!;
    const crafted = (bytes: Uint8Array) =>
      honest.with(at, { info: { ...nodes.info, encoding: "zstd", wireLength: bytes.length }, bytes });
    // 32 MiB in 1 kB, offered as the BVH's 1.2 kB (no longer on the wire than raw, or the offer is refused)
    const bombBytes = zstdBomb(32 << 20);
    assert.ok(
      bombBytes.length <= nodes.info.length,
      `bomb ${bombBytes.length} B, BVH ${nodes.info.length} B`,
    );
    const bomb = crafted(bombBytes);
    // the right length, other bytes, under the real BVH's hash
    const other = renderDataSections(data).find((s) => s.name === "nodes")!.bytes.slice();
    other[0]! ^= 1;
    const forged = crafted(new Uint8Array(zstdCompressSync(other)));
    const port = freePort([CRAFTED_HOST]);
    const where = re(`${CRAFTED_HOST}:${port}`);
    await processes(async (start) => {
      const slave = startSlave(start, `${CRAFTED_HOST}:${port}`, {
        args: ["--key-file", `${dir}/key`, "--keep-running"],
      });
      await serveCrafted({ hostname: CRAFTED_HOST, port, key, data, sections: bomb });
      await slave.waitFor(
        new RegExp(
          `^Connection to master ${where} failed: render-data section "nodes" decompresses past the \\d+ bytes offered; waiting for the next render`,
          "m",
        ),
      );
      await serveCrafted({ hostname: CRAFTED_HOST, port, key, data, sections: forged });
      await slave.waitFor(
        new RegExp(
          `^Connection to master ${where} failed: render-data section "nodes" does not match its SHA-256 \\(the master sent other bytes\\); waiting`,
          "m",
        ),
      );
      // the same slave renders for an honest master at that address
      const { master } = await startMaster(
        start,
        dir,
        spp,
        ["--wait-slaves", "1", "--no-local-render"],
        port,
      );
      assert.equal(await master.exit(), 0, master.out);
      assertClose(await readPfm(`${dir}/net.pfm`), ref, 1e-5);
      await slave.waitFor(/finished the render; waiting for the next render/);
      assert.doesNotMatch(slave.out, /^\s+at /m, "no stack trace");
    });
  });
});

Deno.test("an answer to another render's offer (a need with a stale id) is ignored; the answer to the current one is served", async () => {
  await withDir(async (dir) => {
    const key = await keyed(dir);
    await processes(async (start) => {
      const { master, port } = await startMaster(start, dir, 8, ["--no-local-render", "--wait-slaves", "1"]);
      const link = await Link.connect("127.0.0.1", port, { service: "render", key });
      try {
        await link.send("hello", { version: VERSION, host: "stale", gpus: [] });
        assert.equal((await link.receive())?.type, "welcome");
        const offer = await link.receive();
        if (offer?.type !== "scene") throw new Error(`expected the scene offer, got ${offer?.type}`);
        const hashes = offer.body.sections.map((s) => s.hash);
        await link.send("need", { id: "0".repeat(64), hashes });
        await link.send("need", { id: offer.body.id, hashes });
        // the stale answer took nothing away: the current one is served in full, without "asked again"
        let wire = 0;
        const total = offer.body.sections.reduce((n, s) => n + s.wireLength, 0);
        while (wire < total) {
          const m = await link.receive();
          if (m?.type !== "section") throw new Error(`expected sections, got ${m?.type}`);
          wire += m.body.bytes.length;
        }
        assert.doesNotMatch(master.out, /asked for the render data again/);
      } finally {
        link.close();
      }
    });
  });
});
