/**
 * Attacks on the sealed links, as a host on the LAN without the farm key would try them: a relay between
 * a master and a daemon or a slave, replayed and altered bytes, a handshake taken to another service, and
 * eavesdropping on a render. Real processes on loopback; the attacker is this test process.
 */
import assert from "node:assert/strict";
import { loadRenderData, renderDataSections } from "../mod/render_data/mod.ts";
import { HandshakeError, Link } from "../mod/net/protocol/mod.ts";
import { preamble } from "../mod/net/protocol/preamble.ts";
import { initiate } from "../mod/net/protocol/handshake.ts";
import { contains, joined, rawExchange, relay } from "./_relay.ts";
import {
  assertClose,
  type Listening,
  makeKey,
  masterListening,
  NETS,
  octane,
  processes,
  procStat,
  re,
  readPfm,
  referenceRender,
  type Start,
  startDaemon,
  startMaster as startHarnessMaster,
  startSlave,
  withDir,
} from "./_harness.ts";

const SIZE = ["--width", "40", "--height", "32", "--seed", "3"];
/** This file's simulated hosts: a daemon, relays on the path, and a master's own address. */
const [DAEMON, RELAY, RELAY2, MASTER] = [2, 5, 6, 8].map((n) => `${NETS.security}.${n}`) as [
  string,
  string,
  string,
  string,
];
/** Bytes of a preamble with this release, and of the first handshake message with a key (2 + e + tag). */
const PREAMBLE_BYTES = preamble("render", { keyed: true }).bytes.length;
const MSG1_BYTES = 2 + 32 + 16;

/** Starts a daemon with the farm key on this file's daemon address and waits until it listens. */
function startKeyedDaemon(start: Start, dir: string): Promise<Listening> {
  return startDaemon(start, { address: DAEMON, args: ["--key-file", `${dir}/key`] });
}

/** A master rendering into `dir` (net.png, net.pfm), verbose, listening on `bind`. */
async function startMaster(
  start: Start,
  dir: string,
  args: string[],
  bind = "127.0.0.1",
): Promise<{ master: Listening; port: number }> {
  const master = await startHarnessMaster(start, {
    bind,
    args: [...SIZE, "--hdr", `${dir}/net.pfm`, "-o", `${dir}/net.png`, "--verbose", ...args],
  });
  return { master, port: master.port };
}

const reference = (dir: string, spp: number) => referenceRender(dir, spp, SIZE);

Deno.test("relay between a master and a daemon: a host without the key starts no slave for itself, and altering the master's request starts none", async () => {
  await withDir(async (dir) => {
    await makeKey(`${dir}/key`);
    await processes(async (start) => {
      const daemon = await startKeyedDaemon(start, dir);
      const port = daemon.port;
      // the attacker's own request, without the key
      const direct = await Link.connect(DAEMON, port, { service: "daemon" }).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(direct instanceof HandshakeError && direct.kind === "key-unexpected", String(direct));
      // 1. on the path, it changes one byte of the master's first sealed message (the probe and its address)
      // (the relays listen on the daemon's port, which a master scans for: on this file's own /24, free)
      const tampering = relay({
        hostname: RELAY,
        port,
        target: { hostname: DAEMON, port },
        tamperUp: (piece, offset) => {
          const at = PREAMBLE_BYTES + MSG1_BYTES + 12 - offset;
          if (at >= 0 && at < piece.length) piece[at]! ^= 0x20;
        },
      });
      const scan = ["--daemon-port", String(port), "--scan-interval", "1", "--key-file", `${dir}/key`];
      const first =
        (await startMaster(start, dir, ["--subnet", `${RELAY}/32`, ...scan, "--spp", "64"])).master;
      assert.equal(await first.exit(), 0, first.out);
      await daemon.waitFor(/Closing connection with 127\.0\.0\.1:\d+: a message failed to decrypt/);
      assert.doesNotMatch(daemon.out, /Started slave/, "an altered request started a slave");
      await tampering.close();

      // 2. it relays faithfully: the daemon sees the relay (127.0.0.1) as its peer, yet its slave goes to the
      // master's own address (MASTER), which travelled sealed; the relay never learns or changes it
      const faithful = relay({ hostname: RELAY2, port, target: { hostname: DAEMON, port } });
      const { master, port: masterPort } = await startMaster(
        start,
        dir,
        [
          "--subnet",
          `${RELAY2}/32`,
          ...scan,
          "--spp",
          "64",
          "--wait-slaves",
          "1",
          "--report",
          `${dir}/r.json`,
        ],
        MASTER,
      );
      assert.equal(await master.exit(), 0, master.out);
      assert.ok(faithful.connections > 0, "the master went through the relay");
      assert.match(daemon.out, new RegExp(`Master ${re(MASTER)}:${masterPort} enabled this daemon`));
      assert.doesNotMatch(
        daemon.out,
        new RegExp(`Master (?!${re(MASTER)}:)[\\d.]+:`),
        "the daemon served another address",
      );
      const report = JSON.parse(await Deno.readTextFile(`${dir}/r.json`));
      assert.ok(
        report.nodes.some((n: { role: string; samples: number }) => n.role === "slave" && n.samples > 0),
      );
      await faithful.close();
      daemon.kill("SIGTERM");
      assert.equal(await daemon.exit(20_000), 0, daemon.out);
    });
  });
});

Deno.test("relay between a slave and a master: nothing in clear on the wire, a replayed session gets no render data, a render handshake is worthless to a daemon", async () => {
  await withDir(async (dir) => {
    await makeKey(`${dir}/key`);
    const spp = 512;
    const ref = await reference(dir, spp);
    await processes(async (start) => {
      const { master, port } = await startMaster(start, dir, [
        "--key-file",
        `${dir}/key`,
        "--spp",
        String(spp),
        "--wait-slaves",
        "1",
      ]);
      const path = relay({ hostname: RELAY, target: { hostname: "127.0.0.1", port } });
      const slave = startSlave(start, `${RELAY}:${path.port}`, { args: ["--key-file", `${dir}/key`] });
      await master.waitFor(/First samples from slave 127\.0\.0\.1:\d+ merged/);

      // replay: the slave's bytes so far, sent again on a new connection
      const answer = await rawExchange("127.0.0.1", port, joined(path.capture.up));
      assert.ok(
        answer.length <= PREAMBLE_BYTES + MSG1_BYTES,
        `the replay got ${answer.length} bytes: more than a handshake`,
      );
      await master.waitFor(/Closing connection with 127\.0\.0\.1:\d+: a message failed to decrypt/);

      // a render handshake's first message, captured here, taken to a daemon with the same key
      const daemon = await startKeyedDaemon(start, dir);
      const up = joined(path.capture.up);
      const renderMsg1 = up.subarray(PREAMBLE_BYTES, PREAMBLE_BYTES + MSG1_BYTES);
      for (const service of ["render", "daemon"] as const) {
        const transcript = new Uint8Array([...preamble(service, { keyed: true }).bytes, ...renderMsg1]);
        const got = await rawExchange(daemon.host, daemon.port, transcript);
        assert.ok(
          got.length <= PREAMBLE_BYTES + 2,
          `the daemon answered a render handshake with ${got.length} bytes`,
        );
      }
      await daemon.waitFor(
        /Refused 127\.0\.0\.1:\d+: it looks for a master, and this is an octane daemon's port/,
      );
      await daemon.waitFor(/Refused master 127\.0\.0\.1:\d+: the handshake failed/);

      assert.equal(await master.exit(), 0, master.out);
      assert.equal(await slave.exit(), 0, slave.out);
      await path.close();
      assertClose(await readPfm(`${dir}/net.pfm`), ref, 1e-5);

      // what crossed the relay holds no render data and no control message in clear
      const wire = joined([...path.capture.up, ...path.capture.down]);
      assert.ok(wire.length > 5000, "the capture holds the render");
      const sections = renderDataSections(await loadRenderData("cornell", {}));
      let probes = 0;
      for (const s of sections) {
        for (let at = 0; at + 24 <= s.bytes.length; at += Math.max(24, Math.floor(s.bytes.length / 8))) {
          assert.ok(
            !contains(wire, s.bytes.subarray(at, at + 24)),
            `section ${s.name} bytes at ${at} crossed in clear`,
          );
          probes++;
        }
      }
      assert.ok(probes >= 20);
      // (a host name shorter than 6 letters would turn up in that much random-looking data by chance)
      const host = Deno.hostname().length >= 6 ? [Deno.hostname()] : [];
      for (const text of ['"sections"', '"maxDepth"', '"hashes"', '"gpus"', "llvmpipe", ...host]) {
        assert.ok(!contains(wire, new TextEncoder().encode(text)), `${text} crossed in clear`);
      }
      daemon.kill("SIGTERM");
      await daemon.exit(20_000);
    });
  });
});

Deno.test("tamper: one byte flipped mid-render drops that slave, and the image still equals the local render", async () => {
  await withDir(async (dir) => {
    await makeKey(`${dir}/key`);
    const spp = 768;
    const ref = await reference(dir, spp);
    await processes(async (start) => {
      const { master, port } = await startMaster(start, dir, [
        "--key-file",
        `${dir}/key`,
        "--spp",
        String(spp),
        "--wait-slaves",
        "1",
      ]);
      let flipped = false;
      const path = relay({
        hostname: RELAY,
        target: { hostname: "127.0.0.1", port },
        tamperUp: (piece, offset) => {
          // well after the slave's first results began
          const at = 20_000 - offset;
          if (at >= 0 && at < piece.length) piece[at]! ^= 0x01, flipped = true;
        },
      });
      const slave = startSlave(start, `${RELAY}:${path.port}`, { args: ["--key-file", `${dir}/key`] });
      await master.waitFor(/Closing connection with 127\.0\.0\.1:\d+: a message failed to decrypt/, 60_000);
      assert.ok(flipped);
      await master.waitFor(
        /Slave 127\.0\.0\.1:\d+ \(.+\) left: a message failed to decrypt .*; \d+ of its units go to other nodes/,
      );
      assert.equal(await master.exit(), 0, master.out);
      assert.equal(await slave.exit(), 1, slave.out);
      await path.close();
      assertClose(await readPfm(`${dir}/net.pfm`), ref, 1e-5);
    });
  });
});

Deno.test("a flood of connections that never finish their handshake is held to a few per address; the daemon serves on", async () => {
  await withDir(async (dir) => {
    await makeKey(`${dir}/key`);
    await processes(async (start) => {
      const daemon = await startKeyedDaemon(start, dir);
      const port = daemon.port;
      // 40 connections that send nothing: the daemon holds 8 (per address) and closes the rest at once
      const idle = await Promise.all(
        Array.from({ length: 40 }, () => Deno.connect({ hostname: DAEMON, port })),
      );
      const closedAtOnce = await Promise.all(idle.map(async (c) => {
        const t = setTimeout(() => c.close(), 2000);
        try {
          return (await c.read(new Uint8Array(16))) === null;
        } catch {
          return false; // still open when the test gave up on it
        } finally {
          clearTimeout(t);
        }
      }));
      assert.equal(closedAtOnce.filter(Boolean).length, 32, "all but 8 were closed at once");
      await daemon.waitFor(
        /Refused 127\.0\.0\.1:\d+: 8 connections from 127\.0\.0\.1 are in their handshake already/,
      );
      assert.ok(
        daemon.out.split("\n").filter((l) => /Refused 127\.0\.0\.1/.test(l)).length <= 11,
        "the log was flooded",
      );
      // their slots are free again: a master with the key is served
      const status = await Link.connect(DAEMON, port, {
        service: "daemon",
        key: await keyOf(`${dir}/key`),
      });
      await status.send("probe", { version: "test", host: "test", port: 1, address: "127.0.0.1" });
      assert.equal((await status.receive())?.type, "status");
      status.close();
      daemon.kill("SIGTERM");
      assert.equal(await daemon.exit(20_000), 0, daemon.out);
    });
  });
});

async function keyOf(path: string): Promise<Uint8Array> {
  const { readKeyFile } = await import("../mod/net/key.ts");
  return await readKeyFile(path);
}

Deno.test("out of file descriptors (ulimit -n 30, 80 idle connections), the master keeps accepting: a real slave then joins and renders", async () => {
  await withDir(async (dir) => {
    await makeKey(`${dir}/key`);
    const master = octane(
      [
        "master",
        "--bind",
        "127.0.0.1",
        "--port",
        "0",
        "--spp",
        "16",
        ...SIZE,
        "--key-file",
        `${dir}/key`,
        "--wait-slaves",
        "1",
        "-o",
        `${dir}/net.png`,
        "--verbose",
      ],
      {},
      { maxFiles: 30 },
    );
    try {
      const { port, address } = await masterListening(master);
      const idle = await Promise.all(
        Array.from(
          { length: 80 },
          () => Deno.connect({ hostname: "127.0.0.1", port }).catch(() => undefined),
        ),
      );
      await master.waitFor(
        /Cannot accept a connection: .*(Too many open files|os error 24).*; trying again in \d+ ms/,
        20_000,
      );
      for (const c of idle) c?.close();
      // while the master still drains the dead connections from its backlog, a slave from the same address
      // may find the handshake gate full and be closed: it tries again, as a user would (bounded)
      let slave = octane(["slave", "--master", address, "--key-file", `${dir}/key`]);
      for (let attempt = 1; attempt < 5; attempt++) {
        const joined = await slave.waitFor(/Launching net render slave/, 15_000).then(
          () => true,
          () => false,
        );
        if (joined) break;
        await slave.exit(10_000).catch(() => slave.kill("SIGKILL"));
        slave = octane(["slave", "--master", address, "--key-file", `${dir}/key`]);
      }
      assert.equal(await master.exit(120_000), 0, master.out);
      assert.equal(await slave.exit(30_000), 0, slave.out);
      assert.match(master.out, /First samples from slave 127\.0\.0\.1:\d+ merged/);
    } finally {
      master.kill("SIGKILL");
      await master.exit(10_000).catch(() => {});
    }
  });
});

Deno.test("200 links that claim a 64 MiB frame before hello (no key: anyone gets that far) leave the master's memory where it was", async () => {
  await withDir(async (dir) => {
    await processes(async (start) => {
      const { master, port } = await startMaster(start, dir, ["--no-local-render", "--spp", "1"]);
      const rssOf = async () =>
        Number(((await procStat(master.pid)) ?? "").replace(/^.*\) /, "").split(" ")[21]) * 4096;
      const before = await rssOf();
      let sent = 0;
      const t0 = performance.now();
      while (sent < 200 && performance.now() - t0 < 60_000) {
        const conn = await Deno.connect({ hostname: "127.0.0.1", port });
        try {
          const { channel } = await initiate(conn, "render", { timeoutMs: 5000, peer: "attacker" });
          const header = new Uint8Array(8);
          new DataView(header.buffer).setUint16(0, 9, true); // result, before hello
          new DataView(header.buffer).setUint32(4, 64 << 20, true);
          await channel.write([header, new Uint8Array(1024)]);
          sent++;
          await channel.read(new Uint8Array(16)).catch(() => null);
        } catch {
          await new Promise((r) => setTimeout(r, 50)); // gated: 30 handshakes a second from one address
        } finally {
          try {
            conn.close();
          } catch {
            // closed by the master
          }
        }
      }
      assert.equal(sent, 200);
      const grew = (await rssOf()) - before;
      assert.ok(grew < 32 * 2 ** 20, `the master grew by ${(grew / 2 ** 20).toFixed(0)} MiB`);
      await master.waitFor(/expected hello, got result/);
    });
  });
});
