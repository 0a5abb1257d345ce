import type { LiveView } from "../live/mod.ts";
import { describeEntry } from "../net/discovery/mod.ts";
import {
  denoiseWords,
  type MasterEvents,
  type MasterRender,
  MasterSession,
  type MasterStatus,
} from "../session/mod.ts";
import { formatDuration, formatRate, nodeRates, plural, sharesTable, StatusLine } from "../status/mod.ts";
import { parseFlags } from "./args.ts";
import { cameraAsFlags, sceneRequest } from "./camera_args.ts";
import { MASTER } from "./commands.ts";
import { printHelp } from "./flags.ts";
import { keepServing } from "./guard.ts";
import { startLiveView, uiSettings } from "./live.ts";
import { discoveryOptions, lanAddresses, listening, readKey } from "./net_args.ts";
import { imageJob, outputFiles } from "./output_args.ts";
import { asUsage } from "./usage.ts";

/** Milliseconds between two redraws of the status line. */
const STATUS_MS = 500;

/** `octane master`: a network render. Parses the flags, runs a master session and prints what it says. */
export async function masterCommand(args: string[]): Promise<number> {
  const parsed = parseFlags(args, MASTER);
  if (parsed.help) return printHelp(MASTER);
  const { values, positionals, given } = parsed;
  const discovery = discoveryOptions(values, given);
  const ui = uiSettings(values);
  const files = await outputFiles(values);
  const farmKey = await readKey(values["key-file"]);
  const { bind, port, quiet } = values;
  // a wrong --bind or a taken --port fails now, not after the scene is loaded and the GPU opened
  await listening(
    bind,
    port,
    () => Deno.listen({ hostname: bind, port: values["auto-port"] ? 0 : port }).close(),
  );
  const scene = await sceneRequest(positionals[0] ?? "cornell", values, given);
  const status = new StatusLine();
  const session = await asUsage(listening(bind, port, () =>
    MasterSession.open({
      ...imageJob(values, { given, scene, files }),
      port,
      bind,
      autoPort: values["auto-port"],
      key: farmKey?.key,
      heartbeatTimeout: values["heartbeat-timeout"],
      waitSlaves: values["wait-slaves"],
      waitTimeout: values["wait-timeout"],
      verify: values.verify,
      unitTimeout: values["unit-timeout"],
      localRender: !values["no-local-render"],
      discovery,
      watch: values.watch,
      keepOpen: values["keep-open"],
    }, printer(status, { quiet, daemonPort: discovery?.daemonPort }))));
  announce(session, { bind, quiet });
  const ticker = quiet ? undefined : setInterval(() => showStatus(status, session.status()), STATUS_MS);
  const unguard = keepServing("master");
  let view: LiveView | undefined;
  try {
    view = ui ? startLiveView(ui, session.liveSource()) : undefined;
    return await asUsage(session.run());
  } finally {
    await view?.shutdown();
    await session.close();
    clearInterval(ticker);
    unguard();
  }
}

/** The lines before the render: the scene and its camera, where the master listens, how slaves join. */
function announce(session: MasterSession, o: { bind: string; quiet: boolean }): void {
  const { data, camera } = session.scene;
  if (!o.quiet) {
    console.error(
      `Rendering ${session.sceneName} (${data.stats.triangles} triangles); camera ${cameraAsFlags(camera)}`,
    );
  }
  console.log(`Master listening on ${o.bind}:${session.port}`);
  if (o.bind === "0.0.0.0" && !o.quiet) {
    const lan = lanAddresses();
    const hint = lan.length > 0
      ? lan.map((a) => `octane slave --master ${a}:${session.port}`).join("  or  ")
      : `octane slave --master THIS_HOST:${session.port}`;
    console.error(`Slaves join with: ${hint}`);
  }
}

/** What the master session says, printed: daemons found, stopping, each render, a stop with nothing merged. */
function printer(status: StatusLine, o: { quiet: boolean; daemonPort?: number | undefined }): MasterEvents {
  return {
    daemons(entries) {
      if (o.quiet) return;
      const lines = entries.length ? entries.map((e) => `  ${describeEntry(e)}`) : ["  none found"];
      status.done(`Daemons on port ${o.daemonPort}:\n${lines.join("\n")}`);
    },
    stopping(n) {
      if (o.quiet) return;
      status.done(
        `Stopping: merging the ${
          plural(n, "unit")
        } in flight, then writing the image (Ctrl-C again: quit at once)`,
      );
    },
    quit() {
      status.done("octane: master stopped at once: the render in progress was not written");
      Deno.exit(130);
    },
    nothingMerged: () => status.done("Stopped before any sample was merged: no image written"),
    rendered: (render) => printRender(status, render, o.quiet),
  };
}

/** "Rendered 64 spp in 3.20 s on 3 nodes: 1.31 Msamples/s -> render.png", the table, and what comes next. */
function printRender(status: StatusLine, render: MasterRender, quiet: boolean): void {
  const { report, written, nodes } = render;
  const seconds = report.wallSeconds;
  const contributors = report.nodes.filter((n) => n.samples > 0).length;
  const rate = (seconds > 0 ? `: ${formatRate(report.samplesPerSecond)}samples/s` : "") +
    (report.denoise ? `, ${denoiseWords(report.denoise)}` : "");
  const spp = report.interrupted
    ? `${report.samplesPerPixel.toFixed(1)} of ${report.sppTarget} spp (interrupted)`
    : `${report.sppTarget} spp`;
  status.done(
    `Rendered ${spp} in ${seconds.toFixed(2)} s on ${plural(contributors, "node")}${rate} -> ${
      written.join(", ")
    }`,
  );
  if (quiet) return;
  for (const line of sharesTable(nodes, seconds, "Who rendered what:")) console.error(line);
  if (render.next === "watching") status.done(`Watching ${report.scene} for changes (Ctrl-C stops)`);
  if (render.next === "keeping open") status.done("Keeping the master open for the live view (Ctrl-C stops)");
}

/** Redraws the status line, unless stopping or a render is over (--watch waiting for a change has its line). */
function showStatus(status: StatusLine, s: MasterStatus): void {
  const p = s.progress;
  if (s.stopping || (p.samplesTotal > 0 && p.samplesDone >= p.samplesTotal)) return;
  status.update(statusText(s));
}

/** The status line: spp done, samples/s by node, ETA, daemons; before work goes out, what it waits for. */
function statusText(s: MasterStatus): string {
  const p = s.progress;
  const slaves = p.nodes.filter((n) => n.active && n.id !== "local");
  const daemons = s.daemons ? [s.daemons] : [];
  if (p.elapsedMs === 0) {
    // nothing handed out yet: the master waits for slaves (--wait-slaves, or no local GPU)
    const waiting = s.waitSlaves > 0
      ? `waiting for ${plural(s.waitSlaves, "slave")} (${p.readySlaves} ready)`
      : "waiting for a slave to join";
    return [waiting, ...(slaves.length ? [nodeRates(slaves)] : []), ...daemons].join("  ");
  }
  // the nodes' own recent rates: an average since the start would fall while nobody renders
  const rate = p.nodes.filter((n) => n.active).reduce((k, n) => k + n.rate, 0);
  const eta = rate > 0 ? (p.samplesTotal - p.samplesDone) / rate : Infinity;
  const nodes = nodeRates(p.nodes);
  return [
    `${(p.samplesDone / s.pixels).toFixed(1)}/${p.samplesTotal / s.pixels} spp`,
    nodes ? `${formatRate(rate)}samples/s: ${nodes}` : "no node renders: waiting for a slave to join",
    ...(nodes ? [`ETA ${formatDuration(eta)}`] : []),
    ...daemons,
  ].join("  ");
}
