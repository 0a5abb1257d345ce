import { hostname } from "node:os";
import { dirname } from "node:path";
import { openGpu } from "../gpu/mod.ts";
import { type Denoiser, openDenoiser } from "../denoise/mod.ts";
import { Master, type MasterResult, type NodeInfo } from "../net/master/mod.ts";
import {
  DaemonPool,
  describeEntry,
  type EnableRule,
  interfaceSubnets,
  parseSubnet,
  type Subnet,
} from "../net/discovery/mod.ts";
import { getLogger } from "@logtape/logtape";
import { cameraAspect } from "../render_data/mod.ts";
import { aovMeans, meanImage } from "../render/mod.ts";
import { formatDuration, formatRate, nodeRates, plural, sharesTable, StatusLine } from "../status/mod.ts";
import { VERSION } from "../version.ts";
import {
  DAEMON_PORT,
  HEARTBEAT_TIMEOUT_SECONDS,
  MASTER_PORT,
  PROBE_TIMEOUT_MS,
  SCAN_CONCURRENCY,
  SCAN_INTERVAL_SECONDS,
  UNIT_TIMEOUT_SECONDS,
  VERIFY_FRACTION,
} from "../net/defaults.ts";
import { fractionFlag, intFlag, numberFlag, parseFlags, UsageError } from "./args.ts";
import { MASTER } from "./commands.ts";
import { printHelp } from "./flags.ts";
import {
  denoiserFor,
  fitImage,
  imageSettings,
  imageSize,
  outputFiles,
  wantsAovs,
  writeOutputs,
  writtenFiles,
} from "./image_args.ts";
import { addressNotHere, readKey } from "./net_args.ts";
import { keepServing } from "./guard.ts";
import { onStopSignals } from "./signals.ts";
import { deadline } from "../net/async.ts";
import { cameraAsFlags, loadPlaced } from "./camera_args.ts";
import { startLiveView, uiSettings } from "./live.ts";

const log = getLogger(["octane", "master"]);

/** Runs `listen`, turning a taken port or an address no interface has into the one-line usage error. */
function listening<T>(bind: string, port: number, listen: () => T): T {
  try {
    return listen();
  } catch (error: unknown) {
    if (error instanceof Deno.errors.AddrInUse) {
      throw new UsageError(`Port ${port} is in use: pass --auto-port, or another --port`, { cause: error });
    }
    if (error instanceof Deno.errors.AddrNotAvailable) throw addressNotHere(bind, error);
    throw error;
  }
}

/** Milliseconds a master whose render ended waits for its first scan's daemon list. */
const FIRST_LISTING_MS = 5000;

/** `octane master`: a network render. */
export async function masterCommand(args: string[]): Promise<number> {
  const { values, positionals, lists } = parseFlags(args, MASTER);
  if (values.help) return printHelp(MASTER);
  const { spp, seed, maxDepth } = imageSettings(values);
  const port = intFlag(values.port, "port", { min: 0, max: 65535, fallback: MASTER_PORT });
  const heartbeatTimeout = numberFlag(values["heartbeat-timeout"], "heartbeat-timeout") ??
    HEARTBEAT_TIMEOUT_SECONDS;
  const waitSlaves = intFlag(values["wait-slaves"], "wait-slaves", { min: 0, max: 1024, fallback: 0 });
  const waitTimeout = numberFlag(values["wait-timeout"], "wait-timeout");
  const verify = fractionFlag(values.verify, "verify") ?? VERIFY_FRACTION;
  const unitTimeout = numberFlag(values["unit-timeout"], "unit-timeout") ?? UNIT_TIMEOUT_SECONDS;
  const timeLimit = numberFlag(values["time-limit"], "time-limit");
  const discovery = discoveryOptions(values, lists.subnet ?? []);
  const ui = uiSettings(values);
  const keepOpen = values["keep-open"] === true;
  const files = await outputFiles(values);
  const aovs = wantsAovs(files, values);
  const farmKey = await readKey(values["key-file"]);
  const bind = typeof values.bind === "string" ? values.bind : "0.0.0.0";
  const autoPort = values["auto-port"] === true;
  // a wrong --bind or a taken --port fails now, not after the scene is loaded and the GPU opened
  listening(bind, port, () => Deno.listen({ hostname: bind, port: autoPort ? 0 : port }).close());
  const sceneName = positionals[0] ?? "cornell";
  const { data, camera } = await loadPlaced(sceneName, values);
  const { width, height } = imageSize(values, cameraAspect(data));
  const localRender = values["no-local-render"] !== true;
  const gpu = localRender ? await openGpu() : undefined;
  fitImage(width, height, { gpu, role: "master", aovs });
  const denoiser = await denoiserFor(files, gpu, { aux: aovs });
  const master = listening(bind, port, () =>
    Master.start(data, {
      spp,
      width,
      height,
      seed,
      maxDepth,
      aovs,
      port,
      bind,
      autoPort,
      localRender,
      ...(farmKey ? { key: farmKey.key } : {}),
      heartbeatTimeout,
      waitSlaves,
      verify,
      unitTimeout,
      ...(waitTimeout !== undefined ? { waitTimeout } : {}),
      ...(timeLimit !== undefined ? { timeLimit } : {}),
    }, gpu));
  if (values.quiet !== true) {
    console.error(
      `Rendering ${sceneName} (${data.stats.triangles} triangles); camera ${cameraAsFlags(camera)}`,
    );
  }
  console.log(`Master listening on ${bind}:${master.port}`);
  if (bind === "0.0.0.0" && values.quiet !== true) {
    const lan = lanAddresses();
    const hint = lan.length > 0
      ? lan.map((a) => `octane slave --master ${a}:${master.port}`).join("  or  ")
      : `octane slave --master THIS_HOST:${master.port}`;
    console.error(`Slaves join with: ${hint}`);
  }
  const status = new StatusLine();
  const quiet = values.quiet === true;
  const pool = discovery
    ? new DaemonPool({
      ...discovery,
      masterPort: master.port,
      ...(bind !== "0.0.0.0" && bind !== "::" ? { masterAddress: bind } : {}),
      ...(farmKey ? { key: farmKey.key } : {}),
      timeoutMs: PROBE_TIMEOUT_MS,
      concurrency: SCAN_CONCURRENCY,
      heartbeatTimeout,
    })
    : undefined;
  if (pool) {
    pool.onChange = (entries) => {
      if (quiet) return;
      const lines = entries.length ? entries.map((e) => `  ${describeEntry(e)}`) : ["  none found"];
      status.done(`Daemons on port ${discovery!.daemonPort}:\n${lines.join("\n")}`);
    };
    pool.start();
  }
  const ticker = setInterval(() => {
    if (quiet || master.stopping) return;
    const p = master.progress;
    // a finished render (--watch waiting for a change) has its line already
    if (p.samplesTotal > 0 && p.samplesDone >= p.samplesTotal) return;
    status.update(statusText(p, width * height, { waitSlaves, daemons: pool?.summary() }));
  }, 500);
  let renders = 0;
  let stops = 0;
  const stop = () => {
    if (++stops > 1) {
      status.done("octane: master stopped at once: the render in progress was not written");
      pool?.close();
      master.close();
      Deno.exit(130);
    }
    const n = master.stop();
    if (!quiet) {
      status.done(
        `Stopping: merging the ${
          plural(n, "unit")
        } in flight, then writing the image (Ctrl-C again: quit at once)`,
      );
    }
  };
  // the page's denoise toggle uses --denoise's denoiser, else one opened on its first use
  let pageDenoiser: Promise<Denoiser> | undefined;
  const openPageDenoiser = () =>
    denoiser
      ? Promise.resolve(denoiser)
      : pageDenoiser ??= (async () => openDenoiser(gpu ?? await openGpu()))();
  const view = ui
    ? startLiveView(ui, {
      master,
      pool,
      scan: discovery,
      scene: sceneName,
      stop,
      openDenoiser: openPageDenoiser,
    })
    : undefined;
  const removeSignals = onStopSignals(stop);
  const unguard = keepServing("master");
  const reportJson = (result: MasterResult) => {
    const seconds = result.elapsedMs / 1000;
    const received = result.nodes.reduce((n, x) => n + x.bytesReceived, 0);
    const remoteSamples = result.nodes.filter((n) => n.id !== "local").reduce((n, x) => n + x.samples, 0);
    const pixelSamples = result.nodes.reduce((n, x) => n + x.samples, 0);
    return {
      version: VERSION,
      scene: sceneName,
      sceneHash: result.sceneHash,
      width,
      height,
      seed,
      sppTarget: result.samples,
      // the mean over the image when interrupted (rows may differ: see rowSamples min and max)
      samplesPerPixel: pixelSamples / (width * height),
      rowSamples: { min: Math.min(...result.rowSamples), max: Math.max(...result.rowSamples) },
      interrupted: result.interrupted,
      wallSeconds: seconds,
      samplesPerSecond: seconds > 0 ? pixelSamples / seconds : 0,
      bytesPerRemoteSample: remoteSamples > 0 ? received / remoteSamples : 0,
      verification: result.verification,
      master: { host: hostname(), port: master.port },
      nodes: result.nodes.map((n) => ({
        role: n.id === "local" ? "local" : "slave",
        address: n.id === "local" ? undefined : n.id,
        daemon: daemonOf(n),
        host: n.host,
        gpus: n.gpus,
        samples: n.samples,
        samplesPerPixel: n.samples / (width * height),
        bytesSent: n.bytesSent,
        bytesReceived: n.bytesReceived,
        resultBytes: n.resultBytes,
        resultBytesUncompressed: n.resultRawBytes,
        renderDataBytes: n.renderDataBytes,
        renderDataWireBytes: n.renderDataWireBytes,
        firstSampleMs: n.firstSampleMs,
      })),
    };
  };
  /** The daemon that started a slave (it reported the slave's pid), if any. */
  const daemonOf = (n: NodeInfo) =>
    n.pid === undefined
      ? undefined
      : pool?.daemons.find((e) =>
        e.pids.includes(n.pid!) && e.report.kind === "daemon" && e.report.status.host === n.host
      )?.address;
  let nothingWritten = false;
  const writeRender = async (result: MasterResult) => {
    const pixelSamples = result.nodes.reduce((n, x) => n + x.samples, 0);
    if (result.interrupted && pixelSamples === 0) {
      if (renders === 0) nothingWritten = true;
      return status.done("Stopped before any sample was merged: no image written");
    }
    renders++;
    const { denoised } = await writeOutputs(
      files,
      meanImage(result.sums, result.rowSamples, width, height),
      () => reportJson(result),
      result.aovs ? aovMeans(result.aovs, result.rowSamples, width, height) : undefined,
      denoiser,
    );
    const seconds = result.elapsedMs / 1000;
    const nodes = result.nodes.filter((n) => n.samples > 0).length;
    const written = [...writtenFiles(files), ...(files.aov ? [files.aov] : [])].join(", ");
    const sppDone = pixelSamples / (width * height);
    const rate = (seconds > 0 ? `: ${formatRate(pixelSamples / seconds)}samples/s` : "") +
      (denoised ? `, ${denoised}` : "");
    status.done(
      `Rendered ${
        result.interrupted
          ? `${sppDone.toFixed(1)} of ${result.samples} spp (interrupted)`
          : `${result.samples} spp`
      } in ${seconds.toFixed(2)} s on ${plural(nodes, "node")}${rate} -> ${written}`,
    );
    if (!quiet) {
      const named = result.nodes.map((n) => ({ ...n, ...(daemonOf(n) ? { daemon: daemonOf(n) } : {}) }));
      for (const line of sharesTable(named, seconds, "Who rendered what:")) console.error(line);
    }
    if (values.watch && !result.interrupted && !quiet) {
      status.done(`Watching ${sceneName} for changes (Ctrl-C stops)`);
    } else if (keepOpen && !result.interrupted && !quiet) {
      status.done("Keeping the master open for the live view (Ctrl-C stops)");
    }
  };
  const reload = async () => {
    try {
      const { data: next } = await loadPlaced(sceneName, values);
      if (!master.update(next)) log.info("Scene file changed but its render data did not");
    } catch (error: unknown) {
      const message = error instanceof Error ? error.message : String(error);
      log.warn("Cannot reload {scene}: {message}; still rendering the previous version", {
        scene: sceneName,
        message,
      });
    }
  };
  const watcher = values.watch ? watchScene(sceneName, reload) : undefined;
  try {
    await master.run({ onRender: writeRender, keepGoing: values.watch === true || keepOpen });
    removeSignals(); // the image is written: a Ctrl-C from here ends the wait for the daemon list as usual
    // a render over before the first scan finished still lists the daemons it was asked to look for
    pool?.stopEnabling();
    await deadline(pool?.firstListing ?? Promise.resolve(), FIRST_LISTING_MS, { message: "" }).catch(
      () => {},
    );
  } finally {
    await view?.shutdown();
    await pool?.close();
    watcher?.close();
    await denoiser?.close();
    await pageDenoiser?.then((d) => d.close(), () => {});
    clearInterval(ticker);
    removeSignals();
    unguard();
  }
  return nothingWritten ? 130 : 0;
}

/** Calls `onChange` (debounced) when the scene file, or a file beside it (.bin, textures), changes. */
function watchScene(scene: string, onChange: () => Promise<void>): { close(): void } {
  let watcher: Deno.FsWatcher;
  try {
    watcher = Deno.watchFs(dirname(scene) || ".");
  } catch (error: unknown) {
    throw new UsageError(
      `Cannot watch "${scene}": ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running = Promise.resolve();
  (async () => {
    for await (const event of watcher) {
      if (event.kind === "access") continue;
      clearTimeout(timer);
      timer = setTimeout(() => (running = running.then(onChange)), 300);
    }
  })().catch(() => {});
  return {
    close: () => {
      clearTimeout(timer);
      watcher.close();
    },
  };
}

/** This machine's non-loopback IPv4 addresses, where slaves on the LAN can reach it. */
function lanAddresses(): string[] {
  try {
    return Deno.networkInterfaces().filter((i) => i.family === "IPv4" && !i.address.startsWith("127.")).map((
      i,
    ) => i.address);
  } catch {
    return [];
  }
}

/** The scan settings, when network rendering through daemons is on. */
function discoveryOptions(
  values: Record<string, string | boolean | undefined>,
  subnetFlags: string[],
): { subnets: Subnet[]; daemonPort: number; interval: number; enable: EnableRule } | undefined {
  const on = values.net === true || subnetFlags.length > 0 || values.enable !== undefined;
  const daemonPort = intFlag(values["daemon-port"], "daemon-port", {
    min: 1,
    max: 65535,
    fallback: DAEMON_PORT,
  });
  const interval = numberFlag(values["scan-interval"], "scan-interval") ?? SCAN_INTERVAL_SECONDS;
  if (!on) {
    for (const flag of ["daemon-port", "scan-interval"]) {
      if (values[flag] !== undefined) {
        throw new UsageError(`--${flag} needs scanning: add --net, --subnet CIDR or --enable`);
      }
    }
    return undefined;
  }
  const subnets = subnetFlags.map((text) => {
    try {
      return parseSubnet(text);
    } catch (error: unknown) {
      throw new UsageError(`Invalid --subnet: ${error instanceof Error ? error.message : error}`);
    }
  });
  if (subnets.length === 0) {
    subnets.push(...interfaceSubnets());
    if (subnets.length === 0) {
      throw new UsageError("No network interface with an IPv4 address to scan: pass --subnet CIDR");
    }
  }
  const e = typeof values.enable === "string" ? values.enable.trim() : "all";
  const names = e.split(",").map((x) => x.trim()).filter(Boolean);
  if (names.length === 0) throw new UsageError(`Invalid --enable "${e}": expected all, none or HOST,...`);
  const enable: EnableRule = e === "all" || e === "none" ? e : names;
  return { subnets, daemonPort, interval, enable };
}

function statusText(
  p: Master["progress"],
  pixels: number,
  o: { waitSlaves: number; daemons?: string | undefined },
): string {
  const slaves = p.nodes.filter((n) => n.active && n.id !== "local");
  const daemons = o.daemons ? [o.daemons] : [];
  if (p.elapsedMs === 0) {
    // nothing handed out yet: the master waits for slaves (--wait-slaves, or no local GPU)
    const waiting = o.waitSlaves > 0
      ? `waiting for ${plural(o.waitSlaves, "slave")} (${p.readySlaves} ready)`
      : "waiting for a slave to join";
    return [waiting, ...(slaves.length ? [nodeRates(slaves)] : []), ...daemons].join("  ");
  }
  // the nodes' own recent rates: an average since the start would fall while nobody renders
  const rate = p.nodes.filter((n) => n.active).reduce((k, n) => k + n.rate, 0);
  const eta = rate > 0 ? (p.samplesTotal - p.samplesDone) / rate : Infinity;
  const nodes = nodeRates(p.nodes);
  return [
    `${(p.samplesDone / pixels).toFixed(1)}/${p.samplesTotal / pixels} spp`,
    nodes ? `${formatRate(rate)}samples/s: ${nodes}` : "no node renders: waiting for a slave to join",
    ...(nodes ? [`ETA ${formatDuration(eta)}`] : []),
    ...daemons,
  ].join("  ");
}
