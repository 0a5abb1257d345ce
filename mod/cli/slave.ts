import { getLogger } from "@logtape/logtape";
import { hostname } from "node:os";
import { openGpu } from "../gpu/mod.ts";
import { connectWatch, DAEMON_TOKEN_ENV, type WatchLink } from "../net/daemon/mod.ts";
import { Slave, SlaveJoinError } from "../net/slave/mod.ts";
import { HandshakeError } from "../net/protocol/mod.ts";
import type { AdapterSummary, Gpu } from "../gpu/mod.ts";
import { delay } from "../net/async.ts";
import { formatRate, StatusLine } from "../status/mod.ts";
import { PROTOCOL_VERSION, VERSION } from "../version.ts";
import { onStopSignals } from "../session/mod.ts";
import { parseFlags, UsageError } from "./args.ts";
import { SLAVE } from "./commands.ts";
import { type FlagValues, printHelp } from "./flags.ts";
import { hostPort, readKey } from "./net_args.ts";
import type { FarmKey } from "../net/key.ts";

const log = getLogger(["octane", "slave"]);

/** First pause between tries while waiting for a master; it doubles up to WAIT_MAX_MS. */
const WAIT_FIRST_MS = 250;
const WAIT_MAX_MS = 2000;
/** Milliseconds a --keep-running slave waits after losing its master before it tries to join again. */
const LOST_PAUSE_MS = 1000;
/** Milliseconds between a hand-started slave's progress lines. */
const PROGRESS_MS = 5000;

/** `octane slave`: joins a master and renders for it. */
export async function slaveCommand(args: string[]): Promise<number> {
  const parsed = parseFlags(args, SLAVE);
  if (parsed.help) return printHelp(SLAVE);
  const { values } = parsed;
  if (values.probe) return await probe();
  const target = masterTarget(values);
  const keepRunning = values["keep-running"];
  if (values.daemon !== undefined && (values.wait !== undefined || keepRunning)) {
    throw new UsageError("--wait and --keep-running are for slaves started by hand, not by a daemon");
  }
  const farmKey = await readKey(values["key-file"]);
  const abort = new AbortController();
  const { gpu, watch } = await openSlave(values.daemon, abort, farmKey);
  const removeSignals = onStopSignals(() => abort.abort());
  const options = {
    ...target,
    ...(farmKey ? { key: farmKey.key } : {}),
    heartbeatTimeout: values["heartbeat-timeout"],
  };
  try {
    // a daemon's slave keeps its lifecycle: one try, one render; the daemon starts it again when asked
    if (watch) {
      return await renderFor(gpu, options, { signal: abort.signal, keepRunning: false, byHand: false });
    }
    console.error(`Slave GPU: ${describeGpu(gpu.summary)}`);
    return await renderFor(gpu, options, {
      signal: abort.signal,
      keepRunning,
      byHand: true,
      wait: values.wait,
    });
  } catch (error: unknown) {
    if (error instanceof SlaveJoinError) {
      // a key that differs: say which file this slave read, the one to replace
      const keyed = error.cause instanceof HandshakeError && error.cause.kind === "key" && farmKey;
      console.error(`octane: ${error.message}${keyed ? ` (this slave's key file: ${farmKey.path})` : ""}`);
      return 1;
    }
    throw error;
  } finally {
    removeSignals();
    watch?.close();
    gpu.device.destroy();
  }
}

/** The master of --master HOST:PORT, or of --net-master-address and --net-master-port. */
function masterTarget(values: FlagValues<typeof SLAVE>): { host: string; port: number } {
  if (values.master !== undefined) return hostPort(values.master, "--master");
  if (values["net-master-address"] !== undefined) {
    return { host: values["net-master-address"], port: values["net-master-port"] };
  }
  throw new UsageError(`Missing --master HOST:PORT: run "octane slave --help"`);
}

/**
 * Opens the GPU and, for a slave a daemon started (--daemon), the heartbeat link to it (the GPU opens while
 * the link's handshake runs); what one of them failed to do closes the other.
 */
async function openSlave(
  daemon: string | undefined,
  abort: AbortController,
  farmKey: FarmKey | undefined,
): Promise<{ gpu: Gpu; watch?: WatchLink | undefined }> {
  const opening = openGpu();
  let watch: WatchLink | undefined;
  try {
    watch = daemon !== undefined ? await watchDaemon(daemon, abort, farmKey) : undefined;
  } catch (error: unknown) {
    await opening.then((g) => g.device.destroy(), () => {});
    throw error;
  }
  const gpu = await opening.catch((error: unknown) => {
    watch?.close();
    throw error;
  });
  return { gpu, watch };
}

/**
 * Joins the master and renders for it, render after render with --keep-running; returns the exit code: 0
 * when stopped or the master finished, 1 when the master went away or this GPU cannot render its scene.
 * @param o `byHand`: started by hand (it waits for the master and shows progress); else by a daemon
 */
async function renderFor(
  gpu: Gpu,
  options: Parameters<typeof Slave.join>[1],
  o: { signal: AbortSignal; keepRunning: boolean; byHand: boolean; wait?: number | undefined },
): Promise<number> {
  const where = `${options.host}:${options.port}`;
  for (;;) {
    const slave = o.byHand
      ? await joinWhenUp(gpu, options, { where, wait: o.wait, signal: o.signal, keepRunning: o.keepRunning })
      : await Slave.join(gpu, options);
    if (!slave) return 0; // stopped while waiting
    console.log(`Launching net render slave (${VERSION}) with master ${where}`);
    const progress = o.byHand ? showProgress(slave, where) : undefined;
    const exit = await slave.run(o.signal).finally(() => progress?.stop());
    if (exit.kind === "stopped") {
      console.error("Slave stopped: unfinished work returned to the master");
      return 0;
    }
    // its own GPU cannot render it: joining again would only download the data to fail again
    if (exit.kind === "failed") {
      console.error(`octane: ${exit.reason}`);
      return 1;
    }
    const line = exit.kind === "finished" ? `Master ${where} finished the render` : exit.reason;
    if (!o.keepRunning) {
      console.error(exit.kind === "finished" ? `${line}; slave exiting` : `octane: ${line}`);
      return exit.kind === "finished" ? 0 : 1;
    }
    console.error(`${line[0]!.toUpperCase()}${line.slice(1)}; waiting for the next render (Ctrl-C stops)`);
    // a master that went away in trouble is not asked again at once
    if (exit.kind === "lost") await delay(LOST_PAUSE_MS, o.signal).catch(() => {});
  }
}

/** "llvmpipe (LLVM 15.0.6, 256 bits) (software)". */
function describeGpu(g: AdapterSummary): string {
  return `${g.name}${g.software ? " (software)" : ""}`;
}

/**
 * Joins the master at the address, trying again with back-off while nothing answers there (it is not up
 * yet) or it is busy; says so once. Undefined when `signal` stops the wait.
 * @throws {SlaveJoinError} when the wait (`wait` seconds) is over, or the peer refuses for good
 */
async function joinWhenUp(
  gpu: Gpu,
  options: Parameters<typeof Slave.join>[1],
  o: { where: string; wait?: number | undefined; signal: AbortSignal; keepRunning: boolean },
): Promise<Slave | undefined> {
  const t0 = performance.now();
  let pause = WAIT_FIRST_MS;
  let said = false;
  for (;;) {
    if (o.signal.aborted) return undefined;
    try {
      // Ctrl-C ends a join in progress too (connecting, or waiting for the welcome)
      const joining = Slave.join(gpu, options);
      let onAbort = () => {};
      const stopped = new Promise<undefined>((resolve) => {
        onAbort = () => resolve(undefined);
        if (o.signal.aborted) resolve(undefined);
        o.signal.addEventListener("abort", onAbort, { once: true });
      });
      const slave = await Promise.race([joining, stopped]).finally(() =>
        o.signal.removeEventListener("abort", onAbort)
      );
      if (slave === undefined) joining.then((s) => s.close(), () => {});
      return slave;
    } catch (error: unknown) {
      // a console left running (--keep-running) also outwaits a peer that answers nothing for a while
      const silent = o.keepRunning && error instanceof SlaveJoinError &&
        error.cause instanceof HandshakeError &&
        error.cause.kind === "timeout";
      if (!(error instanceof SlaveJoinError) || !(error.retry || silent)) throw error;
      const waited = (performance.now() - t0) / 1000;
      if (o.wait !== undefined && waited >= o.wait) {
        throw new SlaveJoinError(`No master at ${o.where} within ${o.wait} s (--wait): ${error.message}`, {
          cause: error,
        });
      }
      if (!said) {
        const bound = o.wait === undefined ? "" : ` for up to ${o.wait} s`;
        console.error(`Waiting for master ${o.where}${bound} (${error.message}); Ctrl-C stops`);
        said = true;
      }
      log.debug("Master {where} not there yet: {message}", { where: o.where, message: error.message });
      const left = o.wait === undefined ? pause : Math.min(pause, (o.wait - waited) * 1000);
      await delay(Math.max(left, 0), o.signal).catch(() => {});
      pause = Math.min(pause * 2, WAIT_MAX_MS);
    }
  }
}

/** Prints what the slave has rendered, every few seconds (redrawn in place on a terminal). */
function showProgress(slave: Slave, where: string): { stop(): void } {
  const status = new StatusLine();
  const t0 = performance.now();
  let last = { at: t0, samples: 0 };
  const timer = setInterval(() => {
    const { units, pixelSamples } = slave.done;
    const now = performance.now();
    if (pixelSamples === last.samples) return;
    const rate = (pixelSamples - last.samples) / ((now - last.at) / 1000);
    last = { at: now, samples: pixelSamples };
    status.update(
      `Rendering for ${where}: ${units} unit${units === 1 ? "" : "s"}, ${formatRate(pixelSamples)}samples, ${
        formatRate(rate)
      }samples/s`,
    );
  }, PROGRESS_MS);
  return {
    stop() {
      clearInterval(timer);
      status.clear(); // the lines that follow start on a line of their own
    },
  };
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
