/**
 * Daemons with real processes on loopback: daemons on 127.0.0.2 and 127.0.0.3, masters on 127.0.0.1
 * scanning 127.0.0.0/29. Every wait has a deadline; every process is stopped at the end.
 */
import assert from "node:assert/strict";
import { HandshakeError, Link, type Status } from "../mod/net/protocol/mod.ts";
import { FrameReader } from "../mod/net/protocol/frame.ts";
import { initiate } from "../mod/net/protocol/handshake.ts";
import { preamble, PREAMBLE_FIXED_BYTES } from "../mod/net/protocol/preamble.ts";
import { PROTOCOL_VERSION } from "../mod/version.ts";
import { rawExchange } from "./_relay.ts";
import {
  assertClose,
  makeKey,
  octane,
  outputsIn,
  processes,
  procStat,
  readPfm,
  type Running,
  running,
  type Start,
  withDir,
} from "./_process.ts";

const SIZE = ["--width", "40", "--height", "32", "--seed", "3"];
let nextPort = 10000 + Math.floor(Math.random() * 400) * 2;
let nextMasterPort = 28100 + Math.floor(Math.random() * 400) * 4;

/** Starts a daemon on `address` and waits until it listens. */
async function startDaemon(
  start: Start,
  address: string,
  port: number,
  extra: string[] = [],
): Promise<Running> {
  const d = start(["daemon", "--bind", address, "--port", String(port), ...extra]);
  await d.waitFor(new RegExp(`Daemon listening on ${address.replaceAll(".", "\\.")}:${port}`), 120_000);
  return d;
}

/** Stops a daemon with SIGTERM and expects a clean exit. */
async function stopDaemon(d: Running): Promise<void> {
  d.kill("SIGTERM");
  assert.equal(await d.exit(20_000), 0, d.out);
}

/** A master's sealed daemon link (no key), after its probe: the daemon's status for a master on `masterPort`. */
async function probeLink(
  address: string,
  port: number,
  masterPort = 1,
  key?: Uint8Array,
): Promise<{ link: Link; status: Status }> {
  const link = await Link.connect(address, port, { service: "daemon", ...(key ? { key } : {}) });
  await link.send("probe", { version: "test", host: "test", port: masterPort, address: "127.0.0.1" });
  const m = await link.receive();
  assert.equal(m?.type, "status", `expected a status answer, got ${m?.type}`);
  return { link, status: (m as { body: Status }).body };
}

/** The daemon's status for a master on `masterPort`. */
async function statusOf(address: string, port: number, masterPort = 1): Promise<Status> {
  const { link, status } = await probeLink(address, port, masterPort);
  link.close();
  return status;
}

/** Sends raw bytes to the daemon port (then, with `end`, closes the sending side); resolves with its answer. */
function raw(address: string, port: number, bytes: Uint8Array, end = false): Promise<Uint8Array> {
  return rawExchange(address, port, bytes, { end });
}

async function gone(pid: number, ms: number): Promise<boolean> {
  const deadline = performance.now() + ms;
  while (performance.now() < deadline) {
    if (!(await running(pid))) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

/**
 * A fake daemon of a later octane release on `address`: answers every connection with its preamble and
 * records how many bytes came after the master's preamble (none may: the master stops at the version).
 */
function fakeDaemon(address: string, port: number): { close(): void; extraBytes: number[] } {
  const listener = Deno.listen({ hostname: address, port });
  const extraBytes: number[] = [];
  const future = preamble("daemon", { keyed: false, release: "9.9.9" }).bytes;
  new DataView(future.buffer).setUint16(4, PROTOCOL_VERSION + 1, true);
  (async () => {
    for await (const conn of listener) {
      (async () => {
        try {
          const head = new Uint8Array(PREAMBLE_FIXED_BYTES);
          let got = 0;
          while (got < head.length) got += (await conn.read(head.subarray(got))) ?? head.length;
          const rest = new Uint8Array(head[8]!);
          if (rest.length) await conn.read(rest);
          await conn.write(future);
          let extra = 0;
          const buf = new Uint8Array(256);
          for (let n = await conn.read(buf); n !== null; n = await conn.read(buf)) extra += n;
          extraBytes.push(extra);
        } catch {
          // the master closed it
        } finally {
          try {
            conn.close();
          } catch {
            // closed
          }
        }
      })();
    }
  })().catch(() => {});
  return { close: () => listener.close(), extraBytes };
}

Deno.test("a master finds two daemons within two scan intervals, enables both, and the image equals a local render", async () => {
  await withDir(async (dir) => {
    const spp = 64;
    const ref = octane([
      "render",
      "--quiet",
      "--spp",
      String(spp),
      ...SIZE,
      "-o",
      `${dir}/ref.png`,
      "--hdr",
      `${dir}/ref.pfm`,
    ]);
    assert.equal(await ref.exit(), 0, ref.out);
    const port = nextPort++;
    const future = fakeDaemon("127.0.0.4", port);
    try {
      await processes(async (start) => {
        const daemons = await Promise.all(["127.0.0.2", "127.0.0.3"].map((a) => startDaemon(start, a, port)));
        const interval = 2;
        const master = start([
          "master",
          "--bind",
          "127.0.0.1",
          "--port",
          String(nextMasterPort++),
          "--auto-port",
          "--subnet",
          "127.0.0.0/29",
          "--daemon-port",
          String(port),
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
        await master.waitFor(
          /127\.0\.0\.2 .*(available|enabled)[^\n]*\n\s+127\.0\.0\.3 .*(available|enabled)/,
          30_000,
        );
        const found = (performance.now() - t0) / 1000;
        assert.ok(found < 2 * interval, `daemons listed ${found.toFixed(2)} s after the master started`);
        await master.waitFor(
          /127\.0\.0\.2 .*enabled, slave pid \d+[^\n]*\n\s+127\.0\.0\.3 .*enabled, slave pid \d+/,
        );
        assert.match(
          master.out,
          new RegExp(
            `127\\.0\\.0\\.4 +octane 9\\.9\\.9 \\(protocol ${
              PROTOCOL_VERSION + 1
            }\\): another version, not enabled`,
          ),
        );
        assert.equal(await master.exit(), 0, master.out);
        assert.match(
          master.out,
          /(spp|waiting for) .* 3 daemons \([0-2] enabled\)/,
          "the status line counts the daemons",
        );
        assertClose(await readPfm(`${dir}/net.pfm`), await readPfm(`${dir}/ref.pfm`), 1e-5);
        const report = JSON.parse(await Deno.readTextFile(`${dir}/report.json`));
        const slaves = report.nodes.filter((n: { role: string }) => n.role === "slave");
        assert.deepEqual(slaves.map((n: { daemon: string }) => n.daemon).sort(), ["127.0.0.2", "127.0.0.3"]);
        for (const n of slaves) {
          assert.ok(n.samples > 0, `the slave of daemon ${n.daemon} contributed nothing`);
        }
        assert.ok(
          future.extraBytes.length > 0 && future.extraBytes.every((n) => n === 0),
          "a daemon of another version was sent more than a preamble",
        );
        for (const d of daemons) {
          await d.waitFor(/Available again/, 20_000);
          assert.equal(
            (await statusOf(d === daemons[0] ? "127.0.0.2" : "127.0.0.3", port)).state,
            "available",
          );
          await stopDaemon(d);
        }
      });
    } finally {
      future.close();
    }
  });
});

Deno.test("an occupied daemon refuses a second master with the first one's address, and it lists the daemon as occupied", async () => {
  await withDir(async (dir) => {
    await processes(async (start) => {
      const port = nextPort++;
      const daemon = await startDaemon(start, "127.0.0.2", port);
      const scan = ["--subnet", "127.0.0.2/32", "--daemon-port", String(port), "--scan-interval", "1"];
      const first = start([
        "master",
        "--bind",
        "127.0.0.1",
        "--port",
        String(nextMasterPort++),
        "--auto-port",
        "--no-local-render",
        ...scan,
        "--spp",
        "100000",
        ...SIZE,
        "-o",
        `${dir}/first.png`,
      ]);
      const firstPort = (await first.waitFor(/Master listening on [\d.]+:(\d+)/))[1];
      await daemon.waitFor(/Started slave \d+ for master/);
      const second = start([
        "master",
        "--bind",
        "127.0.0.1",
        "--port",
        String(nextMasterPort++),
        "--auto-port",
        ...scan,
        "--spp",
        "4",
        ...SIZE,
        "-o",
        `${dir}/second.png`,
      ]);
      assert.equal(await second.exit(), 0, second.out);
      assert.match(
        second.out,
        new RegExp(`127\\.0\\.0\\.2 .*occupied by master 127\\.0\\.0\\.1:${firstPort}`),
      );
      // a start request from another master is refused with the occupying master's address
      const { link, status } = await probeLink("127.0.0.2", port, 9);
      try {
        assert.equal(status.state, "occupied");
        await link.send("start", {});
        const refuse = await link.receive();
        assert.ok(refuse?.type === "refuse", `got ${refuse?.type}`);
        assert.equal(refuse.body.master, `127.0.0.1:${firstPort}`);
        assert.match(refuse.body.reason, /occupied by master 127\.0\.0\.1:\d+/);
      } finally {
        link.close();
      }
      assert.equal((await statusOf("127.0.0.2", port, Number(firstPort))).state, "running");
      first.kill("SIGINT");
      await first.exit(20_000);
      await daemon.waitFor(/Available again/, 20_000);
      await stopDaemon(daemon);
    });
  });
});

Deno.test("a stopped slave is killed within the heartbeat timeout plus grace and restarted; a killed master's slave is stopped", async () => {
  await withDir(async (dir) => {
    await processes(async (start) => {
      const port = nextPort++;
      const timeout = 2, grace = 1;
      const daemon = await startDaemon(start, "127.0.0.2", port, [
        "--heartbeat-timeout",
        String(timeout),
        "--grace",
        String(grace),
      ]);
      const master = start([
        "master",
        "--bind",
        "127.0.0.1",
        "--port",
        String(nextMasterPort++),
        "--auto-port",
        "--no-local-render",
        "--subnet",
        "127.0.0.2/32",
        "--daemon-port",
        String(port),
        "--scan-interval",
        "1",
        "--spp",
        "100000",
        ...SIZE,
        "-o",
        `${dir}/net.png`,
        "--verbose",
      ]);
      const first = Number((await daemon.waitFor(/Started slave (\d+) for master/))[1]);
      await master.waitFor(/First samples from slave/);
      const mark = daemon.out.length;
      const t0 = performance.now();
      Deno.kill(first, "SIGSTOP");
      await daemon.waitFor(new RegExp(`Slave ${first} stopped \\(signal SIGKILL\\)`), 30_000, mark);
      const seconds = (performance.now() - t0) / 1000;
      assert.ok(seconds < timeout + grace + 2, `killed ${seconds.toFixed(2)} s after SIGSTOP`);
      assert.match(daemon.out, new RegExp(`Slave ${first} sent no heartbeat for ${timeout} s`));
      assert.match(
        daemon.out,
        new RegExp(`Slave ${first} did not stop within ${grace} s of SIGTERM: killing it`),
      );
      assert.ok(await gone(first, 5000), "the stopped slave still exists");
      // its master still wants a slave: the daemon starts another, which joins
      const again = Number((await daemon.waitFor(/Started slave (\d+) for master/, 30_000, mark))[1]);
      assert.notEqual(again, first);
      const joined = master.out.length;
      await master.waitFor(/First samples from slave/, 60_000, joined);

      // the master dies without a word: the daemon stops its slave and is available again
      const mark2 = daemon.out.length;
      master.kill("SIGKILL");
      await daemon.waitFor(/Released master 127\.0\.0\.1:\d+: it closed its link/, 20_000, mark2);
      await daemon.waitFor(/Available again/, 20_000, mark2);
      assert.ok(await gone(again, 10_000), "the slave of the killed master still runs");
      assert.equal((await statusOf("127.0.0.2", port)).state, "available");
      await stopDaemon(daemon);
    });
  });
});

/** A sealed daemon link without messages on top: for frames no well-behaved master sends. */
async function sealedDaemonChannel(address: string, port: number) {
  const conn = await Deno.connect({ hostname: address, port });
  const { channel } = await initiate(conn, "daemon", { timeoutMs: 5000, peer: `${address}:${port}` });
  return { channel, reader: new FrameReader(channel, "daemon") };
}

Deno.test("garbage, truncated, oversized and wrong-version requests on the daemon port are refused, and the daemon keeps serving", async () => {
  await processes(async (start) => {
    const port = nextPort++;
    const daemon = await startDaemon(start, "127.0.0.2", port);

    const garbage = await raw(
      "127.0.0.2",
      port,
      new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
    );
    assert.equal(garbage.length, 0, "garbage gets no answer but a closed connection");
    await daemon.waitFor(/Closing connection with 127\.0\.0\.1:\d+: not an octane peer \(wrong magic\)/);

    await raw("127.0.0.2", port, preamble("daemon", { keyed: false }).bytes.subarray(0, 5), true);
    await daemon.waitFor(/Closing connection with 127\.0\.0\.1:\d+: the stream ended inside the preamble/);

    const future = preamble("daemon", { keyed: false, release: "9.9.9" }).bytes;
    new DataView(future.buffer).setUint16(4, PROTOCOL_VERSION + 1, true);
    const answer = await raw("127.0.0.2", port, future);
    assert.equal(new DataView(answer.buffer).getUint16(4, true), PROTOCOL_VERSION);
    await daemon.waitFor(
      /Refused master 127\.0\.0\.1:\d+: it runs octane 9\.9\.9 \(protocol \d+\), this daemon runs octane .*: run the same octane on every node/,
    );

    // after the handshake: a frame longer than its type allows, and a probe that is not JSON
    for (
      const [length, body, reason] of [[0xfffffff0, [], /over its \d+-byte limit/], [
        2,
        [1, 2],
        /probe is not valid JSON/,
      ]] as const
    ) {
      const { channel, reader } = await sealedDaemonChannel("127.0.0.2", port);
      const header = new Uint8Array(8);
      new DataView(header.buffer).setUint16(0, 13, true); // probe
      new DataView(header.buffer).setUint32(4, length, true);
      await channel.write([header, new Uint8Array(body)]);
      const refuse = await reader.next();
      assert.equal(refuse?.type, "refuse");
      assert.match(new TextDecoder().decode(refuse!.payload), reason);
      channel.close();
    }

    const stranger = await Link.connect("127.0.0.2", port, { service: "watch" });
    await stranger.send("watch", { token: "guess", pid: 1 });
    const refused = await stranger.receive();
    assert.ok(refused?.type === "refuse");
    assert.match(refused.body.reason, /unknown slave token/);
    stranger.close();

    assert.equal((await statusOf("127.0.0.2", port)).state, "available");
    await stopDaemon(daemon);
  });
});

Deno.test("a daemon with a farm key refuses masters without it or with another; a master with it enables the daemon", async () => {
  await withDir(async (dir) => {
    for (const name of ["key", "other"]) {
      await makeKey(`${dir}/${name}`);
    }
    await processes(async (start) => {
      const port = nextPort++;
      const daemon = await startDaemon(start, "127.0.0.2", port, ["--key-file", `${dir}/key`]);
      // and one without a key (no default key file in its home): a keyed master must not take it either
      const open = start(["daemon", "--bind", "127.0.0.3", "--port", String(port)], {
        HOME: dir,
        XDG_CONFIG_HOME: `${dir}/config`,
      });
      await open.waitFor(/Daemon listening on/, 120_000);
      const keyless = await Link.connect("127.0.0.2", port, { service: "daemon" }).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(keyless instanceof HandshakeError && keyless.kind === "key-unexpected", String(keyless));
      const scan = ["--subnet", "127.0.0.2/31", "--daemon-port", String(port), "--spp", "8", ...SIZE];
      const master = (extra: string[], out: string) =>
        start([
          "master",
          "--bind",
          "127.0.0.1",
          "--port",
          String(nextMasterPort++),
          "--auto-port",
          ...scan,
          ...extra,
          "-o",
          out,
        ], {
          HOME: dir,
          XDG_CONFIG_HOME: `${dir}/config`,
        });
      const without = master([], `${dir}/a.png`);
      assert.equal(await without.exit(), 0, without.out);
      assert.match(without.out, /127\.0\.0\.2 +refused: it requires a farm key and this master has none/);
      const other = master(["--key-file", `${dir}/other`], `${dir}/b.png`);
      assert.equal(await other.exit(), 0, other.out);
      assert.match(other.out, /127\.0\.0\.2 +refused: its farm key differs from this master's/);
      assert.match(other.out, /127\.0\.0\.3 +refused: it has no farm key and this master has one/);
      assert.match(without.out, /127\.0\.0\.3 .*available/, "the keyless master sees the keyless daemon");
      await daemon.waitFor(
        /Refused master 127\.0\.0\.1:\d+: the handshake failed: its farm key differs from this daemon's/,
      );
      const keyed = master([
        "--key-file",
        `${dir}/key`,
        "--wait-slaves",
        "1",
        "--report",
        `${dir}/report.json`,
      ], `${dir}/c.png`);
      assert.equal(await keyed.exit(), 0, keyed.out);
      const report = JSON.parse(await Deno.readTextFile(`${dir}/report.json`));
      assert.ok(
        report.nodes.some((n: { daemon?: string; samples: number }) =>
          n.daemon === "127.0.0.2" && n.samples > 0
        ),
        "the keyed daemon's slave rendered",
      );
      assert.doesNotMatch(daemon.out, /No farm key/);
      await stopDaemon(daemon);
    });
  });
});

const KINDS = {
  systemd: {
    path: ".config/systemd/user/octane-daemon.service",
    exec: /^ExecStart=\S+octane daemon --port PORT$/m,
  },
  xdg: { path: ".config/autostart/octane-daemon.desktop", exec: /^Exec=\S+octane daemon --port PORT$/m },
  launchd: {
    path: "Library/LaunchAgents/com.octane.daemon.plist",
    exec:
      /<string>\S+octane<\/string>\n\s*<string>daemon<\/string>\n\s*<string>--port<\/string>\n\s*<string>PORT<\/string>/,
  },
  windows: {
    path: "AppData/Roaming/Microsoft/Windows/Start Menu/Programs/Startup/octane-daemon.bat",
    exec: /^start "octane daemon" \/min "\S+octane" "daemon" "--port" "PORT"\r$/m,
  },
};

for (const [kind, expect] of Object.entries(KINDS)) {
  Deno.test(`daemon install, status and uninstall (${kind}) in a temporary HOME, the port prompt answered by RETURN and by a number`, async () => {
    await withDir(async (home) => {
      const env = { HOME: home, XDG_CONFIG_HOME: `${home}/.config`, OCTANE_STARTUP: kind, APPDATA: "" };
      const run = async (args: string[], stdin?: string) => {
        const p = octane(["daemon", ...args], env, stdin === undefined ? {} : { stdin });
        return { code: await p.exit(), out: p.out };
      };
      const file = `${home}/${expect.path}`;
      const byReturn = await run(["install", "--no-start"], "\n");
      assert.equal(byReturn.code, 0, byReturn.out);
      assert.match(byReturn.out, /Port for master requests \[48000\]:/);
      assert.match(byReturn.out, /Installed the octane daemon on port 48000/);
      // the command the entry runs, absolute, since "octane" is not on PATH in a checkout
      assert.match(byReturn.out, /^It runs: \/\S+\/octane daemon --port 48000$/m);
      // no key yet: RETURN (here, the end of stdin) creates one, and the command to copy it is printed
      const keyFile = `${home}/.config/octane/key`;
      assert.match(byReturn.out, /No farm key yet: create one at \S+\/\.config\/octane\/key\? \[Y\/n\]/);
      assert.match(byReturn.out, /Wrote a new farm key to \S+\/\.config\/octane\/key \(mode 0600\)/);
      assert.match(
        byReturn.out,
        /Copy the key to the master .*: ssh MASTER '.*cat > ~\/\.config\/octane\/key' < \S+\/octane\/key/,
      );
      assert.match(await Deno.readTextFile(keyFile), /^[0-9a-f]{64}\n$/);
      assert.equal((await Deno.stat(keyFile)).mode! & 0o777, 0o600);
      assert.match(
        await Deno.readTextFile(file),
        new RegExp(expect.exec.source.replace("PORT", "48000"), "m"),
      );

      const byNumber = await run(["install", "--no-start"], "48123\n");
      assert.equal(byNumber.code, 0, byNumber.out);
      assert.match(byNumber.out, /Port for master requests \[48000\]:/);
      assert.match(byNumber.out, /The daemon uses the farm key in \S+\/\.config\/octane\/key/);
      const text = await Deno.readTextFile(file);
      assert.match(text, new RegExp(expect.exec.source.replace("PORT", "48123"), "m"));
      if (kind === "systemd") {
        assert.match(text, /^WantedBy=default\.target$/m);
        const wants = `${home}/.config/systemd/user/default.target.wants/octane-daemon.service`;
        assert.equal(await Deno.readLink(wants), "../octane-daemon.service");
        await Deno.stat(wants); // the link resolves
      }
      if (kind === "windows") {
        assert.ok(text.split("\n").every((l) => l === "" || l.endsWith("\r")), "CRLF lines");
      }

      const status = await run(["status", "--port", "1"]);
      assert.equal(status.code, 3, status.out);
      assert.match(
        status.out,
        new RegExp(`Installed: .*/${expect.path.split("/").at(-1)!.replaceAll(".", "\\.")}, port 48123`),
      );
      assert.match(status.out, /Not running: no daemon answers on 127\.0\.0\.1:1/);

      // a re-install offers the installed port, and RETURN keeps it
      const again = await run(["install", "--no-start"], "\n");
      assert.equal(again.code, 0, again.out);
      assert.match(again.out, /Port for master requests \[48123\]:/);
      assert.match(
        await Deno.readTextFile(file),
        new RegExp(expect.exec.source.replace("PORT", "48123"), "m"),
      );

      const bad = await run(["install", "--no-start"], "http\n");
      assert.equal(bad.code, 2, bad.out);
      assert.match(
        bad.out,
        /octane: Invalid port "http": must be an integer from 1 to 65535, and the input ended/,
      );

      // an explicit key file is named in the entry; a key file others can read is refused
      const explicit = `${home}/farm-key`;
      await Deno.writeTextFile(explicit, `${"ab".repeat(32)}\n`, { mode: 0o600 });
      const named = await run(["install", "--no-start", "--port", "48124", "--key-file", explicit]);
      assert.equal(named.code, 0, named.out);
      assert.ok((await Deno.readTextFile(file)).includes(explicit), "the entry names --key-file");
      // a re-install without --key-file keeps that key file, not the default one
      const kept = await run(["install", "--no-start", "--port", "48124"]);
      assert.equal(kept.code, 0, kept.out);
      assert.match(
        kept.out,
        new RegExp(`The daemon uses the farm key in ${explicit.replaceAll(".", "\\.")}$`, "m"),
      );
      assert.ok(
        (await Deno.readTextFile(file)).includes(explicit),
        "the re-installed entry names the key file",
      );
      await Deno.chmod(explicit, 0o644);
      const open = await run(["install", "--no-start", "--port", "48124", "--key-file", explicit]);
      assert.equal(open.code, 2, open.out);
      assert.match(
        open.out,
        /octane: Key file "\S+" is readable by others \(mode 0644\): run "chmod 600 \S+"/,
      );

      const removed = await run(["uninstall", "--no-stop"]);
      assert.equal(removed.code, 0, removed.out);
      assert.match(removed.out, /Removed the octane daemon's/);
      await assert.rejects(Deno.stat(file), Deno.errors.NotFound);
      const after = await run(["status", "--port", "1"]);
      assert.match(after.out, /Not installed/);
    });
  });
}

Deno.test("daemon install asks again after a wrong port, and gives up after three wrong answers", async () => {
  await withDir(async (home) => {
    const env = { HOME: home, XDG_CONFIG_HOME: `${home}/.config`, OCTANE_STARTUP: "xdg" };
    const run = async (stdin: string) => {
      const p = octane(["daemon", "install", "--no-start"], env, { stdin });
      return { code: await p.exit(), out: p.out };
    };
    const file = `${home}/.config/autostart/octane-daemon.desktop`;
    const third = await run("http\n70000\n48125\n");
    assert.equal(third.code, 0, third.out);
    assert.equal(third.out.match(/Port for master requests \[48000\]:/g)?.length, 3, third.out);
    // the prompt (stdout) and the complaint (stderr) come through two pipes: their order in out may vary
    assert.match(third.out, /Invalid port "http": must be an integer from 1 to 65535; try again$/m);
    assert.match(third.out, /Invalid port "70000": must be an integer from 1 to 65535; try again$/m);
    assert.match(third.out, /Installed the octane daemon on port 48125/);
    assert.match(await Deno.readTextFile(file), /--port 48125$/m);
    await Deno.remove(file);

    const never = await run("a\nb\nc\n48126\n");
    assert.equal(never.code, 2, never.out);
    assert.equal(never.out.match(/Port for master requests/g)?.length, 3, never.out);
    assert.match(
      never.out,
      /octane: Invalid port "c": must be an integer from 1 to 65535 \(3 wrong answers\): pass --port N$/m,
    );
    await assert.rejects(Deno.stat(file), Deno.errors.NotFound);
  });
});

Deno.test("daemon install with systemd: a refused daemon-reload fails with exit 1, a good one starts it and says how to start at boot; XDG warns it needs a desktop login", async () => {
  await withDir(async (home) => {
    // a fake systemctl that logs its arguments, and refuses daemon-reload while FAIL is set
    const bin = `${home}/bin`;
    await Deno.mkdir(bin);
    await Deno.writeTextFile(
      `${bin}/systemctl`,
      `#!/bin/sh\necho "$*" >> "${home}/systemctl.log"\n` +
        `if [ "$2" = daemon-reload ] && [ -n "$FAIL" ]; then echo "Failed to connect to bus: No medium found" >&2; exit 1; fi\n`,
      { mode: 0o755 },
    );
    const base = {
      HOME: home,
      XDG_CONFIG_HOME: `${home}/.config`,
      OCTANE_STARTUP: "",
      USER: "ann",
      PATH: `${bin}:${Deno.env.get("PATH")}`,
    };
    const run = async (args: string[], extra: Record<string, string> = {}) => {
      const p = octane(["daemon", ...args], { ...base, ...extra }, { stdin: "\n" });
      return { code: await p.exit(), out: p.out };
    };
    const unit = `${home}/.config/systemd/user/octane-daemon.service`;
    const log = () => Deno.readTextFile(`${home}/systemctl.log`).catch(() => "");

    const refused = await run(["install", "--startup", "systemd", "--port", "48131"], { FAIL: "1" });
    assert.equal(refused.code, 1, refused.out);
    assert.match(
      refused.out,
      /^octane: Wrote \S+octane-daemon\.service, but "systemctl --user daemon-reload" failed: Failed to connect to bus: No medium found: .*--no-start/m,
    );
    assert.doesNotMatch(refused.out, /Installed/);
    assert.equal(await log(), "--user daemon-reload\n");

    const good = await run(["install", "--startup", "systemd", "--port", "48131"]);
    assert.equal(good.code, 0, good.out);
    assert.equal(
      (await log()).split("\n").slice(1).join("\n"),
      "--user daemon-reload\n--user restart octane-daemon.service\n",
    );
    assert.match(good.out, /Installed the octane daemon on port 48131: systemd user unit/);
    assert.match(good.out, /Started it now/);
    assert.match(
      good.out,
      /To start it at boot, before anyone logs in, run once: loginctl enable-linger ann/,
    );
    assert.match(await Deno.readTextFile(unit), /^ExecStart=\/\S+\/octane daemon --port 48131$/m);

    // XDG autostart in its place: the systemd unit's port is the default, the unit goes, and a warning says
    // that XDG autostart needs a desktop login
    const xdg = await run(["install", "--startup", "xdg", "--no-start"]);
    assert.equal(xdg.code, 0, xdg.out);
    assert.match(xdg.out, /Port for master requests \[48131\]:/);
    assert.match(xdg.out, /Removed the previous systemd user unit/);
    await assert.rejects(Deno.stat(unit), Deno.errors.NotFound);
    const systemd = await Deno.stat("/run/systemd/system").then(() => true, () => false);
    assert.match(
      xdg.out,
      systemd
        ? /^Warning: an XDG autostart entry runs only when someone logs in to a desktop, never on a headless node: there, run "\/\S+\/octane daemon install --startup systemd" and "loginctl enable-linger ann"/m
        : /^Warning: an XDG autostart entry runs only when someone logs in to a desktop, and this machine runs no systemd/m,
    );

    // uninstall finds the entry of either kind without --startup
    const removed = await run(["uninstall", "--no-stop"]);
    assert.equal(removed.code, 0, removed.out);
    assert.match(removed.out, /Removed the octane daemon's XDG autostart entry/);
    const bad = await run(["install", "--startup", "cron"]);
    assert.equal(bad.code, 2, bad.out);
    assert.match(bad.out, /^octane: Invalid --startup "cron": expected systemd, xdg, launchd, windows$/m);
  });
});

Deno.test("daemon status finds a running daemon and what it reports; a second daemon on its port gets a clear error", async () => {
  await processes(async (start) => {
    const port = nextPort++;
    const daemon = await startDaemon(start, "127.0.0.3", port);
    const status = octane(["daemon", "status", "--port", String(port), "--bind", "127.0.0.3"]);
    assert.equal(await status.exit(), 0, status.out);
    assert.match(
      status.out,
      /Running on port \d+: octane \d+\.\d+\.\d+, available, \w+ \w+ \(64-bit\), GPUs: /,
    );
    const twin = octane(["daemon", "--bind", "127.0.0.3", "--port", String(port)]);
    assert.equal(await twin.exit(), 2, twin.out);
    assert.match(twin.out, /octane: Port \d+ on 127\.0\.0\.3 is in use \(another daemon\?\)/);
    await stopDaemon(daemon);
  });
});

/** CPU seconds (user + system) a process has used so far. */
async function cpuSeconds(pid: number): Promise<number> {
  const fields = ((await procStat(pid)) ?? "").replace(/^.*\) /, "").split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (100 Hz)
}

Deno.test("a start/stop flood: one slave at a time, starts at most once a second, and the daemon idles afterwards", async () => {
  await withDir(async (dir) => {
    const key = await makeKey(`${dir}/key`);
    await processes(async (start) => {
      const port = nextPort++;
      const daemon = await startDaemon(start, "127.0.0.2", port, [
        "--key-file",
        `${dir}/key`,
        "--grace",
        "1",
      ]);
      let most = 0, samples = 0;
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          const pids = [...daemon.out.matchAll(/Started slave (\d+)/g)].map((m) => Number(m[1]));
          const alive = await Promise.all(pids.map(running));
          most = Math.max(most, alive.filter(Boolean).length);
          samples++;
          await new Promise((r) => setTimeout(r, 10));
        }
      })();
      const t0 = performance.now();
      let refused = 0, gated = 0;
      try {
        // five seconds of start, stop, start, stop… as fast as the daemon answers
        for (let round = 0; round < 20_000 && performance.now() - t0 < 5000; round++) {
          // past 30 handshakes a second from one address the daemon closes connections unanswered
          const opened = await probeLink("127.0.0.2", port, 5000 + round, key).catch(() => undefined);
          if (!opened) {
            gated++;
            await new Promise((r) => setTimeout(r, 5));
            continue;
          }
          await opened.link.send("start", {});
          const answer = await opened.link.receive();
          if (answer?.type === "refuse") refused++;
          await opened.link.send("stop", {}).catch(() => {});
          opened.link.close();
        }
      } finally {
        sampling = false;
        await sampler;
      }
      const started = [...daemon.out.matchAll(/Started slave (\d+)/g)].length;
      const seconds = (performance.now() - t0) / 1000;
      assert.ok(most <= 1, `${most} slaves ran at once`);
      assert.ok(samples > 20 && started >= 2, `${samples} samples of ${started} slaves`);
      assert.ok(started <= Math.ceil(seconds) + 1, `${started} slaves started in ${seconds.toFixed(1)} s`);
      assert.ok(refused > 0 && gated > 0, `${refused} starts refused, ${gated} connections gated`);
      await daemon.waitFor(/Available again/, 20_000);
      // no timer or loop left running: under 5 % of a core over two seconds
      await new Promise((r) => setTimeout(r, 1500));
      const before = await cpuSeconds(daemon.pid);
      await new Promise((r) => setTimeout(r, 2000));
      const used = (await cpuSeconds(daemon.pid)) - before;
      assert.ok(used < 0.1, `the daemon used ${used.toFixed(2)} s of CPU in 2 s while idle`);
      const after = await probeLink("127.0.0.2", port, 1, key);
      after.link.close();
      assert.equal(after.status.state, "available");
      await stopDaemon(daemon);
    });
  });
});

Deno.test("a master notices an enabled daemon whose host went silent (frozen, crashed, unplugged) and lists it as lost", async () => {
  await withDir(async (dir) => {
    await processes(async (start) => {
      const port = nextPort++;
      const daemon = await startDaemon(start, "127.0.0.2", port);
      const master = start([
        "master",
        "--bind",
        "127.0.0.1",
        "--port",
        String(nextMasterPort++),
        "--auto-port",
        "--subnet",
        "127.0.0.2/32",
        "--daemon-port",
        String(port),
        "--scan-interval",
        "30",
        "--heartbeat-timeout",
        "2",
        "--spp",
        "100000",
        ...SIZE,
        "-o",
        `${dir}/net.png`,
      ]);
      await master.waitFor(/127\.0\.0\.2 .*enabled, slave pid \d+/);
      const mark = master.out.length;
      const t0 = performance.now();
      Deno.kill(daemon.pid, "SIGSTOP"); // the daemon's host freezes: no close, no reset, only silence
      try {
        await master.waitFor(
          /Daemon 127\.0\.0\.2 is no longer enabled: lost: no heartbeat for 2 s/,
          20_000,
          mark,
        );
        assert.ok((performance.now() - t0) / 1000 < 2 + 3, "noticed within the timeout and a little");
        await master.waitFor(/127\.0\.0\.2 .*lost: no heartbeat for 2 s/, 5000, mark);
      } finally {
        Deno.kill(daemon.pid, "SIGCONT");
      }
      master.kill("SIGINT");
      await master.exit(20_000);
      await stopDaemon(daemon);
    });
  });
});
