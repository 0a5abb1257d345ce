import assert from "node:assert/strict";
import { decodePng } from "../render/mod.ts";
import type { MasterRender, MasterSessionOptions } from "./master_options.ts";
import { MasterSession } from "./master_session.ts";

/** A master session on loopback (a port from the OS), without signal listeners, writing into `dir`. */
function options(dir: string, extra: Partial<MasterSessionOptions> = {}): MasterSessionOptions {
  return {
    scene: { name: "cornell" },
    spp: 2,
    seed: 1,
    maxDepth: 4,
    width: 16,
    height: 12,
    files: { output: `${dir}/m.png`, report: `${dir}/m.json` },
    port: 0,
    bind: "127.0.0.1",
    autoPort: false,
    heartbeatTimeout: 10,
    waitSlaves: 0,
    verify: 0,
    unitTimeout: 10,
    localRender: true,
    watch: false,
    keepOpen: false,
    signals: false,
    ...extra,
  };
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "octane-master-session-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a master session renders on its own GPU, writes the image and the one report, and says so", async () => {
  await withDir(async (dir) => {
    const rendered: MasterRender[] = [];
    const session = await MasterSession.open(options(dir), { rendered: (r) => rendered.push(r) });
    try {
      assert.equal(session.width, 16);
      assert.equal(await session.run(), 0);
    } finally {
      await session.close();
    }
    assert.equal(rendered.length, 1);
    const [render] = rendered;
    assert.deepEqual(render!.written, [`${dir}/m.png`, `${dir}/m.json`]);
    assert.equal(render!.next, undefined);
    const report = JSON.parse(await Deno.readTextFile(`${dir}/m.json`));
    assert.deepEqual(report, JSON.parse(JSON.stringify(render!.report)));
    assert.equal(report.samplesPerPixel, 2);
    assert.deepEqual(report.rowSamples, { min: 2, max: 2 });
    assert.equal(report.master.port, session.port);
    assert.equal(report.nodes[0].role, "local");
    assert.equal(decodePng(await Deno.readFile(`${dir}/m.png`)).width, 16);
  });
});

Deno.test("stopped before any sample: nothing written, exit code 130; the page's stop never quits", async () => {
  await withDir(async (dir) => {
    const said: string[] = [];
    // no local GPU and a slave to wait for: no sample can come
    const session = await MasterSession.open(options(dir, { localRender: false, waitSlaves: 1 }), {
      stopping: (n) => said.push(`stopping ${n}`),
      quit: () => said.push("quit"),
      nothingMerged: () => said.push("nothing merged"),
    });
    try {
      const status = session.liveSource().status();
      assert.equal(status.state, "waiting");
      assert.equal(
        (status.camera as { fov: number }).fov.toFixed(3),
        "39.308",
        "the camera in its JSON form",
      );
      session.liveSource().stop();
      session.liveSource().stop();
      assert.equal(session.status().stopping, true);
      assert.equal(await session.run(), 130);
    } finally {
      await session.close();
    }
    assert.deepEqual(said, ["stopping 0", "nothing merged"]);
    await assert.rejects(Deno.stat(`${dir}/m.png`), Deno.errors.NotFound);
  });
});

Deno.test("a second Ctrl-C while stopping quits: the master closes and run ends with 130", async () => {
  await withDir(async (dir) => {
    const said: string[] = [];
    const session = await MasterSession.open(
      options(dir, { localRender: false, waitSlaves: 1, keepOpen: true }),
      {
        quit: () => said.push("quit"),
      },
    );
    try {
      session.stop("signal");
      session.stop("signal");
      assert.equal(await session.run(), 130);
    } finally {
      await session.close();
    }
    assert.deepEqual(said, ["quit"]);
  });
});
