/**
 * `octane daemon install`, `uninstall` and `status` as a user runs them: in a temporary HOME, for every kind
 * of start-up entry (systemd user unit, XDG autostart, launchd, Windows Startup folder), with the port
 * prompt answered on stdin and a fake systemctl; and `daemon status` against a running daemon.
 */
import assert from "node:assert/strict";
import { NETS, octane, processes, re, startDaemon, stop, withDir } from "./_harness.ts";

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
    const address = `${NETS.daemonInstall}.3`;
    const daemon = await startDaemon(start, { address });
    const status = octane(["daemon", "status", "--port", String(daemon.port), "--bind", address]);
    assert.equal(await status.exit(), 0, status.out);
    assert.match(
      status.out,
      /Running on port \d+: octane \d+\.\d+\.\d+, available, \w+ \w+ \(64-bit\), GPUs: /,
    );
    const twin = octane(["daemon", "--bind", address, "--port", String(daemon.port)]);
    assert.equal(await twin.exit(), 2, twin.out);
    assert.match(
      twin.out,
      new RegExp(`octane: Port ${daemon.port} on ${re(address)} is in use \\(another daemon\\?\\)`),
    );
    assert.equal(await stop(daemon), 0, daemon.out);
  });
});
