import { Daemon, describeFacts, probeSlave } from "../net/daemon/mod.ts";
import { probeDaemon } from "../net/discovery/mod.ts";
import {
  installedStartup,
  KIND_NAMES,
  removeStartupEntry,
  startupContext,
  startupEntry,
  startupPath,
  writeStartupEntry,
} from "../install/mod.ts";
import { PROTOCOL_VERSION, VERSION } from "../version.ts";
import { onStopSignals } from "./signals.ts";
import { intFlag, numberFlag, parseFlags, UsageError } from "./args.ts";
import { DAEMON, DAEMON_INSTALL, DAEMON_STATUS, DAEMON_UNINSTALL } from "./commands.ts";
import { printHelp } from "./flags.ts";
import { setupLogging } from "./logging.ts";
import { addressNotHere, readKey } from "./net_args.ts";
import { keepServing } from "./guard.ts";
import { DAEMON_PORT, GRACE_SECONDS, HEARTBEAT_TIMEOUT_SECONDS } from "../net/defaults.ts";
import { defaultKeyPath, type FarmKey, generateKey, writeKeyFile } from "../net/key.ts";
import { installedCommand, selfCommand } from "./self.ts";
import { resolve } from "node:path";

/** `octane daemon [install|uninstall|status]`. */
export async function daemonCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === "install") return await install(rest);
  if (sub === "uninstall") return await uninstall(rest);
  if (sub === "status") return await status(rest);
  return await run(args);
}

async function run(args: string[]): Promise<number> {
  const { values } = parseFlags(args, DAEMON);
  if (values.help) return printHelp(DAEMON);
  await setupLogging({ debug: values.debug === true, verbose: true }); // a daemon's log is its output
  keepServing("daemon");
  const port = intFlag(values.port, "port", { min: 1, max: 65535, fallback: DAEMON_PORT });
  const bind = typeof values.bind === "string" ? values.bind : "0.0.0.0";
  const heartbeatTimeout = numberFlag(values["heartbeat-timeout"], "heartbeat-timeout") ??
    HEARTBEAT_TIMEOUT_SECONDS;
  const graceSeconds = numberFlag(values.grace, "grace") ?? GRACE_SECONDS;
  const key = await readKey(values["key-file"]);
  const command = selfCommand();
  let daemon: Daemon;
  try {
    // listen before the probe: a taken port is reported at once, and masters' probes wait in the backlog
    daemon = Daemon.listen(
      { version: VERSION, protocol: PROTOCOL_VERSION, host: "", os: "", arch: "", bits: 0, gpus: [] },
      { port, bind, heartbeatTimeout, graceSeconds, command, ...(key ? { key } : {}) },
    );
  } catch (error: unknown) {
    if (error instanceof Deno.errors.AddrInUse) {
      throw new UsageError(
        `Port ${port} on ${bind} is in use (another daemon?): run "octane daemon status", or pass another --port`,
        { cause: error },
      );
    }
    if (error instanceof Deno.errors.AddrNotAvailable) throw addressNotHere(bind, error);
    throw error;
  }
  const facts = await probeSlave(command).catch((error: unknown) => {
    daemon.close();
    throw error;
  });
  daemon.facts = facts;
  console.log(
    `octane daemon ${facts.version} (protocol ${facts.protocol}) on ${facts.host}: ${describeFacts(facts)}`,
  );
  console.log(`Daemon listening on ${bind}:${daemon.port}`);
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= daemon.close();
  };
  const removeSignals = onStopSignals(stop);
  try {
    await daemon.serve();
    await stopping;
  } finally {
    removeSignals();
  }
  console.error("Daemon stopped");
  return 0;
}

/** Asks a question on the terminal, or (no terminal) reads one line of stdin; EOF answers "". */
async function ask(question: string): Promise<string> {
  let answer = prompt(question);
  if (answer === null) {
    Deno.stdout.writeSync(new TextEncoder().encode(`${question} `));
    answer = await readLine();
    Deno.stdout.writeSync(new TextEncoder().encode("\n"));
  }
  return answer.trim();
}

async function askPort(): Promise<number> {
  const text = await ask(`Port for master requests [${DAEMON_PORT}]:`);
  if (text === "") return DAEMON_PORT;
  return intFlag(text, "port", { min: 1, max: 65535, fallback: DAEMON_PORT });
}

/**
 * The key the installed daemon uses: --key-file (checked), else OCTANE_KEY_FILE or the default key file;
 * without any, offers to create the default one. Returns the file to name in the start-up entry (none when
 * the daemon finds it by itself, or there is no key).
 */
async function installKey(file: string | boolean | undefined): Promise<{ key?: FarmKey; flag?: string }> {
  const found = await readKey(file);
  const fallback = defaultKeyPath();
  if (found) {
    const path = resolve(found.path);
    console.log(`The daemon uses the farm key in ${path}`);
    return { key: { ...found, path }, ...(fallback && resolve(fallback) === path ? {} : { flag: path }) };
  }
  if (!fallback) return {};
  const answer = await ask(`No farm key yet: create one at ${fallback}? [Y/n]`);
  if (/^n/i.test(answer)) {
    console.log("No farm key: links are encrypted, but any host on the LAN may start a slave here");
    return {};
  }
  const key = generateKey();
  await writeKeyFile(fallback, key);
  console.log(`Wrote a new farm key to ${fallback} (mode 0600)`);
  return { key: { key, path: fallback } };
}

async function readLine(): Promise<string> {
  const decoder = new TextDecoder();
  let line = "";
  const buf = new Uint8Array(1);
  // byte by byte, so that nothing after the line is taken from stdin
  while (line.length < 1000) {
    const n = await Deno.stdin.read(buf);
    if (n === null || n === 0) break;
    const c = decoder.decode(buf.subarray(0, n));
    if (c === "\n") break;
    line += c;
  }
  return line.replace(/\r$/, "");
}

async function install(args: string[]): Promise<number> {
  const { values } = parseFlags(args, DAEMON_INSTALL);
  if (values.help) return printHelp(DAEMON_INSTALL);
  const port = values.port === undefined
    ? await askPort()
    : intFlag(values.port, "port", { min: 1, max: 65535, fallback: DAEMON_PORT });
  const context = startupContextOrUsage();
  const { key, flag } = await installKey(values["key-file"]);
  const entry = startupEntry(context, {
    command: installedCommand(),
    port,
    ...(flag ? { keyFile: flag } : {}),
  });
  await writeStartupEntry(entry);
  console.log(`Installed the octane daemon on port ${port}: ${KIND_NAMES[entry.kind]} ${entry.path}`);
  if (key) {
    // the master, and every other node, need the same key: one command puts it in the master's default place
    console.log(
      `Copy the key to the master (MASTER = its host; a key there is kept): ssh MASTER 'mkdir -p ~/.config/octane && umask 077 && set -C && cat > ~/.config/octane/key' < ${
        shellQuote(key.path)
      }`,
    );
  }
  const start = values["no-start"] !== true;
  if (entry.kind === "systemd" && start) {
    await systemctl(["daemon-reload"]);
    const ok = await systemctl(["restart", "octane-daemon.service"]);
    console.log(
      ok ? "Started it now (systemctl --user restart octane-daemon)" : "It starts at your next login",
    );
  } else if (entry.kind === "launchd" && start) {
    const ok = await runQuiet("launchctl", ["load", "-w", entry.path]);
    console.log(ok ? "Started it now (launchctl load)" : "It starts at your next login");
  } else {
    console.log(`It starts at your next login; to start it now run: octane daemon --port ${port}`);
  }
  return 0;
}

async function uninstall(args: string[]): Promise<number> {
  const { values } = parseFlags(args, DAEMON_UNINSTALL);
  if (values.help) return printHelp(DAEMON_UNINSTALL);
  const context = startupContextOrUsage();
  const stop = values["no-stop"] !== true;
  if (stop && context.kind === "systemd" && (await installedStartup(context))) {
    await systemctl(["stop", "octane-daemon.service"]);
  } else if (stop && context.kind === "launchd" && (await installedStartup(context))) {
    await runQuiet("launchctl", ["unload", "-w", startupPath(context)]);
  }
  const removed = await removeStartupEntry(context);
  if (stop && context.kind === "systemd" && removed.length) await systemctl(["daemon-reload"]);
  console.log(
    removed.length
      ? `Removed the octane daemon's ${KIND_NAMES[context.kind]}: ${removed.join(", ")}`
      : `The octane daemon was not installed (no ${KIND_NAMES[context.kind]})`,
  );
  return 0;
}

async function status(args: string[]): Promise<number> {
  const { values } = parseFlags(args, DAEMON_STATUS);
  if (values.help) return printHelp(DAEMON_STATUS);
  const address = typeof values.bind === "string" && values.bind !== "0.0.0.0" ? values.bind : "127.0.0.1";
  const context = startupContextOrUsage();
  const installed = await installedStartup(context);
  const port = intFlag(values.port, "port", { min: 1, max: 65535, fallback: installed?.port ?? DAEMON_PORT });
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

function startupContextOrUsage() {
  try {
    return startupContext();
  } catch (error: unknown) {
    throw new UsageError(error instanceof Error ? error.message : String(error), { cause: error });
  }
}

function systemctl(args: string[]): Promise<boolean> {
  return runQuiet("systemctl", ["--user", ...args]);
}

/** Runs a system tool; false (with its complaint on stderr) when it fails or is missing. */
async function runQuiet(command: string, args: string[]): Promise<boolean> {
  try {
    const out = await new Deno.Command(command, { args, stdin: "null", stdout: "null", stderr: "piped" })
      .output();
    if (!out.success) {
      const why = new TextDecoder().decode(out.stderr).trim().split("\n")[0];
      console.error(`octane: "${command} ${args.join(" ")}" failed: ${why || `exit code ${out.code}`}`);
    }
    return out.success;
  } catch {
    console.error(`octane: "${command}" is not available`);
    return false;
  }
}

/** `text` quoted for a POSIX shell (a macOS key path has a space in it). */
function shellQuote(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`;
}
