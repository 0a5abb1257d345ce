/**
 * Daemons with real processes on loopback: daemons on 127.0.0.2 and 127.0.0.3, masters on 127.0.0.1
 * scanning 127.0.0.0/29. Every wait has a deadline; every process is stopped at the end.
 */
import assert from "node:assert/strict";
import {
  encodeFrame,
  type Frame,
  frameHeader,
  FrameReader,
  jsonPayload,
  parseJson,
} from "../mod/net/protocol/mod.ts";
import { PROTOCOL_VERSION } from "../mod/version.ts";
import { assertClose, octane, processes, readPfm, type Running, type Start, withDir } from "./_process.ts";

const SIZE = ["--width", "40", "--height", "32", "--seed", "3"];
let nextPort = 49000 + Math.floor(Math.random() * 400) * 2;
let nextMasterPort = 26000 + Math.floor(Math.random() * 400) * 4;

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

/** One exchange on the daemon port: sends `bytes` (then, with `end`, closes the sending side), reads a frame. */
async function exchange(
  address: string,
  port: number,
  bytes: Uint8Array,
  end = false,
): Promise<Frame | null> {
  const conn = await Deno.connect({ hostname: address, port });
  try {
    await conn.write(bytes);
    if (end) await conn.closeWrite();
    const reader = new FrameReader(conn);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) =>
      timer = setTimeout(() => reject(new Error("the daemon did not answer within 10 s")), 10_000)
    );
    try {
      return await Promise.race([reader.next(), timeout]);
    } finally {
      clearTimeout(timer);
    }
  } finally {
    conn.close();
  }
}

function probeFrame(masterPort = 1, version = PROTOCOL_VERSION): Uint8Array {
  return encodeFrame(version, "probe", jsonPayload({ port: masterPort, nonce: "00" }));
}

/** The daemon's status for a master on `masterPort`. */
async function statusOf(address: string, port: number, masterPort = 1): Promise<Record<string, unknown>> {
  const f = await exchange(address, port, probeFrame(masterPort));
  assert.equal(f?.type, "status", `expected a status answer, got ${f?.type}`);
  return parseJson(f!.payload, "status");
}

async function gone(pid: number, ms: number): Promise<boolean> {
  const deadline = performance.now() + ms;
  while (performance.now() < deadline) {
    try {
      const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
      if (/^\d+ \(.*\) Z/.test(stat)) return true; // a zombie has exited
    } catch {
      return true;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

/** A fake daemon of another octane release on `address`: answers every probe with its status. */
function fakeDaemon(address: string, port: number): { close(): void; requests: string[] } {
  const listener = Deno.listen({ hostname: address, port });
  const requests: string[] = [];
  (async () => {
    for await (const conn of listener) {
      (async () => {
        try {
          const reader = new FrameReader(conn);
          for (let i = 0; i < 10; i++) {
            const f = await reader.next();
            if (!f) break;
            requests.push(f.type);
            const status = {
              version: "9.9.9",
              protocol: PROTOCOL_VERSION + 1,
              host: "future",
              os: "linux",
              arch: "x86_64",
              bits: 64,
              gpus: [{ name: "Future GPU", vendor: "", software: false }],
              state: "available",
            };
            await conn.write(encodeFrame(PROTOCOL_VERSION + 1, "status", jsonPayload(status)));
          }
        } catch {
          // the master closed it
        } finally {
          conn.close();
        }
      })();
    }
  })().catch(() => {});
  return { close: () => listener.close(), requests };
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
          "-o",
          `${dir}/net.png`,
          "--hdr",
          `${dir}/net.pfm`,
          "--report",
          `${dir}/report.json`,
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
        assert.match(master.out, /127\.0\.0\.4 +octane 9\.9\.9 \(protocol 2\): another version, not enabled/);
        assert.equal(await master.exit(), 0, master.out);
        assert.match(master.out, /spp .* 3 daemons \([0-2] enabled\)/, "the status line counts the daemons");
        assertClose(await readPfm(`${dir}/net.pfm`), await readPfm(`${dir}/ref.pfm`), 1e-5);
        const report = JSON.parse(await Deno.readTextFile(`${dir}/report.json`));
        const slaves = report.nodes.filter((n: { role: string }) => n.role === "slave");
        assert.deepEqual(slaves.map((n: { daemon: string }) => n.daemon).sort(), ["127.0.0.2", "127.0.0.3"]);
        for (const n of slaves) {
          assert.ok(n.samples > 0, `the slave of daemon ${n.daemon} contributed nothing`);
        }
        assert.ok(!future.requests.includes("start"), "a daemon of another version was sent a start request");
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
      const conn = await Deno.connect({ hostname: "127.0.0.2", port });
      try {
        const reader = new FrameReader(conn);
        await conn.write(probeFrame(9));
        assert.equal(parseJson((await reader.next())!.payload, "status").state, "occupied");
        await conn.write(encodeFrame(PROTOCOL_VERSION, "start", jsonPayload({})));
        const refuse = await reader.next();
        assert.equal(refuse?.type, "refuse");
        const m = parseJson(refuse!.payload, "refuse");
        assert.equal(m.master, `127.0.0.1:${firstPort}`);
        assert.match(String(m.reason), /occupied by master 127\.0\.0\.1:\d+/);
      } finally {
        conn.close();
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

Deno.test("garbage, truncated and wrong-version requests on the daemon port are refused, and the daemon keeps serving", async () => {
  await processes(async (start) => {
    const port = nextPort++;
    const daemon = await startDaemon(start, "127.0.0.2", port);
    const reason = (f: Frame | null) => String(parseJson(f!.payload, "refuse").reason);

    const garbage = await exchange(
      "127.0.0.2",
      port,
      new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
    );
    assert.equal(garbage?.type, "refuse");
    assert.match(reason(garbage), /wrong magic/);

    const probe = probeFrame();
    const cutHeader = await exchange("127.0.0.2", port, probe.subarray(0, 10), true);
    assert.match(reason(cutHeader), /ended inside a frame header/);
    const cutPayload = await exchange("127.0.0.2", port, probe.subarray(0, probe.length - 3), true);
    assert.match(reason(cutPayload), /ended inside a probe frame/);

    const huge = await exchange(
      "127.0.0.2",
      port,
      frameHeader(PROTOCOL_VERSION, "probe", 0).fill(0xff, 12, 16),
    );
    assert.match(reason(huge), /over the \d+-byte limit/);

    const notJson = await exchange(
      "127.0.0.2",
      port,
      encodeFrame(PROTOCOL_VERSION, "probe", new Uint8Array([1, 2])),
    );
    assert.match(reason(notJson), /not valid JSON/);

    const wrong = await exchange("127.0.0.2", port, probeFrame(1, PROTOCOL_VERSION + 1));
    assert.equal(wrong?.type, "refuse");
    assert.match(reason(wrong), /protocol version mismatch.*run the same octane on every node/);

    const stranger = await exchange(
      "127.0.0.2",
      port,
      encodeFrame(PROTOCOL_VERSION, "hello", jsonPayload({ role: "watch", token: "guess" })),
    );
    assert.match(reason(stranger), /unknown slave token/);

    assert.equal((await statusOf("127.0.0.2", port)).state, "available");
    assert.match(daemon.out, /Closing connection with 127\.0\.0\.1:\d+: wrong magic/);
    await stopDaemon(daemon);
  });
});

Deno.test("a daemon with a secret refuses masters that do not prove it; a master with it enables the daemon", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/secret`, "lan passphrase\n");
    await processes(async (start) => {
      const port = nextPort++;
      const daemon = await startDaemon(start, "127.0.0.2", port, ["--secret-file", `${dir}/secret`]);
      const refused = await exchange("127.0.0.2", port, probeFrame());
      assert.equal(refused?.type, "challenge", "a probe without the secret gets only a challenge");
      const scan = ["--subnet", "127.0.0.2/32", "--daemon-port", String(port), "--spp", "8", ...SIZE];
      const without = start([
        "master",
        "--bind",
        "127.0.0.1",
        "--port",
        String(nextMasterPort++),
        "--auto-port",
        ...scan,
        "-o",
        `${dir}/a.png`,
      ]);
      assert.equal(await without.exit(), 0, without.out);
      assert.match(without.out, /127\.0\.0\.2 +refused: it needs the shared secret/);
      const withSecret = start([
        "master",
        "--bind",
        "127.0.0.1",
        "--port",
        String(nextMasterPort++),
        "--auto-port",
        ...scan,
        "--wait-slaves",
        "1",
        "--secret-file",
        `${dir}/secret`,
        "--report",
        `${dir}/report.json`,
        "-o",
        `${dir}/b.png`,
      ]);
      assert.equal(await withSecret.exit(), 0, withSecret.out);
      const report = JSON.parse(await Deno.readTextFile(`${dir}/report.json`));
      assert.ok(
        report.nodes.some((n: { daemon?: string; samples: number }) =>
          n.daemon === "127.0.0.2" && n.samples > 0
        ),
      );
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
      assert.match(
        await Deno.readTextFile(file),
        new RegExp(expect.exec.source.replace("PORT", "48000"), "m"),
      );

      const byNumber = await run(["install", "--no-start"], "48123\n");
      assert.equal(byNumber.code, 0, byNumber.out);
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

      const bad = await run(["install", "--no-start"], "http\n");
      assert.equal(bad.code, 2, bad.out);
      assert.match(bad.out, /octane: Invalid --port "http": must be an integer from 1 to 65535/);

      const removed = await run(["uninstall", "--no-stop"]);
      assert.equal(removed.code, 0, removed.out);
      assert.match(removed.out, /Removed the octane daemon's/);
      await assert.rejects(Deno.stat(file), Deno.errors.NotFound);
      const after = await run(["status", "--port", "1"]);
      assert.match(after.out, /Not installed/);
    });
  });
}

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
