import { dirname, join } from "node:path";
import { fromHex, toHex } from "../bytes.ts";
import systemdTemplate from "../../install/templates/octane-daemon.service" with { type: "text" };
import desktopTemplate from "../../install/templates/octane-daemon.desktop" with { type: "text" };
import launchdTemplate from "../../install/templates/com.octane.daemon.plist" with { type: "text" };
import batTemplate from "../../install/templates/octane-daemon.bat" with { type: "text" };

/** How the daemon is started at login. */
export type StartupKind = "systemd" | "xdg" | "launchd" | "windows";

/** Environment variable that forces a start-up kind (tests, or XDG autostart on a systemd desktop). */
export const STARTUP_ENV = "OCTANE_STARTUP";

/** Where and how the start-up entry lives on this machine. */
export interface StartupContext {
  /** The start-up mechanism. */
  kind: StartupKind;
  /** The user's home folder. */
  home: string;
  /** Reads an environment variable. */
  env: (name: string) => string | undefined;
}

/** A start-up entry: the file that runs the daemon at login, and the link that enables it (systemd). */
export interface StartupEntry {
  /** Its kind. */
  kind: StartupKind;
  /** The command it runs: executable and arguments. */
  args: string[];
  /** The file. */
  path: string;
  /** Its text. */
  content: string;
  /** A symbolic link that enables the file (systemd's default.target.wants), with its target. */
  link?: { path: string; target: string };
}

/** Names of the kinds, for messages. */
export const KIND_NAMES: Record<StartupKind, string> = {
  systemd: "systemd user unit",
  xdg: "XDG autostart entry",
  launchd: "launchd LaunchAgent",
  windows: "Windows Startup script",
};

/** Whether `name` is a start-up kind. */
export function isStartupKind(name: string): name is StartupKind {
  return Object.hasOwn(KIND_NAMES, name);
}

/** Whether systemd runs this machine (then the user's systemd can run the daemon). */
export function systemdRuns(): boolean {
  return Deno.build.os === "linux" && exists("/run/systemd/system");
}

/**
 * This machine's start-up mechanism: `kind` when given, else OCTANE_STARTUP when set; macOS: launchd;
 * Windows: the Startup folder; elsewhere a systemd user unit when systemd runs, else XDG autostart.
 * @throws {RangeError} for an OCTANE_STARTUP that names no kind, or a machine without a home folder
 */
export function startupContext(
  env: (name: string) => string | undefined = (n) => Deno.env.get(n),
  kind?: StartupKind,
): StartupContext {
  const forced = kind ?? env(STARTUP_ENV);
  if (forced) {
    if (!isStartupKind(forced)) {
      throw new RangeError(`${STARTUP_ENV}="${forced}" is not one of ${Object.keys(KIND_NAMES).join(", ")}`);
    }
    kind = forced;
  } else if (Deno.build.os === "darwin") kind = "launchd";
  else if (Deno.build.os === "windows") kind = "windows";
  else kind = systemdRuns() ? "systemd" : "xdg";
  const home = env("HOME") ?? env("USERPROFILE");
  if (!home) throw new RangeError("Cannot find your home folder: set HOME");
  return { kind, home, env };
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

function configHome(c: StartupContext): string {
  return c.env("XDG_CONFIG_HOME") || join(c.home, ".config");
}

/** The path of the start-up file for this context. */
export function startupPath(c: StartupContext): string {
  switch (c.kind) {
    case "systemd":
      return join(configHome(c), "systemd", "user", "octane-daemon.service");
    case "xdg":
      return join(configHome(c), "autostart", "octane-daemon.desktop");
    case "launchd":
      return join(c.home, "Library", "LaunchAgents", "com.octane.daemon.plist");
    case "windows": {
      const appData = c.env("APPDATA") || join(c.home, "AppData", "Roaming");
      return join(appData, "Microsoft", "Windows", "Start Menu", "Programs", "Startup", "octane-daemon.bat");
    }
  }
}

/** Quotes an argument for systemd's ExecStart (C-style quotes; % doubled). */
function systemdArg(a: string): string {
  const escaped = a.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/%/g, "%%");
  return /^[\w@%+=:,./-]+$/.test(a) ? escaped : `"${escaped}"`;
}

/** Quotes an argument for a .desktop Exec key (the Desktop Entry specification's rules). */
function desktopArg(a: string): string {
  const escaped = a.replace(/([\\"`$])/g, "\\$1").replace(/%/g, "%%");
  return /^[\w@+=:,./-]+$/.test(a) ? escaped : `"${escaped}"`;
}

function xml(a: string): string {
  return a.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Quotes an argument for a Windows batch file. */
function batArg(a: string): string {
  return `"${a.replace(/%/g, "%%").replace(/"/g, '""')}"`;
}

function fill(template: string, values: Record<string, string>): string {
  return template.replace(/\{\{(\w+)\}\}/g, (_, key: string) => values[key] ?? "");
}

/** The start-up entry that runs `command daemon --port PORT [--key-file FILE]` at login. */
export function startupEntry(
  c: StartupContext,
  options: { command: string[]; port: number; keyFile?: string },
): StartupEntry {
  const args = [
    ...options.command,
    "daemon",
    "--port",
    String(options.port),
    ...(options.keyFile ? ["--key-file", options.keyFile] : []),
  ];
  const path = startupPath(c);
  const PORT = String(options.port);
  // a re-install keeps the key file: named again in hex, safe in every format's comment (no %, --, quotes)
  const KEY = options.keyFile ? ` (key file hex ${toHex(new TextEncoder().encode(options.keyFile))})` : "";
  switch (c.kind) {
    case "systemd":
      return {
        kind: c.kind,
        args,
        path,
        content: fill(systemdTemplate, { PORT, KEY, EXEC: args.map(systemdArg).join(" ") }),
        link: {
          path: join(dirname(path), "default.target.wants", "octane-daemon.service"),
          target: join("..", "octane-daemon.service"),
        },
      };
    case "xdg":
      return {
        kind: c.kind,
        args,
        path,
        content: fill(desktopTemplate, { PORT, KEY, EXEC: args.map(desktopArg).join(" ") }),
      };
    case "launchd":
      return {
        kind: c.kind,
        args,
        path,
        content: fill(launchdTemplate, {
          PORT,
          KEY,
          ARGS: args.map((a) => `    <string>${xml(a)}</string>`).join("\n"),
          LOG: xml(join(c.home, "Library", "Logs", "octane-daemon.log")),
        }),
      };
    case "windows":
      return {
        kind: c.kind,
        args,
        path,
        content: fill(batTemplate, { PORT, KEY, EXEC: args.map(batArg).join(" ") }).replace(/\r?\n/g, "\r\n"),
      };
  }
}

/** Writes the entry (and its enabling link); returns it. */
export async function writeStartupEntry(entry: StartupEntry): Promise<void> {
  await Deno.mkdir(dirname(entry.path), { recursive: true });
  await Deno.writeTextFile(entry.path, entry.content);
  if (entry.link) {
    await Deno.mkdir(dirname(entry.link.path), { recursive: true });
    await Deno.remove(entry.link.path).catch(() => {});
    await Deno.symlink(entry.link.target, entry.link.path);
  }
}

/** Removes the start-up file and link of this context; returns the paths removed. */
export async function removeStartupEntry(c: StartupContext): Promise<string[]> {
  const entry = startupEntry(c, { command: ["octane"], port: 0 });
  const removed: string[] = [];
  for (const path of [entry.link?.path, entry.path]) {
    if (!path) continue;
    try {
      await Deno.remove(path);
      removed.push(path);
    } catch (error: unknown) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  return removed;
}

/** The installed entry of this context, the port it runs the daemon on and its key file, or undefined. */
export async function installedStartup(
  c: StartupContext,
): Promise<{ path: string; port?: number; keyFile?: string } | undefined> {
  const path = startupPath(c);
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error: unknown) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
  const m = /\(port (\d+)\)/.exec(text); // every template names its port so
  const k = /\(key file hex ((?:[0-9a-f]{2})+)\)/.exec(text);
  return {
    path,
    ...(m ? { port: Number(m[1]) } : {}),
    ...(k ? { keyFile: new TextDecoder().decode(fromHex(k[1]!)) } : {}),
  };
}
