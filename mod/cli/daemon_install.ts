import { resolve } from "node:path";
import { describeFacts } from "../net/daemon/mod.ts";
import { probeDaemon } from "../net/discovery/mod.ts";
import {
  installedStartup,
  isStartupKind,
  KIND_NAMES,
  removeStartupEntry,
  type StartupContext,
  startupContext,
  type StartupEntry,
  startupEntry,
  type StartupKind,
  startupPath,
  systemdRuns,
  writeStartupEntry,
} from "../install/mod.ts";
import { DAEMON_PORT } from "../net/defaults.ts";
import { defaultKeyPath, type FarmKey, generateKey, writeKeyFile } from "../net/key.ts";
import { parseFlags, UsageError } from "./args.ts";
import { DAEMON_INSTALL, DAEMON_STATUS, DAEMON_UNINSTALL } from "./commands.ts";
import { printHelp } from "./flags.ts";
import { readKey } from "./net_args.ts";
import { ask } from "./prompt.ts";
import { installedCommand } from "./self.ts";

/** How many answers the port question takes before it gives up. */
const PORT_TRIES = 3;

/** `octane daemon install`: writes the start-up entry and, where the system can, starts the daemon now. */
export async function installCommand(args: string[]): Promise<number> {
  const parsed = parseFlags(args, DAEMON_INSTALL);
  if (parsed.help) return printHelp(DAEMON_INSTALL);
  const { values } = parsed;
  const context = contextOf(values.startup);
  // a re-install keeps the port it had; an entry of another kind is replaced, or both would start a daemon
  const previous = await previousEntries(context);
  const installedPort = previous.find((p) => p.port !== undefined)?.port ?? DAEMON_PORT;
  const port = values.port ?? await askPort(installedPort);
  // a re-install without --key-file (or OCTANE_KEY_FILE) keeps the key file the installed entry names
  const installedKey = Deno.env.get("OCTANE_KEY_FILE") ? undefined : previous.find((p) => p.keyFile)?.keyFile;
  const { key, flag } = await installKey(values["key-file"] ?? installedKey);
  const entry = startupEntry(context, {
    command: installedCommand(),
    port,
    ...(flag ? { keyFile: flag } : {}),
  });
  await writeStartupEntry(entry);
  const started = !values["no-start"] && await startNow(entry);
  for (const p of previous.filter((p) => p.context.kind !== context.kind)) {
    const removed = await removeStartupEntry(p.context);
    console.log(`Removed the previous ${KIND_NAMES[p.context.kind]}: ${removed.join(", ")}`);
  }
  printInstalled(entry, { port, key, started, context });
  return 0;
}

/**
 * Starts the installed daemon where the system can (systemd, launchd); false where it cannot (XDG, Windows).
 * @throws {Error} when the system refuses the entry: a failed install, exit 1
 */
async function startNow(entry: StartupEntry): Promise<boolean> {
  if (entry.kind === "systemd") {
    for (const step of [["daemon-reload"], ["restart", "octane-daemon.service"]]) {
      const failure = await runTool("systemctl", ["--user", ...step]);
      if (failure) {
        throw new Error(
          `Wrote ${entry.path}, but ${failure}: fix the user's systemd (is "systemctl --user" available in this session?), or pass --no-start to only write the unit`,
        );
      }
    }
    return true;
  }
  if (entry.kind === "launchd") {
    const failure = await runTool("launchctl", ["load", "-w", entry.path]);
    if (failure) throw new Error(`Wrote ${entry.path}, but ${failure}: pass --no-start to only write it`);
    return true;
  }
  return false;
}

/** What was installed, what it runs, how the key reaches the master, and how and when it starts. */
function printInstalled(
  entry: StartupEntry,
  o: { port: number; key: FarmKey | undefined; started: boolean; context: StartupContext },
): void {
  const command = entry.args.map(shellQuote).join(" ");
  console.log(`Installed the octane daemon on port ${o.port}: ${KIND_NAMES[entry.kind]} ${entry.path}`);
  console.log(`It runs: ${command}`);
  if (o.key) {
    // the master, and every other node, need the same key: one command puts it in the master's default place
    console.log(
      `Copy the key to the master (MASTER = its host; a key there is kept): ssh MASTER 'mkdir -p ~/.config/octane && umask 077 && set -C && cat > ~/.config/octane/key' < ${
        shellQuote(o.key.path)
      }`,
    );
  }
  const user = o.context.env("USER") || o.context.env("LOGNAME") || "$USER";
  if (entry.kind === "systemd") {
    console.log(
      o.started
        ? "Started it now (systemctl --user restart octane-daemon)"
        : "It starts at your next login; to start it now: systemctl --user start octane-daemon",
    );
    console.log(`To start it at boot, before anyone logs in, run once: loginctl enable-linger ${user}`);
  } else if (entry.kind === "launchd") {
    console.log(o.started ? "Started it now (launchctl load)" : "It starts at your next login");
  } else {
    console.log(`It starts at your next login; to start it now run: ${command}`);
  }
  if (entry.kind === "xdg") {
    const self = installedCommand().map(shellQuote).join(" ");
    console.error(
      systemdRuns()
        ? `Warning: an XDG autostart entry runs only when someone logs in to a desktop, never on a headless node: there, run "${self} daemon install --startup systemd" and "loginctl enable-linger ${user}" so that it starts at boot`
        : `Warning: an XDG autostart entry runs only when someone logs in to a desktop, and this machine runs no systemd: on a headless node, start "${command}" from the system's own start-up instead`,
    );
  }
}

/** `octane daemon uninstall`: stops the installed daemon (unless --no-stop) and removes its entry. */
export async function uninstallCommand(args: string[]): Promise<number> {
  const parsed = parseFlags(args, DAEMON_UNINSTALL);
  if (parsed.help) return printHelp(DAEMON_UNINSTALL);
  const { values } = parsed;
  const context = await installedContext(values.startup);
  const stop = !values["no-stop"];
  const installed = await installedStartup(context);
  let failure: string | undefined;
  if (stop && context.kind === "systemd" && installed) {
    failure = await runTool("systemctl", ["--user", "stop", "octane-daemon.service"]);
  } else if (stop && context.kind === "launchd" && installed) {
    failure = await runTool("launchctl", ["unload", "-w", startupPath(context)]);
  }
  if (failure) console.error(`Warning: ${failure}; a running daemon may still run`);
  const removed = await removeStartupEntry(context);
  if (stop && context.kind === "systemd" && removed.length) {
    const reload = await runTool("systemctl", ["--user", "daemon-reload"]);
    if (reload) console.error(`Warning: ${reload}`);
  }
  console.log(
    removed.length
      ? `Removed the octane daemon's ${KIND_NAMES[context.kind]}: ${removed.join(", ")}`
      : `The octane daemon was not installed (no ${KIND_NAMES[context.kind]})`,
  );
  return 0;
}

/** `octane daemon status`: installed or not, and what a daemon on the port reports; exit 3 when none answers. */
export async function statusCommand(args: string[]): Promise<number> {
  const parsed = parseFlags(args, DAEMON_STATUS);
  if (parsed.help) return printHelp(DAEMON_STATUS);
  const { values } = parsed;
  const address = values.bind !== "0.0.0.0" ? values.bind : "127.0.0.1";
  const context = await installedContext(values.startup);
  const installed = await installedStartup(context);
  const port = values.port ?? installed?.port ?? DAEMON_PORT;
  console.log(
    installed
      ? `Installed: ${KIND_NAMES[context.kind]} ${installed.path}, port ${installed.port ?? "unknown"}`
      : `Not installed (no ${KIND_NAMES[context.kind]}): run "octane daemon install"`,
  );
  const key = await readKey(values["key-file"]);
  const found = await probeDaemon(address, {
    daemonPort: port,
    masterPort: 0,
    timeoutMs: 2000,
    ...(key ? { key: key.key } : {}),
  });
  found?.link?.close();
  const r = found?.report;
  if (!r) {
    console.log(`Not running: no daemon answers on ${address}:${port}`);
    return 3;
  }
  if (r.kind === "daemon") {
    const s = r.status;
    const state = s.state === "available" ? "available" : `working for master ${s.master}`;
    console.log(`Running on port ${port}: octane ${s.version}, ${state}, ${describeFacts(s)}`);
  } else if (r.kind === "other-version") {
    console.log(`Running on port ${port}: octane ${r.version} (protocol ${r.protocol}), another version`);
  } else console.log(`Running on port ${port}, but it refused the probe: ${r.reason}`);
  return 0;
}

/** Asks for the port until an answer is one (RETURN takes `fallback`); three wrong answers are a usage error. */
async function askPort(fallback: number): Promise<number> {
  let wrong: string | undefined;
  for (let tries = 0; tries < PORT_TRIES; tries++) {
    const answer = await ask(`Port for master requests [${fallback}]:`);
    if (answer === null && wrong !== undefined) {
      throw new UsageError(`${wrong}, and the input ended: pass --port N`);
    }
    if (answer === null || answer === "") return fallback;
    const n = /^\d+$/.test(answer) ? Number(answer) : NaN;
    if (n >= 1 && n <= 65535) return n;
    wrong = `Invalid port "${answer}": must be an integer from 1 to 65535`;
    if (tries + 1 < PORT_TRIES) console.error(`${wrong}; try again`);
  }
  throw new UsageError(`${wrong} (${PORT_TRIES} wrong answers): pass --port N`);
}

/**
 * The key the installed daemon uses: --key-file (checked), else OCTANE_KEY_FILE or the default key file;
 * without any, offers to create the default one. Returns the file to name in the start-up entry (none when
 * the daemon finds it by itself, or there is no key).
 */
async function installKey(file: string | undefined): Promise<{ key?: FarmKey; flag?: string }> {
  const found = await readKey(file);
  const fallback = defaultKeyPath();
  if (found) {
    const path = resolve(found.path);
    console.log(`The daemon uses the farm key in ${path}`);
    return { key: { ...found, path }, ...(fallback && resolve(fallback) === path ? {} : { flag: path }) };
  }
  if (!fallback) return {};
  const answer = await ask(`No farm key yet: create one at ${fallback}? [Y/n]`);
  if (answer !== null && /^n/i.test(answer)) {
    console.log("No farm key: links are encrypted, but any host on the LAN may start a slave here");
    return {};
  }
  const key = generateKey();
  await writeKeyFile(fallback, key);
  console.log(`Wrote a new farm key to ${fallback} (mode 0600)`);
  return { key: { key, path: fallback } };
}

/** The start-up context for --startup KIND, else this machine's. */
function contextOf(flag: string | undefined): StartupContext {
  let kind: StartupKind | undefined;
  if (flag !== undefined) {
    if (!isStartupKind(flag)) {
      throw new UsageError(`Invalid --startup "${flag}": expected ${Object.keys(KIND_NAMES).join(", ")}`);
    }
    kind = flag;
  }
  try {
    return startupContext(undefined, kind);
  } catch (error: unknown) {
    throw new UsageError(error instanceof Error ? error.message : String(error), { cause: error });
  }
}

/** The kinds that can start the daemon on this system: on Linux both systemd and XDG autostart. */
function siblings(context: StartupContext): StartupContext[] {
  const kinds: StartupKind[] = context.kind === "systemd" || context.kind === "xdg" ? ["systemd", "xdg"] : [];
  return [context, ...kinds.filter((k) => k !== context.kind).map((kind) => ({ ...context, kind }))];
}

/** The installed entries of `context`'s kind and its siblings, this kind first. */
async function previousEntries(
  context: StartupContext,
): Promise<{ context: StartupContext; port?: number; keyFile?: string }[]> {
  const found = [];
  for (const c of siblings(context)) {
    const installed = await installedStartup(c);
    if (installed) {
      found.push({
        context: c,
        ...(installed.port ? { port: installed.port } : {}),
        ...(installed.keyFile ? { keyFile: installed.keyFile } : {}),
      });
    }
  }
  return found;
}

/** The context of --startup KIND; without it, this machine's, or a sibling kind that is installed. */
async function installedContext(flag: string | undefined): Promise<StartupContext> {
  const context = contextOf(flag);
  if (flag !== undefined) return context;
  return (await previousEntries(context))[0]?.context ?? context;
}

/** Runs a system tool; returns what went wrong ("systemctl --user daemon-reload" failed: …), or undefined. */
async function runTool(command: string, args: string[]): Promise<string | undefined> {
  const what = `"${command} ${args.join(" ")}"`;
  try {
    const out = await new Deno.Command(command, { args, stdin: "null", stdout: "null", stderr: "piped" })
      .output();
    if (out.success) return undefined;
    const why = new TextDecoder().decode(out.stderr).trim().split("\n")[0];
    return `${what} failed: ${why || `exit code ${out.code}`}`;
  } catch {
    return `${what} failed: "${command}" is not available`;
  }
}

/** `text` quoted for a POSIX shell (a macOS key path has a space in it). */
function shellQuote(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`;
}
