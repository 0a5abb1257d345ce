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
import { PROBE_TIMEOUT_MS, SCAN_CONCURRENCY } from "../net/defaults.ts";
import { parseFlags, UsageError } from "./args.ts";
import { MASTER } from "./commands.ts";
import { type FlagName, type FlagValues, printHelp } from "./flags.ts";
import {
  buildReport,
  denoiseWords,
  imageSize,
  onStopSignals,
  openDevices,
  openScene,
  wantsAovs,
  writeImages,
  writeReportFile,
  writtenFiles,
} from "../session/mod.ts";
import { outputFiles } from "./output_args.ts";
import { addressNotHere, readKey } from "./net_args.ts";
import { keepServing } from "./guard.ts";

import { deadline } from "../net/async.ts";
import { cameraAsFlags, sceneRequest } from "./camera_args.ts";
import { asUsage } from "./usage.ts";
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
  const parsed = parseFlags(args, MASTER);
  if (parsed.help) return printHelp(MASTER);
  const { values, positionals, given } = parsed;
  const { spp, seed, "max-depth": maxDepth, port, "heartbeat-timeout": heartbeatTimeout } = values;
  const { "wait-slaves": waitSlaves, "wait-timeout": waitTimeout, verify, "unit-timeout": unitTimeout } =
    values;
  const timeLimit = values["time-limit"];
  const discovery = discoveryOptions(values, given);
  const ui = uiSettings(values);
  const keepOpen = values["keep-open"];
  const files = await outputFiles(values);
  const aovs = wantsAovs(files);
  const farmKey = await readKey(values["key-file"]);
  const bind = values.bind;
  const autoPort = values["auto-port"];
  // a wrong --bind or a taken --port fails now, not after the scene is loaded and the GPU opened
  listening(bind, port, () => Deno.listen({ hostname: bind, port: autoPort ? 0 : port }).close());
  const sceneName = positionals[0] ?? "cornell";
  const { data, camera } = await asUsage(openScene(await sceneRequest(sceneName, values, given)));
  const { width, height } = imageSize({
    width: given.has("width") ? values.width : undefined,
    height: given.has("height") ? values.height : undefined,
  }, cameraAspect(data));
  const localRender = !values["no-local-render"];
  const { gpu, denoiser } = await asUsage(openDevices({
    render: localRender,
    width,
    height,
    role: "master",
    aovs,
    denoise: files.denoise === true,
  }));
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
  const quiet = values.quiet;
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
    const denoise = await writeImages(files, meanImage(result.sums, result.rowSamples, width, height), {
      aovs: result.aovs ? aovMeans(result.aovs, result.rowSamples, width, height) : undefined,
      denoiser,
    });
    await writeReportFile(
      files,
      buildReport({
        scene: sceneName,
        sceneHash: result.sceneHash,
        width,
        height,
        seed,
        sppTarget: result.samples,
        elapsedMs: result.elapsedMs,
        interrupted: result.interrupted,
        nodes: result.nodes,
        network: {
          rowSamples: result.rowSamples,
          verification: result.verification,
          master: { host: hostname(), port: master.port },
          daemonOf,
        },
        ...(denoise ? { denoise } : {}),
      }),
    );
    const denoised = denoise && denoiseWords(denoise);
    const seconds = result.elapsedMs / 1000;
    const nodes = result.nodes.filter((n) => n.samples > 0).length;
    const written = writtenFiles(files).join(", ");
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
      const { data: next } = await asUsage(openScene(await sceneRequest(sceneName, values, given)));
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
    await master.run({ onRender: writeRender, keepGoing: values.watch || keepOpen });
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
  values: FlagValues<typeof MASTER>,
  given: ReadonlySet<FlagName<typeof MASTER>>,
): { subnets: Subnet[]; daemonPort: number; interval: number; enable: EnableRule } | undefined {
  const on = values.net || values.subnet.length > 0 || given.has("enable");
  const { "daemon-port": daemonPort, "scan-interval": interval } = values;
  if (!on) {
    for (const flag of ["daemon-port", "scan-interval"] as const) {
      if (given.has(flag)) {
        throw new UsageError(`--${flag} needs scanning: add --net, --subnet CIDR or --enable`);
      }
    }
    return undefined;
  }
  const subnets = values.subnet.map((text) => {
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
  const e = values.enable.trim();
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
