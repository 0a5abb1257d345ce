import { getLogger } from "@logtape/logtape";
import type { Master } from "../net/master/mod.ts";
import type { DaemonPool, Subnet } from "../net/discovery/mod.ts";
import { describeFacts } from "../net/daemon/mod.ts";
import { type CameraJson, cameraOf, sceneBounds, withCamera } from "../render_data/mod.ts";
import {
  LIVE_VIEW_PORT,
  type LiveSource,
  type LiveView,
  newToken,
  recentLog,
  serveLiveView,
} from "../live/mod.ts";
import { VERSION } from "../version.ts";
import { UsageError } from "./args.ts";
import { addressNotHere } from "./net_args.ts";
import type { Denoiser } from "../denoise/mod.ts";
import { PreviewDenoiser } from "./live_denoise.ts";

const log = getLogger(["octane", "live"]);

/** Seconds without a result after which a connected node counts as idle. */
const IDLE_SECONDS = 5;

/**
 * Where the live view listens: `--ui [ADDR:]PORT` (port 0: any free one), off with `--no-ui`, else 127.0.0.1
 * from port 8420.
 */
export function uiSettings(
  values: Record<string, string | boolean | undefined>,
): { hostname: string; port: number; firstFree: boolean } | undefined {
  if (values["no-ui"] === true) {
    if (values.ui !== undefined) throw new UsageError("Pass --ui [ADDR:]PORT or --no-ui, not both");
    return undefined;
  }
  const text = values.ui;
  if (typeof text !== "string") return { hostname: "127.0.0.1", port: LIVE_VIEW_PORT, firstFree: true };
  const m = text.match(/^(?:\[([0-9a-fA-F:.]+)\]:|([^:[\]]+):)?(\d{1,5})$/);
  const port = Number(m?.[3]);
  if (!m || !(port >= 0 && port <= 65535)) {
    throw new UsageError(`Invalid --ui "${text}": expected PORT or ADDR:PORT, e.g. 8420 or 0.0.0.0:8420`);
  }
  return { hostname: m[1] ?? m[2] ?? "127.0.0.1", port, firstFree: false };
}

/** What the live view needs beside the master. */
export interface LiveContext {
  /** The master. */
  master: Master;
  /** Its daemon pool, when scanning. */
  pool?: DaemonPool | undefined;
  /** The scan's settings, when scanning. */
  scan?: { subnets: Subnet[]; daemonPort: number; interval: number } | undefined;
  /** The scene's name as given. */
  scene: string;
  /** Stops the render as Ctrl-C does (prints, then `master.stop()`). */
  stop(): void;
  /** Opens the denoiser for the page's denoise toggle (on the master's GPU), on its first use. */
  openDenoiser?: () => Promise<Denoiser>;
}

/**
 * Starts the live view over a master and prints its URL (token included) on stderr; a non-loopback address
 * is warned about.
 */
export function startLiveView(
  where: { hostname: string; port: number; firstFree: boolean },
  context: LiveContext,
): LiveView {
  let view: LiveView;
  const film = () => {
    const s = context.master.snapshot();
    return { ...s, key: `${renderKey(context.master)}/${context.master.progress.samplesDone}` };
  };
  const preview = context.openDenoiser ? new PreviewDenoiser(context.openDenoiser, film) : undefined;
  try {
    view = serveLiveView(liveSource(context, film, preview), {
      ...where,
      token: Deno.env.get("OCTANE_UI_TOKEN") || newToken(),
      log: recentLog,
    });
  } catch (error: unknown) {
    if (error instanceof Deno.errors.AddrInUse) {
      throw new UsageError(
        where.firstFree
          ? `Ports ${where.port} to ${where.port + 100} are all in use: pass --ui PORT, or --no-ui`
          : `Port ${where.port} for --ui is in use: pass another --ui PORT, or --no-ui`,
        { cause: error },
      );
    }
    if (error instanceof Deno.errors.AddrNotAvailable) throw addressNotHere(where.hostname, error);
    throw error;
  }
  if (!/^(127\.|localhost$|::1$)/.test(where.hostname)) {
    log.warn(
      "The live view listens on {host}: whoever reaches it and has the URL's token can watch and control this render",
      { host: where.hostname },
    );
  }
  console.error(`Live view: ${view.url}`);
  if (!preview) return view;
  return {
    ...view,
    shutdown() {
      preview.close();
      return view.shutdown();
    },
  };
}

/** The live view's source over a master. */
function liveSource(
  c: LiveContext,
  film: () => ReturnType<LiveSource["film"]>,
  preview: PreviewDenoiser | undefined,
): LiveSource {
  const { master, pool } = c;
  let camera: { data: object; json: CameraJson } | undefined;
  const current = (): CameraJson => {
    const data = master.data;
    if (camera?.data !== data) camera = { data, json: cameraOf(data) };
    return camera.json;
  };
  return {
    status: () => ({ ...status(c, current()), denoise: preview?.status() ?? null }),
    film,
    camera: current,
    setCamera(json) {
      const next = withCamera(master.data, json);
      if (master.update(next)) camera = { data: next, json };
    },
    // a second stop from the page must not be the second Ctrl-C that quits without writing
    stop() {
      if (!master.stopping) c.stop();
    },
    pause: (on) => (master.paused = on),
    restart: (spp) => master.restart(spp === undefined ? {} : { spp }),
    ...(pool ? { enableDaemon: (address: string, on: boolean) => pool.setEnabled(address, on) } : {}),
    ...(preview ? { denoised: () => preview.denoised() } : {}),
  };
}

/** A number that changes with every new render (a restart or another camera): each has its own film. */
const renders = new WeakMap<object, number>();
let renderCount = 0;
function renderKey(master: Master): number {
  const sums = master.snapshot().sums;
  let key = renders.get(sums);
  if (key === undefined) renders.set(sums, key = ++renderCount);
  return key;
}

function status(c: LiveContext, camera: CameraJson): Record<string, unknown> {
  const { master, pool, scan } = c;
  const p = master.progress;
  const { width, height } = master.snapshot();
  const pixels = width * height;
  const rate = p.nodes.filter((n) => n.active).reduce((k, n) => k + n.rate, 0);
  const now = performance.now();
  const total = p.nodes.reduce((k, n) => k + n.samples, 0);
  const done = p.samplesTotal > 0 && p.samplesDone >= p.samplesTotal;
  const state = master.stopping
    ? "stopping"
    : master.paused
    ? "paused"
    : done
    ? "done"
    : p.elapsedMs === 0
    ? "waiting"
    : "rendering";
  return {
    version: VERSION,
    scene: c.scene,
    state,
    width,
    height,
    spp: { done: p.samplesDone / pixels, target: p.samplesTotal / pixels },
    samplesPerSecond: rate,
    etaSeconds: rate > 0 && !done ? (p.samplesTotal - p.samplesDone) / rate : null,
    elapsedSeconds: p.elapsedMs / 1000,
    camera,
    bounds: sceneBounds(master.data) ?? null,
    nodes: p.nodes.map((n) => ({
      id: n.id,
      host: n.host,
      gpus: n.gpus.map((g) => g.name),
      state: !n.active
        ? (n.left ? "left" : "stopped")
        : n.upload.sent < n.upload.total
        ? "uploading"
        : n.lastResultAt !== undefined && now - n.lastResultAt < IDLE_SECONDS * 1000
        ? "rendering"
        : "idle",
      samplesPerSecond: n.active ? n.rate : 0,
      samples: n.samples,
      share: total > 0 ? n.samples / total : 0,
      upload: n.upload,
      secondsSinceResult: n.lastResultAt === undefined ? null : (now - n.lastResultAt) / 1000,
      left: n.left ?? null,
    })),
    daemons: pool && scan
      ? {
        subnets: scan.subnets.map((s) => s.text),
        port: scan.daemonPort,
        interval: scan.interval,
        list: pool.daemons.map((e) => {
          const r = e.report;
          const s = r.kind === "daemon" ? r.status : undefined;
          return {
            address: e.address,
            host: s?.host ?? null,
            gpus: s?.gpus.map((g) => g.name) ?? [],
            facts: s ? describeFacts(s) : null,
            version: s?.version ?? (r.kind === "other-version" ? r.version : null),
            state: e.failed
              ? `failed: ${e.failed}`
              : r.kind === "refused"
              ? `refused: ${r.reason}`
              : r.kind === "other-version"
              ? "another version"
              : e.enabled
              ? "enabled"
              : s?.state === "occupied"
              ? `occupied by ${s.master ?? "another master"}`
              : pool.isDisabled(e.address)
              ? "disabled"
              : "available",
            enabled: e.enabled,
          };
        }),
      }
      : null,
  };
}
