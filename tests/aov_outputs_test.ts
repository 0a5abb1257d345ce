/**
 * AOVs end to end: `render` and `master` write them into the EXR and as files, a master with slaves on
 * loopback merges them as a local render makes them, and a bad --aov folder is one line.
 */
import assert from "node:assert/strict";
import { decodeExr, decodeExrChannels, decodePfm } from "../mod/render/mod.ts";
import { preamble } from "../mod/net/protocol/preamble.ts";
import { PROTOCOL_VERSION } from "../mod/version.ts";
import { rawExchange } from "./_relay.ts";
import { assertClose, octane, processes, startMaster, startSlave, withDir } from "./_harness.ts";
import { fakeSlave } from "./_fake_slave.ts";

const SIZE = ["--width", "40", "--height", "32", "--seed", "3"];

const AOV_CHANNELS = ["B", "G", "R", "albedo.B", "albedo.G", "albedo.R", "normal.X", "normal.Y", "normal.Z"];

/** Every channel of an EXR file, by name. */
async function channelsOf(path: string): Promise<Map<string, Float32Array>> {
  return decodeExrChannels(await Deno.readFile(path)).channels;
}

/** `octane render` of the Cornell spheres (glass and a mirror) into `dir` with --hdr ref.exr and --aov. */
async function localRender(dir: string, spp: number): Promise<void> {
  const r = octane([
    "render",
    "cornell-spheres",
    "--quiet",
    "--spp",
    String(spp),
    ...SIZE,
    "-o",
    `${dir}/ref.png`,
    "--hdr",
    `${dir}/ref.exr`,
    "--aov",
    `${dir}/ref-aov`,
  ]);
  assert.equal(await r.exit(), 0, r.out);
}

Deno.test("render --hdr .exr carries albedo and normal channels, --aov writes them as files, PFM stays colour only", async () => {
  await withDir(async (dir) => {
    await localRender(dir, 4);
    const exr = await channelsOf(`${dir}/ref.exr`);
    assert.deepEqual([...exr.keys()], AOV_CHANNELS);
    const pixels = 40 * 32;
    // the colour still reads as before; albedo in [0, 1], normals at most unit length, and some of each
    assert.equal(decodeExr(await Deno.readFile(`${dir}/ref.exr`)).rgb.length, pixels * 3);
    let surfaces = 0;
    for (let p = 0; p < pixels; p++) {
      for (const c of ["R", "G", "B"]) {
        const a = exr.get(`albedo.${c}`)![p]!;
        assert.ok(a >= 0 && a <= 1, `albedo ${a}`);
      }
      const n = Math.hypot(...["X", "Y", "Z"].map((c) => exr.get(`normal.${c}`)![p]!));
      assert.ok(n <= 1 + 1e-5, `normal length ${n}`);
      if (n > 0.999) surfaces++;
    }
    assert.ok(surfaces > pixels / 2, `${surfaces} pixels see one surface`);
    // --aov: the same values in files of their own (normal.exr holds X, Y, Z as R, G, B), and previews
    const names = [...Deno.readDirSync(`${dir}/ref-aov`)].map((e) => e.name).sort();
    assert.deepEqual(names, ["albedo.exr", "albedo.png", "normal.exr", "normal.png"]);
    const albedo = await channelsOf(`${dir}/ref-aov/albedo.exr`);
    const normal = await channelsOf(`${dir}/ref-aov/normal.exr`);
    for (const [i, c] of ["R", "G", "B"].entries()) {
      assert.deepEqual(albedo.get(c), exr.get(`albedo.${c}`));
      assert.deepEqual(normal.get(c), exr.get(`normal.${"XYZ"[i]}`));
    }
    // a PFM is colour only, and the EXR's colour (equal up to the summation order of renderLocal's batches,
    // which follow timing; the GPU tests compare the radiance with and without AOVs bit for bit)
    const r = octane([
      "render",
      "cornell-spheres",
      "--quiet",
      "--spp",
      "4",
      ...SIZE,
      "-o",
      `${dir}/p.png`,
      "--hdr",
      `${dir}/p.pfm`,
    ]);
    assert.equal(await r.exit(), 0, r.out);
    const pfm = decodePfm(await Deno.readFile(`${dir}/p.pfm`));
    assertClose(pfm.rgb, decodeExr(await Deno.readFile(`${dir}/ref.exr`)).rgb, 1e-6);
  });
});

Deno.test("a bad --aov folder (a file, or one that cannot be made) is one line and exit 2 before any render", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/file`, "x");
    const cases: [string[], RegExp][] = [
      [["--aov", `${dir}/file`], /^octane: Cannot write --aov ".*\/file": it is a file; give a folder\n$/],
      [
        ["--aov", `${dir}/file/sub`],
        /^octane: Cannot write --aov ".*\/file\/sub": cannot make the folder \(.*\)/,
      ],
    ];
    for (const role of [["render"], ["master", "--bind", "127.0.0.1", "--port", "0"]]) {
      for (const [flags, line] of cases) {
        const r = octane([...role, "--spp", "1", ...SIZE, "-o", `${dir}/x.png`, ...flags]);
        assert.equal(await r.exit(), 2, r.out);
        assert.match(r.out, line);
        assert.equal(r.out.trim().split("\n").length, 1, r.out);
      }
    }
    assert.ok(!(await Deno.stat(`${dir}/x.png`).catch(() => undefined)), "nothing was rendered");
  });
});

/** Flags of a master rendering cornell-spheres with `spp` for `slaves` slaves, -o and --hdr (EXR) in dir. */
function aovMaster(dir: string, spp: number, slaves: number, extra: string[]): { args: string[] } {
  return {
    args: [
      "cornell-spheres",
      "--spp",
      String(spp),
      ...SIZE,
      "--wait-slaves",
      String(slaves),
      "-o",
      `${dir}/net.png`,
      "--hdr",
      `${dir}/net.exr`,
      ...extra,
    ],
  };
}

Deno.test("master + 2 slaves merge AOVs as radiance: the EXR's every channel and the --aov files equal a local render's", async () => {
  await withDir(async (dir) => {
    await localRender(dir, 24);
    await processes(async (start) => {
      const master = await startMaster(
        start,
        aovMaster(dir, 24, 2, ["--aov", `${dir}/net-aov`, "--report", `${dir}/report.json`]),
      );
      // a peer of the previous protocol (before AOVs) is refused with the one line that names both
      const old = preamble("render", { keyed: false, release: "0.0.9" }).bytes;
      new DataView(old.buffer).setUint16(4, PROTOCOL_VERSION - 1, true);
      await rawExchange(master.host, master.port, old);
      await master.waitFor(
        new RegExp(
          `Refused slave .*\\(protocol ${
            PROTOCOL_VERSION - 1
          }\\), this master runs octane \\S+ \\(protocol ${PROTOCOL_VERSION}\\)`,
        ),
      );
      const slaves = [startSlave(start, master), startSlave(start, master)];
      assert.equal(await master.exit(), 0, master.out);
      for (const s of slaves) assert.equal(await s.exit(), 0, s.out);
    });
    const report = JSON.parse(await Deno.readTextFile(`${dir}/report.json`));
    assert.equal(report.nodes.length, 3);
    for (const n of report.nodes) {
      assert.ok(n.samples > 0, `node ${n.role} ${n.address ?? ""} contributed nothing`);
    }
    const [net, ref] = [await channelsOf(`${dir}/net.exr`), await channelsOf(`${dir}/ref.exr`)];
    assert.deepEqual([...net.keys()], AOV_CHANNELS);
    for (const name of AOV_CHANNELS) assertClose(net.get(name)!, ref.get(name)!, 1e-5);
    for (const file of ["albedo.exr", "normal.exr"]) {
      const [a, b] = [await channelsOf(`${dir}/net-aov/${file}`), await channelsOf(`${dir}/ref-aov/${file}`)];
      for (const c of ["R", "G", "B"]) assertClose(a.get(c)!, b.get(c)!, 1e-5);
    }
  });
});

Deno.test("a slave's AOVs are checked as its radiance is: a result without them, a NaN or an out-of-range normal is refused, and the image is exact", async () => {
  await withDir(async (dir) => {
    await localRender(dir, 16);
    await processes(async (start) => {
      const master = await startMaster(start, aovMaster(dir, 16, 1, ["--verbose"]));
      let n = 0;
      // radiance of 0.5 everywhere, then AOVs: none at all, a NaN albedo, a normal past what samples add up to
      const bad = await fakeSlave({
        host: master.host,
        port: master.port,
        answer: (u, w) => {
          const pixels = u.height * w;
          const kind = n++ % 3;
          const values = new Float32Array(pixels * (kind === 0 ? 3 : 9)).fill(0.5);
          if (kind === 1) values[pixels * 3 + 1] = NaN;
          if (kind === 2) values[pixels * 3 + 4] = -2 * u.count - 5;
          return [{ sums: values, seconds: 0.1 }];
        },
      });
      assert.equal(await master.exit(180_000), 0, master.out);
      bad.close();
      assert.match(master.out, /Refused a result of slave 127\.0\.0\.1:\d+ \(\d of 3\): result data/);
      assert.match(
        master.out,
        /Refused a result of slave 127\.0\.0\.1:\d+ \(\d of 3\): an AOV value is not finite/,
      );
      assert.match(
        master.out,
        /Refused a result of slave 127\.0\.0\.1:\d+ \(\d of 3\): an AOV normal value \(-?\d+\) is outside/,
      );
      assert.match(master.out, /Dropping slave 127\.0\.0\.1:\d+: 3 bad results/);
    });
    const [net, ref] = [await channelsOf(`${dir}/net.exr`), await channelsOf(`${dir}/ref.exr`)];
    for (const name of AOV_CHANNELS) assertClose(net.get(name)!, ref.get(name)!, 1e-5);
  });
});
