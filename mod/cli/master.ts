import { hostname } from "node:os";
import { dirname } from "node:path";
import { openGpu } from "../gpu/mod.ts";
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
import { cameraAspect, loadRenderData } from "../render_data/mod.ts";
import { meanImage } from "../render/mod.ts";
import { formatDuration, formatRate, StatusLine } from "../status/mod.ts";
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
import { COMMON_FLAGS, fractionFlag, intFlag, numberFlag, parseFlags, UsageError } from "./args.ts";
import { imageSettings, imageSize, outputFiles, writeOutputs } from "./image_args.ts";
import { readKey } from "./net_args.ts";
import { keepServing } from "./guard.ts";
import { deadline } from "../net/async.ts";
import { asUsage, sceneOptions } from "./scene_args.ts";

const log = getLogger(["octane", "master"]);

/** Milliseconds a master whose render ended waits for its first scan's daemon list. */
const FIRST_LISTING_MS = 5000;

const HELP = `Usage: octane master [SCENE] [options]

Renders SCENE (as "octane render" takes it) with this machine's GPU and every slave that joins
("octane slave --master THIS_HOST:PORT"), merging their samples into one image. Slaves may join at
any time; the render data is sent to each. Prints "Master listening on HOST:PORT" on stdout.

Options:
  --port N              port for slaves (default 21000)
  --auto-port           take the next free port when N is busy (several masters on one computer)
  --bind ADDR           address to listen on (default 0.0.0.0)
  --no-local-render     only slaves render
  --watch               keep going: when the scene file changes, recompile, send slaves only the changed
                        sections and render again (outputs are rewritten after every render; Ctrl-C stops)
  --spp N, --width W, --height H, --seed S, --max-depth N, -o FILE.png, --hdr FILE, --report FILE,
  --camera NAME, --env FILE.hdr, --env-intensity X, --quiet      as for "octane render"
  --key-file FILE       the farm key every slave and daemon must hold (octane key generate); also
                        OCTANE_KEY_FILE, else ~/.config/octane/key when it exists. Without a key, links are
                        encrypted but any host that reaches the port may join (a warning says so)
  --heartbeat-timeout S drop a slave silent for S seconds (default 10)
  --wait-slaves N       start rendering once N slaves have the render data (scripted farm renders)
  --wait-timeout S      with --wait-slaves: start anyway after S seconds with the slaves that are ready
  --verify FRACTION     render this fraction of the units merged from slaves again on another node and
                        compare (default 0.02; 0: off): a slave whose samples disagree with a third render
                        is dropped and its part rendered again, so the image stays exact
  --unit-timeout S      a unit not answered within S seconds (or 4x its expected time, if longer) goes to
                        another node too; the first answer counts (default 10)

Daemons (network rendering without starting slaves by hand; see "octane daemon --help"):
  --net                 scan the subnets of this machine's network interfaces for daemons
  --subnet CIDR         scan this subnet instead (repeatable), e.g. --subnet 192.168.1.0/24
  --daemon-port N       the daemons' port (default 48000)
  --scan-interval S     seconds between scans (default 5)
  --enable all|none|HOST,...   which daemons found start a slave for this master: all (default),
                        none (list them only), or the addresses or host names given
Scanning is on when any of --net, --subnet or --enable is given. Daemons of another octane version are
listed and not enabled.`;

/** `octane master`: a network render. */
export async function masterCommand(args: string[]): Promise<number> {
  const { values, positionals, lists } = parseFlags(args, {
    command: "master",
    maxPositionals: 1,
    options: {
      port: { type: "string" },
      "auto-port": { type: "boolean" },
      bind: { type: "string" },
      "no-local-render": { type: "boolean" },
      watch: { type: "boolean" },
      spp: { type: "string" },
      width: { type: "string" },
      height: { type: "string" },
      seed: { type: "string" },
      "max-depth": { type: "string" },
      output: { type: "string", short: "o" },
      hdr: { type: "string" },
      report: { type: "string" },
      camera: { type: "string" },
      env: { type: "string" },
      "env-intensity": { type: "string" },
      "key-file": { type: "string" },
      "heartbeat-timeout": { type: "string" },
      "wait-slaves": { type: "string" },
      "wait-timeout": { type: "string" },
      verify: { type: "string" },
      "unit-timeout": { type: "string" },
      net: { type: "boolean" },
      subnet: { type: "string", multiple: true },
      "daemon-port": { type: "string" },
      "scan-interval": { type: "string" },
      enable: { type: "string" },
      quiet: { type: "boolean" },
      ...COMMON_FLAGS,
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const { spp, seed, maxDepth } = imageSettings(values);
  const port = intFlag(values.port, "port", { min: 1, max: 65535, fallback: MASTER_PORT });
  const heartbeatTimeout = numberFlag(values["heartbeat-timeout"], "heartbeat-timeout") ??
    HEARTBEAT_TIMEOUT_SECONDS;
  const waitSlaves = intFlag(values["wait-slaves"], "wait-slaves", { min: 0, max: 1024, fallback: 0 });
  const waitTimeout = numberFlag(values["wait-timeout"], "wait-timeout");
  const verify = fractionFlag(values.verify, "verify") ?? VERIFY_FRACTION;
  const unitTimeout = numberFlag(values["unit-timeout"], "unit-timeout") ?? UNIT_TIMEOUT_SECONDS;
  const discovery = discoveryOptions(values, lists.subnet ?? []);
  const files = await outputFiles(values);
  const { output, hdr, report } = files;
  const farmKey = await readKey(values["key-file"]);
  const sceneName = positionals[0] ?? "cornell";
  const data = await asUsage(loadRenderData(sceneName, sceneOptions(values)));
  const { width, height } = imageSize(values, cameraAspect(data));
  const localRender = values["no-local-render"] !== true;
  const gpu = localRender ? await openGpu() : undefined;
  const bind = typeof values.bind === "string" ? values.bind : "0.0.0.0";
  let master: Master;
  try {
    master = Master.start(data, {
      spp,
      width,
      height,
      seed,
      maxDepth,
      port,
      bind,
      autoPort: values["auto-port"] === true,
      localRender,
      ...(farmKey ? { key: farmKey.key } : {}),
      heartbeatTimeout,
      waitSlaves,
      verify,
      unitTimeout,
      ...(waitTimeout !== undefined ? { waitTimeout } : {}),
    }, gpu);
  } catch (error: unknown) {
    if (error instanceof Deno.errors.AddrInUse) {
      throw new UsageError(`Port ${port} is in use: pass --auto-port, or another --port`, { cause: error });
    }
    throw error;
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
    if (!quiet) status.update(statusText(master.progress, width * height, pool?.summary()));
  }, 500);
  let renders = 0;
  const abort = () => {
    pool?.close();
    master.close();
    if (renders > 0) {
      console.error(`Master stopped after ${renders} render(s); the last is in ${output}`);
      Deno.exit(0);
    }
    console.error("octane: master interrupted: no image written");
    Deno.exit(130);
  };
  Deno.addSignalListener("SIGINT", abort);
  const unguard = keepServing("master");
  const reportJson = (result: MasterResult) => {
    const seconds = result.elapsedMs / 1000;
    const received = result.nodes.reduce((n, x) => n + x.bytesReceived, 0);
    const remoteSamples = result.nodes.filter((n) => n.id !== "local").reduce((n, x) => n + x.samples, 0);
    return {
      version: VERSION,
      scene: sceneName,
      sceneHash: result.sceneHash,
      width,
      height,
      seed,
      sppTarget: spp,
      samplesPerPixel: spp,
      wallSeconds: seconds,
      samplesPerSecond: (spp * width * height) / seconds,
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
  const writeRender = async (result: MasterResult) => {
    renders++;
    await writeOutputs(
      files,
      meanImage(result.sums, result.samples, width, height),
      () => reportJson(result),
    );
    const seconds = result.elapsedMs / 1000;
    const nodes = result.nodes.filter((n) => n.samples > 0).length;
    const written = [output, hdr, report].filter(Boolean).join(", ");
    status.done(
      `Rendered ${spp} spp in ${seconds.toFixed(2)} s on ${nodes} node(s): ${
        formatRate((spp * width * height) / seconds)
      }samples/s -> ${written}`,
    );
  };
  const reload = async () => {
    try {
      const next = await loadRenderData(sceneName, sceneOptions(values));
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
    await master.run({ onRender: writeRender, keepGoing: values.watch === true });
    // a render over before the first scan finished still lists the daemons it was asked to look for
    pool?.stopEnabling();
    await deadline(pool?.firstListing ?? Promise.resolve(), FIRST_LISTING_MS, { message: "" }).catch(
      () => {},
    );
  } finally {
    await pool?.close();
    watcher?.close();
    clearInterval(ticker);
    Deno.removeSignalListener("SIGINT", abort);
    unguard();
  }
  return 0;
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
  p: { samplesDone: number; samplesTotal: number; elapsedMs: number; nodes: readonly NodeInfo[] },
  pixels: number,
  daemons?: string,
): string {
  const active = p.nodes.filter((n) => n.active);
  const local = active.filter((n) => n.id === "local").reduce((k, n) => k + n.gpus.length, 0);
  const slaves = active.filter((n) => n.id !== "local");
  const network = slaves.reduce((k, n) => k + n.gpus.length, 0);
  const rate = p.samplesDone / (p.elapsedMs / 1000);
  const eta = (p.samplesTotal - p.samplesDone) / rate;
  const uploads = slaves.filter((n) => n.upload.total > 0 && n.upload.sent < n.upload.total)
    .map((n) => `${n.id} data ${Math.floor(100 * n.upload.sent / n.upload.total)}%`);
  return [
    `${(p.samplesDone / pixels).toFixed(1)}/${p.samplesTotal / pixels} spp`,
    `${local} local + ${network} network GPUs (${slaves.length} slaves)`,
    `${formatRate(rate)}samples/s`,
    `ETA ${formatDuration(eta)}`,
    ...(daemons ? [daemons] : []),
    ...uploads,
  ].join("  ");
}
