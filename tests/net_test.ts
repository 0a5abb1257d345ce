/**
 * Network rendering with real processes on loopback: a master on 127.0.0.1 and slaves joining it.
 * Every loop is bounded by a deadline; every process is killed at the end.
 */
import assert from "node:assert/strict";
import { Document, type Material, NodeIO } from "@gltf-transform/core";
import { ALL_EXTENSIONS, KHRLightsPunctual } from "@gltf-transform/extensions";
import { MAX_BINDING_ENV } from "../mod/gpu/mod.ts";
import { readKeyFile } from "../mod/net/key.ts";
import { Link } from "../mod/net/protocol/mod.ts";
import { initiate } from "../mod/net/protocol/handshake.ts";
import { preamble } from "../mod/net/protocol/preamble.ts";
import { PROTOCOL_VERSION } from "../mod/version.ts";
import { rawExchange } from "./_relay.ts";
import {
  assertClose,
  type Listening,
  makeKey,
  octane,
  outputsIn,
  processes,
  readPfm,
  referenceRender,
  type Running,
  type Start,
  startMaster,
  startSlave,
  withDir,
} from "./_harness.ts";

const SIZE = ["--width", "40", "--height", "32", "--seed", "3"];
const reference = (dir: string, spp: number) => referenceRender(dir, spp, SIZE);

/** A master on 127.0.0.1 rendering `scene` (the Cornell box unless given) at `spp` into `dir`, verbose. */
function netMaster(start: Start, dir: string, spp: number, extra: string[] = [], scene?: string) {
  return startMaster(start, {
    args: [
      ...(scene ? [scene] : []),
      "--spp",
      String(spp),
      ...SIZE,
      ...outputsIn(dir),
      "--verbose",
      ...extra,
    ],
  });
}

Deno.test("master + 2 slaves with a farm key render the image a local render gives, and every node contributes", async () => {
  await withDir(async (dir) => {
    const ref = await reference(dir, 96);
    await makeKey(`${dir}/key`);
    const key = ["--key-file", `${dir}/key`];
    await processes(async (start) => {
      const master = await netMaster(start, dir, 96, ["--wait-slaves", "2", ...key]);
      const slaves = [
        startSlave(start, master, { args: key }),
        startSlave(start, master, { args: key }),
      ];
      for (const s of slaves) {
        await s.waitFor(/Launching net render slave \(\d+\.\d+\.\d+\) with master 127\.0\.0\.1:\d+/);
      }
      assert.equal(await master.exit(), 0, master.out);
      for (const s of slaves) assert.equal(await s.exit(), 0, s.out);
      assertClose(await readPfm(`${dir}/net.pfm`), ref, 1e-5);
      const report = JSON.parse(await Deno.readTextFile(`${dir}/report.json`));
      assert.equal(report.nodes.length, 3);
      for (const n of report.nodes) {
        assert.ok(n.samples > 0, `node ${n.role} ${n.address ?? ""} contributed nothing`);
      }
      assert.equal(
        report.nodes.reduce((s: number, n: { samples: number }) => s + n.samples, 0),
        96 * 40 * 32,
      );
      assert.ok(
        report.nodes.filter((n: { role: string }) => n.role === "slave").every((n: { bytesSent: number }) =>
          n.bytesSent > 0
        ),
      );
    });
  });
});

Deno.test("an image with more accumulator than the GPU binds at once, rendered over the network in bands on every node, equals octane render's image", async () => {
  await withDir(async (dir) => {
    // a 2048x1024 film (32 MiB of sums: more than one 1-Mpixel work unit) on GPUs that bind 4 MiB (the test
    // knob, as a GPU with small bindings; llvmpipe's own 128 MiB is met only at 4096x2160, four times the
    // work): each unit is rendered in bands of 128 rows, on the master's GPU, the slave's, and locally
    const env = { [MAX_BINDING_ENV]: String(4 << 20) };
    const size = ["furnace", "--width", "2048", "--height", "1024", "--seed", "3", "--max-depth", "4"];
    const ref = await referenceRender(dir, 1, size, env);
    await processes(async (start) => {
      const master = await startMaster(start, {
        args: [...size, "--spp", "1", "--wait-slaves", "1", ...outputsIn(dir)],
        env,
      });
      const slave = startSlave(start, master, { env });
      assert.equal(await master.exit(), 0, master.out);
      assert.equal(await slave.exit(), 0, slave.out);
    });
    assertClose(await readPfm(`${dir}/net.pfm`), ref, 1e-5);
    const report = JSON.parse(await Deno.readTextFile(`${dir}/report.json`));
    const slaveSamples = report.nodes.find((n: { role: string }) => n.role === "slave").samples;
    assert.ok(slaveSamples > 0, "the slave rendered bands");
  });
});

Deno.test("a slave joins mid-render and contributes; a slave killed mid-render loses nothing", async () => {
  await withDir(async (dir) => {
    const spp = 512;
    const ref = await reference(dir, spp);
    await processes(async (start) => {
      // only slaves render: between the first slave's death and the second's arrival nothing moves, so the
      // late slave has work left however long it takes to start
      const master = await netMaster(start, dir, spp, [
        "--wait-slaves",
        "1",
        "--no-local-render",
      ]);
      const doomed = startSlave(start, master);
      await master.waitFor(/Slave 127\.0\.0\.1:\d+ has the render data/);
      // once its first samples are merged (it holds units), kill it without warning
      await master.waitFor(/First samples from slave 127\.0\.0\.1:\d+ merged/);
      doomed.kill("SIGKILL");
      await master.waitFor(/left: .*; \d+ of its units go to other nodes/);
      const lateMark = master.out.length;
      const late = startSlave(start, master);
      await late.waitFor(/Launching net render slave/);
      assert.equal(await master.exit(), 0, master.out);
      assertClose(await readPfm(`${dir}/net.pfm`), ref, 1e-5);
      const report = JSON.parse(await Deno.readTextFile(`${dir}/report.json`));
      assert.equal(
        report.nodes.reduce((s: number, n: { samples: number }) => s + n.samples, 0),
        spp * 40 * 32,
        "every sample exactly once",
      );
      const slaves = report.nodes.filter((n: { role: string }) => n.role === "slave");
      assert.equal(slaves.length, 2);
      assert.ok(
        slaves[1].samples > 0,
        `the slave that joined mid-render contributed nothing:\n${master.out}`,
      );
      assert.match(
        master.out.slice(lateMark),
        /Sending 9 of 9 render-data sections/,
        "the late slave was sent the render data",
      );
    });
  });
});

Deno.test("two masters with --auto-port on one machine, each with its own slave, both finish", async () => {
  await withDir(async (dir) => {
    await processes(async (start) => {
      const run = (name: string, port: number) =>
        startMaster(start, {
          port,
          args: ["--auto-port", "--spp", "16", ...SIZE, "-o", `${dir}/${name}.png`, "--wait-slaves", "1"],
        });
      const a = await run("a", 0);
      // the second asks for the first one's port, and takes the next free one
      const b = await run("b", a.port);
      assert.notEqual(a.port, b.port);
      startSlave(start, a);
      startSlave(start, b);
      assert.equal(await a.exit(), 0, a.out);
      assert.equal(await b.exit(), 0, b.out);
      await Deno.stat(`${dir}/a.png`);
      await Deno.stat(`${dir}/b.png`);
    });
  });
});

Deno.test("a farm key: slaves without it or with another one are refused with a clear line on both sides", async () => {
  await withDir(async (dir) => {
    for (const name of ["key", "other"]) {
      await makeKey(`${dir}/${name}`);
    }
    await processes(async (start) => {
      const master = await netMaster(start, dir, 32, [
        "--key-file",
        `${dir}/key`,
        "--wait-slaves",
        "1",
      ]);
      const none = startSlave(start, master, { env: { HOME: dir, XDG_CONFIG_HOME: `${dir}/config` } });
      assert.equal(await none.exit(), 1);
      assert.match(
        none.out,
        /octane: Master 127\.0\.0\.1:\d+ requires a farm key and this slave has none: copy the master's key here and pass --key-file FILE/,
      );
      await master.waitFor(/Refused slave 127\.0\.0\.1:\d+: it has no farm key and this master requires one/);
      const wrong = startSlave(start, master, { args: ["--key-file", `${dir}/other`] });
      assert.equal(await wrong.exit(), 1);
      assert.match(
        wrong.out,
        /octane: Master 127\.0\.0\.1:\d+ and this slave hold different farm keys \(or the connection was tampered with\): copy one key file to every node \(this slave's key file: .*other\)$/m,
      );
      await master.waitFor(
        /Refused slave 127\.0\.0\.1:\d+: the handshake failed: its farm key differs from this master's/,
      );
      // a slave of another release, with the key: its samples could differ, so it is refused after hello
      const other = await Link.connect(master.host, master.port, {
        service: "render",
        key: await readKeyFile(`${dir}/key`),
      });
      await other.send("hello", { version: "9.9.9", host: "future", gpus: [] });
      const refused = await other.receive();
      other.close();
      assert.ok(refused?.type === "refuse", `got ${refused?.type}`);
      assert.match(
        refused.body.reason,
        /it runs octane 9\.9\.9, this master runs octane \S+: run the same octane on every node/,
      );
      await master.waitFor(/Refused slave 127\.0\.0\.1:\d+: it runs octane 9\.9\.9/);
      const right = startSlave(start, master, { env: { OCTANE_KEY_FILE: `${dir}/key` } });
      await right.waitFor(/Launching net render slave/);
      assert.equal(await master.exit(), 0, master.out);
      assert.doesNotMatch(master.out, /No farm key/);
      const report = JSON.parse(await Deno.readTextFile(`${dir}/report.json`));
      assert.equal(report.nodes.length, 2, "only the slave with the key, of this release, joined");
    });
  });
});

/** Sends raw bytes to the master and returns what it answers before closing. */
function raw(master: Listening, bytes: Uint8Array): Promise<Uint8Array> {
  return rawExchange(master.host, master.port, bytes);
}

Deno.test("garbage, an oversized frame after the handshake and another protocol version are refused; the render is unaffected", async () => {
  await withDir(async (dir) => {
    const ref = await reference(dir, 64);
    await processes(async (start) => {
      const master = await netMaster(start, dir, 64, ["--wait-slaves", "1"]);
      await raw(master, new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
      await master.waitFor(/Closing connection with 127\.0\.0\.1:\d+: not an octane peer \(wrong magic\)/);
      // a peer that completes the handshake, then announces a 4 GB frame: refused before any allocation
      const conn = await Deno.connect({ hostname: master.host, port: master.port });
      const { channel } = await initiate(conn, "render", { timeoutMs: 5000, peer: master.address });
      const header = new Uint8Array(8);
      new DataView(header.buffer).setUint16(0, 1, true); // hello
      new DataView(header.buffer).setUint32(4, 0xfffffff0, true);
      await channel.write([header]);
      await master.waitFor(/a hello message of 4294967280 bytes is over its \d+-byte limit/);
      channel.close();
      const future = preamble("render", { keyed: false, release: "9.9.9" }).bytes;
      new DataView(future.buffer).setUint16(4, PROTOCOL_VERSION + 7, true);
      const answer = await raw(master, future);
      assert.equal(
        new DataView(answer.buffer).getUint16(4, true),
        PROTOCOL_VERSION,
        "the master's preamble names its protocol",
      );
      await master.waitFor(
        new RegExp(
          `Refused slave 127\\.0\\.0\\.1:\\d+: it runs octane 9\\.9\\.9 \\(protocol ${
            PROTOCOL_VERSION + 7
          }\\), this master runs octane \\S+ \\(protocol ${PROTOCOL_VERSION}\\): run the same octane on every node`,
        ),
      );
      startSlave(start, master);
      assert.equal(await master.exit(), 0, master.out);
      assertClose(await readPfm(`${dir}/net.pfm`), ref, 1e-5);
    });
  });
});

Deno.test("Ctrl-C on a slave returns its unfinished work and exits 0; another slave finishes the same image", async () => {
  await withDir(async (dir) => {
    const spp = 768;
    const ref = await reference(dir, spp);
    await processes(async (start) => {
      const master = await netMaster(start, dir, spp, ["--no-local-render"]);
      const first = startSlave(start, master);
      await master.waitFor(/has the render data and starts rendering/);
      await master.waitFor(/First samples from slave 127\.0\.0\.1:\d+ merged/);
      first.kill("SIGINT");
      assert.equal(await first.exit(), 0, first.out);
      assert.match(first.out, /unfinished work returned to the master/);
      await master.waitFor(/returned \d+ unfinished units/);
      const second = startSlave(start, master);
      assert.equal(await master.exit(), 0, master.out);
      assert.equal(await second.exit(), 0, second.out);
      assertClose(await readPfm(`${dir}/net.pfm`), ref, 1e-5);
    });
  });
});

Deno.test("a slave whose master dies says so and exits non-zero", async () => {
  await withDir(async (dir) => {
    await processes(async (start) => {
      const master = await netMaster(start, dir, 4096, ["--wait-slaves", "1"]);
      const slave = startSlave(start, master, { args: ["--heartbeat-timeout", "3"] });
      await master.waitFor(/has the render data/);
      master.kill("SIGKILL");
      assert.equal(await slave.exit(30_000), 1, slave.out);
      assert.match(
        slave.out,
        /octane: (master 127\.0\.0\.1:\d+ closed the connection|connection to master .* failed|master .* stopped answering)/,
      );
    });
  });
});

/** Writes a lit glTF scene (an emissive quad over a floor) seen by a camera at `cameraZ`. */
async function writeScene(path: string, cameraZ: number): Promise<void> {
  const doc = new Document();
  const buffer = doc.createBuffer();
  const quad = (y: number, size: number, material: Material, up: boolean) => {
    const p = new Float32Array([-size, y, -size, size, y, -size, size, y, size, -size, y, size]);
    const positions = doc.createAccessor().setType("VEC3").setBuffer(buffer).setArray(p);
    const indices = doc.createAccessor().setType("SCALAR").setBuffer(buffer).setArray(
      new Uint16Array(up ? [0, 2, 1, 0, 3, 2] : [0, 1, 2, 0, 2, 3]),
    );
    return doc.createMesh().addPrimitive(
      doc.createPrimitive().setAttribute("POSITION", positions).setIndices(indices).setMaterial(material),
    );
  };
  const floor = doc.createMaterial("floor").setBaseColorFactor([0.8, 0.8, 0.8, 1]).setRoughnessFactor(1);
  const lamp = doc.createMaterial("lamp").setEmissiveFactor([1, 1, 1]);
  const scene = doc.createScene();
  scene.addChild(doc.createNode("floor").setMesh(quad(0, 2, floor, true)));
  scene.addChild(doc.createNode("lamp").setMesh(quad(1.5, 0.5, lamp, false)));
  const camera = doc.createCamera("view").setType("perspective").setYFov(0.9).setZNear(0.01);
  scene.addChild(doc.createNode("camera").setCamera(camera).setTranslation([0, 0.8, cameraZ]));
  doc.getRoot().setDefaultScene(scene);
  await new NodeIO().write(path, doc);
}

Deno.test("--watch: moving the camera resends only the camera section and renders the changed scene", async () => {
  await withDir(async (dir) => {
    const scene = `${dir}/scene.gltf`;
    await writeScene(scene, 3);
    await processes(async (start) => {
      const master = await netMaster(
        start,
        dir,
        512,
        ["--watch", "--wait-slaves", "1"],
        scene,
      );
      startSlave(start, master);
      await master.waitFor(/Sending 9 of 9 render-data sections/);
      await master.waitFor(/has the render data and starts rendering/);
      const before = master.out.length;
      await writeScene(scene, 2.5);
      await master.waitFor(/Scene changed: render data/, 30_000, before);
      const changedAt = master.out.indexOf("Scene changed");
      const sent = await master.waitFor(
        /Sending (\d+) of 9 render-data sections \(([a-z, ]+),/,
        30_000,
        changedAt,
      );
      assert.equal(sent[1], "1", master.out);
      assert.equal(sent[2], "camera");
      // the render of the new version finishes and is written; Ctrl-C then ends the master cleanly
      await master.waitFor(/Rendered 512 spp/, 120_000, changedAt);
      master.kill("SIGINT");
      assert.equal(await master.exit(), 0, master.out);
      const local = octane([
        "render",
        scene,
        "--quiet",
        "--spp",
        "512",
        ...SIZE,
        "-o",
        `${dir}/ref.png`,
        "--hdr",
        `${dir}/ref.pfm`,
      ]);
      assert.equal(await local.exit(), 0, local.out);
      assertClose(await readPfm(`${dir}/net.pfm`), await readPfm(`${dir}/ref.pfm`), 1e-5);
    });
  });
});

Deno.test("a master listening on every interface tells how slaves join it", async () => {
  await processes(async (start) => {
    // listening only: no traffic leaves the machine
    const master = start([
      "master",
      "--port",
      "0",
      "--no-local-render",
      "--spp",
      "1",
      "--width",
      "8",
      "--height",
      "8",
    ]);
    const m = await master.waitFor(/Master listening on 0\.0\.0\.0:(\d+)/);
    await master.waitFor(new RegExp(`Slaves join with: octane slave --master \\S+:${m[1]}`));
  });
});

/**
 * Renders `scene` at 32 spp locally and through a master whose only node is one slave, checks that both exit 0
 * and that the images are equal, then hands the master and the slave to `check`.
 */
async function renderedBySlaveAlone(
  dir: string,
  scene: string,
  check: (master: Running, slave: Running) => void | Promise<void>,
): Promise<void> {
  const local = octane(["render", scene, "--quiet", "--spp", "32", ...SIZE, "--hdr", `${dir}/ref.pfm`]);
  assert.equal(await local.exit(), 0, local.out);
  await processes(async (start) => {
    const master = await netMaster(
      start,
      dir,
      32,
      ["--wait-slaves", "1", "--no-local-render"],
      scene,
    );
    const slave = startSlave(start, master);
    assert.equal(await master.exit(), 0, master.out);
    assert.equal(await slave.exit(), 0, slave.out);
    assertClose(await readPfm(`${dir}/net.pfm`), await readPfm(`${dir}/ref.pfm`), 1e-5);
    await check(master, slave);
  });
}

Deno.test("a textured scene's render data travels compressed, and the slave's render of it equals a local render", async () => {
  await withDir(async (dir) => {
    // BoxTextured (Khronos glTF sample, CC-BY 4.0; see ../shared/scenes/box-textured/LICENSE.md)
    const scene = new URL("../../shared/scenes/box-textured/BoxTextured.gltf", import.meta.url).pathname;
    // only the slave renders: every sample comes from the textures it decompressed
    await renderedBySlaveAlone(dir, scene, async (master, slave) => {
      const sent =
        /Sending 9 of 9 render-data sections \([a-z, ]*textures[a-z, ]*, (\d+) bytes as (\d+) on the wire\) to/
          .exec(master.out);
      assert.ok(sent, master.out);
      const report = JSON.parse(await Deno.readTextFile(`${dir}/report.json`));
      const node = report.nodes.find((n: { role: string }) => n.role === "slave");
      assert.equal(node.renderDataBytes, Number(sent[1]));
      assert.equal(node.renderDataWireBytes, Number(sent[2]));
      // the 256x256 texture (262144 bytes as RGBA8, a third more with its mip levels) is most of it, and
      // compresses to a few kB
      assert.ok(node.renderDataBytes > 262_144, JSON.stringify(node));
      assert.ok(node.renderDataWireBytes < node.renderDataBytes / 10, JSON.stringify(node));
      assert.match(slave.out, /received 35\d\.\d kB in 9 sections \(\d+\.\d kB on the wire\)/);
    });
  });
});

Deno.test("punctual lights travel in their own section, and a slave's render of them equals a local render", async () => {
  await withDir(async (dir) => {
    // the --watch scene's floor and emissive quad, with a point, a spot and a directional light added
    const scene = `${dir}/lights.gltf`;
    await writeScene(scene, 3);
    const io = new NodeIO().registerExtensions(ALL_EXTENSIONS);
    const doc = await io.read(scene);
    const ext = doc.createExtension(KHRLightsPunctual);
    const root = doc.getRoot().getDefaultScene()!;
    const down: [number, number, number, number] = [-Math.SQRT1_2, 0, 0, Math.SQRT1_2];
    root.addChild(
      doc.createNode("bulb").setTranslation([1, 1, 0]).setExtension(
        "KHR_lights_punctual",
        ext.createLight().setType("point").setIntensity(2000).setColor([1, 0.6, 0.3]),
      ),
    );
    root.addChild(
      doc.createNode("spot").setTranslation([-1, 2, 0]).setRotation(down).setExtension(
        "KHR_lights_punctual",
        ext.createLight().setType("spot").setIntensity(4000).setInnerConeAngle(0.2).setOuterConeAngle(0.4),
      ),
    );
    root.addChild(
      doc.createNode("sun").setRotation([-0.3, 0.2, 0, 0.93]).setExtension(
        "KHR_lights_punctual",
        ext.createLight().setType("directional").setIntensity(300),
      ),
    );
    await io.write(scene, doc);
    await renderedBySlaveAlone(dir, scene, (master) => {
      assert.match(master.out, /Sending 10 of 10 render-data sections \([a-z, ]*punctual/);
    });
  });
});
