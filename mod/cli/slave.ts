import { getLogger } from "@logtape/logtape";
import { hostname } from "node:os";
import { openGpu } from "../gpu/mod.ts";
import { connectWatch, DAEMON_TOKEN_ENV, type WatchLink } from "../net/daemon/mod.ts";
import { runSlave, SlaveJoinError } from "../net/slave/mod.ts";
import { PROTOCOL_VERSION, VERSION } from "../version.ts";
import { onStopSignals } from "./signals.ts";
import { intFlag, parseFlags, UsageError } from "./args.ts";
import { SLAVE } from "./commands.ts";
import { printHelp } from "./flags.ts";
import { hostPort, readKey } from "./net_args.ts";
import { HEARTBEAT_TIMEOUT_SECONDS, MASTER_PORT } from "../net/defaults.ts";
import type { FarmKey } from "../net/key.ts";

const log = getLogger(["octane", "slave"]);

/** `octane slave`: joins a master and renders for it. */
export async function slaveCommand(args: string[]): Promise<number> {
  const { values } = parseFlags(args, SLAVE);
  if (values.help) return printHelp(SLAVE);
  if (values.probe) return await probe();
  let target: { host: string; port: number };
  if (typeof values.master === "string") target = hostPort(values.master, "--master");
  else if (typeof values["net-master-address"] === "string") {
    target = {
      host: values["net-master-address"],
      port: intFlag(values["net-master-port"], "net-master-port", {
        min: 1,
        max: 65535,
        fallback: MASTER_PORT,
      }),
    };
  } else throw new UsageError(`Missing --master HOST:PORT: run "octane slave --help"`);
  const heartbeatTimeout = intFlag(values["heartbeat-timeout"], "heartbeat-timeout", {
    min: 1,
    max: 3600,
    fallback: HEARTBEAT_TIMEOUT_SECONDS,
  });
  const farmKey = await readKey(values["key-file"]);
  const abort = new AbortController();
  // the GPU opens while the heartbeat link's handshake runs
  const opening = openGpu();
  let watch: WatchLink | undefined;
  try {
    watch = typeof values.daemon === "string" ? await watchDaemon(values.daemon, abort, farmKey) : undefined;
  } catch (error: unknown) {
    await opening.then((g) => g.device.destroy(), () => {});
    throw error;
  }
  const gpu = await opening.catch((error: unknown) => {
    watch?.close();
    throw error;
  });
  const where = `${target.host}:${target.port}`;
  const onSignal = () => abort.abort();
  const removeSignals = onStopSignals(onSignal);
  try {
    const exit = await runSlave(gpu, {
      ...target,
      ...(farmKey ? { key: farmKey.key } : {}),
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
    removeSignals();
    watch?.close();
    gpu.device.destroy();
  }
}

/** Prints what a daemon needs to know of this node, as one JSON line. */
async function probe(): Promise<number> {
  const gpu = await openGpu();
  try {
    console.log(JSON.stringify({
      version: VERSION,
      protocol: PROTOCOL_VERSION,
      host: hostname(),
      os: Deno.build.os,
      arch: Deno.build.arch,
      bits: 64, // Deno is built for 64-bit targets only (x86_64, aarch64)
      gpus: [gpu.summary],
    }));
  } finally {
    gpu.device.destroy();
  }
  return 0;
}

/** Opens the heartbeat link to the daemon that started this slave; the slave stops if the daemon goes. */
async function watchDaemon(value: string, abort: AbortController, farmKey?: FarmKey): Promise<WatchLink> {
  const target = hostPort(value, "--daemon");
  const token = Deno.env.get(DAEMON_TOKEN_ENV);
  if (!token) {
    throw new UsageError(`--daemon needs ${DAEMON_TOKEN_ENV}: only a daemon starts slaves this way`);
  }
  try {
    return await connectWatch(target, {
      token,
      ...(farmKey ? { key: farmKey.key } : {}),
      onLost: (reason) => {
        log.warn("Stopping: {reason}", { reason });
        abort.abort();
      },
    });
  } catch (error: unknown) {
    throw new Error(
      `Cannot open the heartbeat link to daemon ${value}: ${error instanceof Error ? error.message : error}`,
      { cause: error },
    );
  }
}
