import { hostname } from "node:os";
import { dirname } from "node:path";
import { openGpu } from "../gpu/mod.ts";
import { Master, type MasterResult, type NodeInfo } from "../net/master/mod.ts";
import { getLogger } from "@logtape/logtape";
import { loadRenderData } from "../render_data/mod.ts";
import { meanImage } from "../render/mod.ts";
import { formatDuration, formatRate, StatusLine } from "../status/mod.ts";
import { VERSION } from "../version.ts";
import { intFlag, numberFlag, parseFlags, UsageError } from "./args.ts";
import { imageSettings, outputFiles, writeOutputs } from "./image_args.ts";
import { readSecret } from "./net_args.ts";
import { asUsage, sceneOptions } from "./scene_args.ts";

const log = getLogger(["octane", "master"]);

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
  --secret-file FILE    shared secret slaves must prove (HMAC); also OCTANE_SECRET
  --heartbeat-timeout S drop a slave silent for S seconds (default 10)
  --wait-slaves N       start rendering once N slaves have the render data (scripted farm renders)`;

/** `octane master`: a network render. */
export async function masterCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, {
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
      "secret-file": { type: "string" },
      "heartbeat-timeout": { type: "string" },
      "wait-slaves": { type: "string" },
      quiet: { type: "boolean" },
      help: { type: "boolean", short: "h" },
      debug: { type: "boolean" },
      verbose: { type: "boolean" },
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const { spp, width, height, seed, maxDepth } = imageSettings(values);
  const port = intFlag(values.port, "port", { min: 1, max: 65535, fallback: 21000 });
  const heartbeatTimeout = numberFlag(values["heartbeat-timeout"], "heartbeat-timeout") ?? 10;
  const waitSlaves = intFlag(values["wait-slaves"], "wait-slaves", { min: 0, max: 1024, fallback: 0 });
  const files = await outputFiles(values);
  const { output, hdr, report } = files;
  const secret = await readSecret(values["secret-file"]);
  const sceneName = positionals[0] ?? "cornell";
  const data = await asUsage(loadRenderData(sceneName, sceneOptions(values)));
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
      secret,
      heartbeatTimeout,
      waitSlaves,
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
  const ticker = setInterval(() => {
    if (!quiet) status.update(statusText(master.progress, width * height));
  }, 500);
  let renders = 0;
  const abort = () => {
    master.close();
    if (renders > 0) {
      console.error(`Master stopped after ${renders} render(s); the last is in ${output}`);
      Deno.exit(0);
    }
    console.error("octane: master interrupted: no image written");
    Deno.exit(130);
  };
  Deno.addSignalListener("SIGINT", abort);
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
      master: { host: hostname(), port: master.port },
      nodes: result.nodes.map((n) => ({
        role: n.id === "local" ? "local" : "slave",
        address: n.id === "local" ? undefined : n.id,
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
  } finally {
    watcher?.close();
    clearInterval(ticker);
    Deno.removeSignalListener("SIGINT", abort);
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

function statusText(
  p: { samplesDone: number; samplesTotal: number; elapsedMs: number; nodes: readonly NodeInfo[] },
  pixels: number,
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
    ...uploads,
  ].join("  ");
}
