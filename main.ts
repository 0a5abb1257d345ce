/**
 * octane: network rendering for a GPU path tracer. Parses the subcommand and loads only its module.
 * @module
 */
import { setupLogging, UsageError } from "./mod/cli/mod.ts";
import { VERSION } from "./mod/version.ts";

const USAGE = `octane ${VERSION}: GPU path tracing spread over the computers of a LAN

Usage: octane COMMAND [options]   ("octane COMMAND --help" lists its options)

Commands:
  render [SCENE]    path-trace a scene on this machine's GPU and write a PNG
  compile SCENE     compile a scene into render data (.ocrd)
  info              version, protocol version, OS/arch and GPU adapters
  master [SCENE]    render with this GPU and every slave that joins
  slave             render for a master: octane slave --master HOST:PORT
  daemon            resident helper that masters find on the LAN and that starts
                    slaves for them (daemon install | uninstall | status)
  key generate      a new random farm key (every node of the farm gets a copy)
  demo              a whole LAN on loopback (--lan N: in network namespaces):
                    daemons, their slaves and a master
  task NAME         run a project task (ok, test, bench, ...) with the project's
                    Deno (the ./octane launcher of a checkout only)

Options of every command: --help, --verbose (every log line), --debug (also
stack traces with errors); --quiet where a command has it (warnings and errors
only). Also: octane --version`;

async function run(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  if (command === undefined) {
    console.error(USAGE);
    return 2;
  }
  if (command === "--version" || command === "-V") {
    console.log(`octane ${VERSION}`);
    return 0;
  }
  if (command === "--help" || command === "-h" || command === "help") {
    console.log(USAGE);
    return 0;
  }
  switch (command) {
    case "render":
      return (await import("./mod/cli/render.ts")).renderCommand(rest);
    case "compile":
      return (await import("./mod/cli/compile.ts")).compileCommand(rest);
    case "master":
      return (await import("./mod/cli/master.ts")).masterCommand(rest);
    case "slave":
      return (await import("./mod/cli/slave.ts")).slaveCommand(rest);
    case "info":
      return (await import("./mod/cli/info.ts")).infoCommand(rest);
    case "daemon":
      return (await import("./mod/cli/daemon.ts")).daemonCommand(rest);
    case "key":
      return (await import("./mod/cli/key.ts")).keyCommand(rest);
    case "demo":
      return (await import("./mod/cli/demo.ts")).demoCommand(rest);
    case "task":
      // the ./octane launcher runs tasks itself, with the Deno it found; a compiled octane has no tasks
      throw new UsageError(`"octane task" runs from a checkout: run "./octane task NAME" in the repository`);
  }
  throw new UsageError(`Unknown command "${command}": run "octane --help"`);
}

if (import.meta.main) {
  const debug = Deno.args.includes("--debug");
  await setupLogging({
    debug,
    verbose: Deno.args.includes("--verbose"),
    quiet: Deno.args.includes("--quiet"),
  });
  let code: number;
  try {
    code = await run(Deno.args);
  } catch (error: unknown) {
    const message = error instanceof Error ? error.message : String(error);
    console.error(`octane: ${message}`);
    if (debug && error instanceof Error) console.error(error.stack);
    code = error instanceof UsageError ? 2 : 1;
  }
  Deno.exit(code);
}
