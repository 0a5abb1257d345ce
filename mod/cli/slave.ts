import { openGpu } from "../gpu/mod.ts";
import { runSlave, SlaveJoinError } from "../net/slave/mod.ts";
import { VERSION } from "../version.ts";
import { intFlag, parseFlags, UsageError } from "./args.ts";
import { hostPort, readSecret } from "./net_args.ts";

const HELP = `Usage: octane slave --master HOST:PORT [--secret-file FILE] [--heartbeat-timeout SECONDS]
       octane slave --net-master-address HOST --net-master-port PORT

Renders samples for one master on this machine's GPU, keeping the render data in memory only.
Ctrl-C returns the unfinished work to the master and exits 0; if the master goes away the slave says so
and exits 1. The secret may also come from the environment variable OCTANE_SECRET.`;

/** `octane slave`: joins a master and renders for it. */
export async function slaveCommand(args: string[]): Promise<number> {
  const { values } = parseFlags(args, {
    command: "slave",
    options: {
      master: { type: "string" },
      "net-master-address": { type: "string" },
      "net-master-port": { type: "string" },
      "secret-file": { type: "string" },
      "heartbeat-timeout": { type: "string" },
      help: { type: "boolean", short: "h" },
      debug: { type: "boolean" },
      verbose: { type: "boolean" },
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  let target: { host: string; port: number };
  if (typeof values.master === "string") target = hostPort(values.master, "--master");
  else if (typeof values["net-master-address"] === "string") {
    target = {
      host: values["net-master-address"],
      port: intFlag(values["net-master-port"], "net-master-port", { min: 1, max: 65535, fallback: 21000 }),
    };
  } else throw new UsageError(`Missing --master HOST:PORT: run "octane slave --help"`);
  const heartbeatTimeout = intFlag(values["heartbeat-timeout"], "heartbeat-timeout", {
    min: 1,
    max: 3600,
    fallback: 10,
  });
  const secret = await readSecret(values["secret-file"]);
  const gpu = await openGpu();
  const where = `${target.host}:${target.port}`;
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  for (const s of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(s, onSignal);
  try {
    const exit = await runSlave(gpu, {
      ...target,
      secret,
      heartbeatTimeout,
      signal: abort.signal,
      onConnected: () => console.log(`Launching net render slave (${VERSION}) with master ${where}`),
    });
    if (exit.kind === "finished") {
      console.error(`Master ${where} finished the render; slave exiting`);
      return 0;
    }
    if (exit.kind === "stopped") {
      console.error("Slave stopped: unfinished work returned to the master");
      return 0;
    }
    console.error(`octane: ${exit.reason}`);
    return 1;
  } catch (error: unknown) {
    if (error instanceof SlaveJoinError) {
      console.error(`octane: ${error.message}`);
      return 1;
    }
    throw error;
  } finally {
    for (const s of ["SIGINT", "SIGTERM"] as const) Deno.removeSignalListener(s, onSignal);
    gpu.device.destroy();
  }
}
