import { Daemon, describeFacts, probeSlave } from "../net/daemon/mod.ts";
import { PROTOCOL_VERSION, VERSION } from "../version.ts";
import { onStopSignals } from "../session/mod.ts";
import { parseFlags, UsageError } from "./args.ts";
import { DAEMON } from "./commands.ts";
import { installCommand, statusCommand, uninstallCommand } from "./daemon_install.ts";
import { printHelp } from "./flags.ts";
import { setupLogging } from "./logging.ts";
import { addressNotHere, readKey } from "./net_args.ts";
import { keepServing } from "./guard.ts";
import { selfCommand } from "./self.ts";

/** `octane daemon [install|uninstall|status]`. */
export async function daemonCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === "install") return await installCommand(rest);
  if (sub === "uninstall") return await uninstallCommand(rest);
  if (sub === "status") return await statusCommand(rest);
  return await run(args);
}

async function run(args: string[]): Promise<number> {
  const parsed = parseFlags(args, DAEMON);
  if (parsed.help) return printHelp(DAEMON);
  const { values } = parsed;
  await setupLogging({ debug: values.debug, verbose: values.verbose });
  keepServing("daemon");
  const { port, bind, "heartbeat-timeout": heartbeatTimeout, grace: graceSeconds } = values;
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
