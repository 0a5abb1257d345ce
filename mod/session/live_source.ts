import { describeFacts } from "../net/daemon/mod.ts";
import type { DaemonEntry, DaemonPool, Subnet } from "../net/discovery/mod.ts";
import type { Master, NodeInfo } from "../net/master/mod.ts";
import type { LiveSource } from "../live/mod.ts";
import { cameraJson, cameraOf, sceneBounds, withCamera } from "../render_data/mod.ts";
import type { Camera } from "../scene/mod.ts";
import { VERSION } from "../version.ts";
import type { PreviewDenoiser } from "./live_denoise.ts";

/** Seconds without a result after which a connected node counts as idle. */
const IDLE_SECONDS = 5;

/** What the live view's source reads beside the master. */
export interface LiveContext {
  /** The master. */
  master: Master;
  /** Its daemon pool, when scanning. */
  pool?: DaemonPool | undefined;
  /** The scan's settings, when scanning. */
  scan?: { subnets: Subnet[]; daemonPort: number; interval: number } | undefined;
  /** The scene's name as given. */
  scene: string;
  /** The page's stop: the session's stop policy (never its second Ctrl-C). */
  stop(): void;
  /** The preview denoiser of the page's denoise toggle, where there is one. */
  preview?: PreviewDenoiser | undefined;
}

/**
 * The live view's data source over a master session: the status JSON, the film keyed by render generation
 * and samples, the camera (a `Camera`; the server sends its JSON form) and the page's controls.
 */
export function liveSource(c: LiveContext): LiveSource {
  const { master, pool, preview } = c;
  // the camera of each render generation, read back from its render data once (or as the page set it)
  let camera: { generation: number; camera: Camera } | undefined;
  const current = (): Camera => {
    if (camera?.generation !== master.generation) {
      camera = { generation: master.generation, camera: cameraOf(master.data) };
    }
    return camera.camera;
  };
  return {
    status: () => ({ ...liveStatus(c, current()), denoise: preview?.status() ?? null }),
    film: () => liveFilm(master),
    camera: current,
    setCamera(moved) {
      if (master.update(withCamera(master.data, moved))) {
        camera = { generation: master.generation, camera: moved };
      }
    },
    // a stop from the page once the master stops (Ctrl-C, its time limit) does nothing more
    stop() {
      if (!master.stopping) c.stop();
    },
    pause: (on) => (master.paused = on),
    restart: (spp) => master.restart(spp === undefined ? {} : { spp }),
    ...(pool ? { enableDaemon: (address: string, on: boolean) => pool.setEnabled(address, on) } : {}),
    ...(preview ? { denoised: () => preview.denoised() } : {}),
  };
}

/** The film so far, keyed `generation/samples`: each render has its own, and it changes as samples merge. */
export function liveFilm(master: Master): ReturnType<LiveSource["film"]> & { aovs?: Float64Array } {
  return { ...master.snapshot(), key: `${master.generation}/${master.progress.samplesDone}` };
}

/** The JSON of `GET /api/status` (less `denoise`, which the preview denoiser says). */
export function liveStatus(c: LiveContext, camera: Camera): Record<string, unknown> {
  const { master } = c;
  const p = master.progress;
  const { width, height } = master.snapshot();
  const pixels = width * height;
  const rate = p.nodes.filter((n) => n.active).reduce((k, n) => k + n.rate, 0);
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
  const total = p.nodes.reduce((k, n) => k + n.samples, 0);
  const now = performance.now();
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
    camera: cameraJson(camera),
    bounds: sceneBounds(master.data) ?? null,
    nodes: p.nodes.map((n) => nodeStatus(n, { total, now })),
    daemons: c.pool && c.scan
      ? {
        subnets: c.scan.subnets.map((s) => s.text),
        port: c.scan.daemonPort,
        interval: c.scan.interval,
        list: c.pool.daemons.map((e) => daemonStatus(e, c.pool!)),
      }
      : null,
  };
}

function nodeStatus(n: NodeInfo, o: { total: number; now: number }): Record<string, unknown> {
  return {
    id: n.id,
    host: n.host,
    gpus: n.gpus.map((g) => g.name),
    state: !n.active
      ? (n.left ? "left" : "stopped")
      : n.upload.sent < n.upload.total
      ? "uploading"
      : n.lastResultAt !== undefined && o.now - n.lastResultAt < IDLE_SECONDS * 1000
      ? "rendering"
      : "idle",
    samplesPerSecond: n.active ? n.rate : 0,
    samples: n.samples,
    share: o.total > 0 ? n.samples / o.total : 0,
    upload: n.upload,
    secondsSinceResult: n.lastResultAt === undefined ? null : (o.now - n.lastResultAt) / 1000,
    left: n.left ?? null,
  };
}

function daemonStatus(e: DaemonEntry, pool: DaemonPool): Record<string, unknown> {
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
}
