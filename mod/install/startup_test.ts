import assert from "node:assert/strict";
import { type StartupContext, startupContext, startupEntry, startupPath } from "./startup.ts";

const env = (vars: Record<string, string>) => (name: string) => vars[name];
const context = (kind: StartupContext["kind"]): StartupContext => ({
  kind,
  home: "/home/ann",
  env: env({ HOME: "/home/ann" }),
});
const command = ["/opt/my apps/octane", "--flag=50%"];

Deno.test("startup entries quote an executable path with spaces and percent signs for each system", () => {
  const systemd = startupEntry(context("systemd"), { command, port: 48001 });
  assert.deepEqual(systemd.args, [...command, "daemon", "--port", "48001"]);
  assert.match(systemd.content, /^ExecStart="\/opt\/my apps\/octane" --flag=50%% daemon --port 48001$/m);
  assert.deepEqual(systemd.link, {
    path: "/home/ann/.config/systemd/user/default.target.wants/octane-daemon.service",
    target: "../octane-daemon.service",
  });
  const xdg = startupEntry(context("xdg"), { command, port: 48001 });
  assert.match(xdg.content, /^Exec="\/opt\/my apps\/octane" "--flag=50%%" daemon --port 48001$/m);
  const launchd = startupEntry(context("launchd"), { command: ["/Apps/a&b/octane"], port: 48001 });
  assert.match(launchd.content, /<string>\/Apps\/a&amp;b\/octane<\/string>/);
  assert.match(launchd.content, /<string>\/home\/ann\/Library\/Logs\/octane-daemon\.log<\/string>/);
  const bat = startupEntry(context("windows"), { command: ["C:\\Program Files\\octane.exe"], port: 48001 });
  assert.match(
    bat.content,
    /^start "octane daemon" \/min "C:\\Program Files\\octane\.exe" "daemon" "--port" "48001"\r$/m,
  );
});

Deno.test("startup paths follow XDG_CONFIG_HOME and APPDATA, and OCTANE_STARTUP is checked", () => {
  const c = { kind: "xdg" as const, home: "/h", env: env({ XDG_CONFIG_HOME: "/cfg" }) };
  assert.equal(startupPath(c), "/cfg/autostart/octane-daemon.desktop");
  assert.equal(
    startupPath({ kind: "windows", home: "C:/Users/a", env: env({ APPDATA: "D:/Roaming" }) }),
    "D:/Roaming/Microsoft/Windows/Start Menu/Programs/Startup/octane-daemon.bat",
  );
  assert.equal(startupContext(env({ HOME: "/h", OCTANE_STARTUP: "launchd" })).kind, "launchd");
  // --startup KIND wins over OCTANE_STARTUP
  assert.equal(startupContext(env({ HOME: "/h", OCTANE_STARTUP: "xdg" }), "systemd").kind, "systemd");
  assert.throws(
    () => startupContext(env({ HOME: "/h", OCTANE_STARTUP: "cron" })),
    /is not one of systemd, xdg/,
  );
  assert.throws(
    () => startupContext(env({ OCTANE_STARTUP: "xdg" })),
    /Cannot find your home folder: set HOME/,
  );
});
