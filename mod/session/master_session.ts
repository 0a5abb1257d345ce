import { getLogger } from "@logtape/logtape";
import { hostname } from "node:os";
import { type Denoiser, openDenoiser } from "../denoise/mod.ts";
import { openGpu } from "../gpu/mod.ts";
import type { LiveSource } from "../live/mod.ts";
import { deadline } from "../net/async.ts";
import type { DaemonPool } from "../net/discovery/mod.ts";
import { Master, type MasterResult } from "../net/master/mod.ts";
import { cameraAspect } from "../render_data/mod.ts";
import { aovMeans, meanImage } from "../render/mod.ts";
import { type Devices, openDevices } from "./devices.ts";
import { daemonOf, startPool } from "./discovery.ts";
import { imageSize } from "./image.ts";
import { PreviewDenoiser } from "./live_denoise.ts";
import { liveFilm, liveSource } from "./live_source.ts";
import type { MasterEvents, MasterSessionOptions, MasterStatus } from "./master_options.ts";
import { wantsAovs, writeImages, writeReportFile, writtenFiles } from "./outputs.ts";
import { buildReport, type RenderReport } from "./report.ts";
import { type OpenedScene, openScene } from "./scene.ts";
import { StopPolicy } from "./stop.ts";
import { watchScene } from "./watch.ts";

const log = getLogger(["octane", "master"]);

/** Milliseconds a master whose render ended waits for its first scan's daemon list. */
const FIRST_LISTING_MS = 5000;

/**
 * `octane master` as a session: {@linkcode MasterSession.open} loads the scene, opens the GPU and the
 * denoiser and starts listening; {@linkcode MasterSession.run} scans for daemons, owns the stop policy,
 * writes every render's outputs and report, reloads a watched scene; it provides the status line's and
 * the live view's data; {@linkcode MasterSession.close} lets everything go.
 */
export class MasterSession {
  /** The master. */
  readonly master: Master;
  /** The scene opened and the camera it is seen through. */
  readonly scene: OpenedScene;
  /** The image size. */
  readonly width: number;
  /** The image size. */
  readonly height: number;
  #options: MasterSessionOptions;
  #events: MasterEvents;
  #devices: Devices;
  #stop: StopPolicy;
  #pool?: DaemonPool;
  #watcher?: { close(): void };
  #preview?: PreviewDenoiser;
  #pageDenoiser?: Promise<Denoiser>;
  #renders = 0;
  #nothingWritten = false;

  private constructor(
    options: MasterSessionOptions,
    events: MasterEvents,
    o: { scene: OpenedScene; width: number; height: number; devices: Devices; master: Master },
  ) {
    this.#options = options;
    this.#events = events;
    this.scene = o.scene;
    this.width = o.width;
    this.height = o.height;
    this.#devices = o.devices;
    this.master = o.master;
    if (options.discovery) {
      this.#pool = startPool(options.discovery, {
        masterPort: this.master.port,
        bind: options.bind,
        key: options.key,
        heartbeatTimeout: options.heartbeatTimeout,
        onChange: events.daemons && ((entries) => events.daemons?.(entries)),
      });
    }
    this.#stop = new StopPolicy({
      stop: () => this.#events.stopping?.(this.master.stop()),
      quit: () => this.#quit(),
      signals: options.signals ?? true,
    });
  }

  /**
   * Opens the scene, the GPU and the denoiser, and starts listening for slaves.
   * @throws {SceneNotFoundError} {CameraNotFoundError} {ImageTooLargeError} {DenoiseWeightsError} before any work
   * @throws {Deno.errors.AddrInUse} {Deno.errors.AddrNotAvailable} when it cannot listen
   */
  static async open(options: MasterSessionOptions, events: MasterEvents = {}): Promise<MasterSession> {
    const scene = await openScene(options.scene);
    const { width, height } = imageSize(options, cameraAspect(scene.data));
    const aovs = wantsAovs(options.files);
    const devices = await openDevices({
      render: options.localRender,
      width,
      height,
      role: "master",
      aovs,
      denoise: options.files.denoise === true,
    });
    const { spp, seed, maxDepth, port, bind, autoPort, localRender, heartbeatTimeout } = options;
    const master = Master.start(scene.data, {
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
      ...(options.key ? { key: options.key } : {}),
      heartbeatTimeout,
      waitSlaves: options.waitSlaves,
      verify: options.verify,
      unitTimeout: options.unitTimeout,
      ...(options.waitTimeout !== undefined ? { waitTimeout: options.waitTimeout } : {}),
      ...(options.timeLimit !== undefined ? { timeLimit: options.timeLimit } : {}),
    }, devices.gpu);
    return new MasterSession(options, events, { scene, width, height, devices, master });
  }

  /** The port listened on. */
  get port(): number {
    return this.master.port;
  }

  /** The scene as given. */
  get sceneName(): string {
    return this.#options.scene.name;
  }

  /** The status line's data. */
  status(): MasterStatus {
    return {
      progress: this.master.progress,
      pixels: this.width * this.height,
      waitSlaves: this.#options.waitSlaves,
      daemons: this.#pool?.summary(),
      stopping: this.master.stopping,
    };
  }

  /** Asks the session to stop, as Ctrl-C does ("signal") or the live view's button ("page"). */
  stop(source: "signal" | "page"): void {
    this.#stop.request(source);
  }

  /** The live view's data source: status, film, camera and controls (the page's stop never quits). */
  liveSource(): LiveSource {
    this.#preview ??= new PreviewDenoiser(() => this.#openPageDenoiser(), () => liveFilm(this.master));
    return liveSource({
      master: this.master,
      pool: this.#pool,
      scan: this.#options.discovery,
      scene: this.#options.scene.name,
      stop: () => this.stop("page"),
      preview: this.#preview,
    });
  }

  /**
   * Renders until the render is written (with --watch or --keep-open: until Ctrl-C), writing every render's
   * outputs and report; then waits a little for the first scan's daemon list.
   * @returns the exit code: 0, or 130 when stopped before any sample was merged (or quit at once)
   */
  async run(): Promise<number> {
    const o = this.#options;
    if (o.watch) this.#watcher = watchScene(o.scene.name, () => this.#reload());
    try {
      await this.master.run({ onRender: (r) => this.#onRender(r), keepGoing: o.watch || o.keepOpen });
    } catch (error: unknown) {
      if (this.#stop.quitting) return 130;
      throw error;
    }
    // the image is written: a Ctrl-C from here ends the wait for the daemon list as usual
    this.#stop.close();
    // a render over before the first scan finished still lists the daemons it was asked to look for
    this.#pool?.stopEnabling();
    await deadline(this.#pool?.firstListing ?? Promise.resolve(), FIRST_LISTING_MS, { message: "" }).catch(
      () => {},
    );
    return this.#nothingWritten ? 130 : 0;
  }

  /** Lets everything go: signals, the preview denoiser, the daemon pool, the watcher, the denoisers, the master. */
  async close(): Promise<void> {
    this.#stop.close();
    this.#preview?.close();
    await this.#pool?.close();
    this.#watcher?.close();
    await this.#devices.denoiser?.close();
    await this.#pageDenoiser?.then((d) => d.close(), () => {});
    this.master.close();
  }

  /** Writes a render handed over by the master: images, then the report; says what was written. */
  async #onRender(result: MasterResult): Promise<void> {
    const { width, height } = this;
    const o = this.#options;
    const pixelSamples = result.nodes.reduce((n, x) => n + x.samples, 0);
    if (result.interrupted && pixelSamples === 0) {
      if (this.#renders === 0) this.#nothingWritten = true;
      return this.#events.nothingMerged?.();
    }
    this.#renders++;
    const denoise = await writeImages(o.files, meanImage(result.sums, result.rowSamples, width, height), {
      aovs: result.aovs ? aovMeans(result.aovs, result.rowSamples, width, height) : undefined,
      denoiser: this.#devices.denoiser,
    });
    const report = this.#report(result, denoise);
    await writeReportFile(o.files, report);
    const nodes = result.nodes.map((n) => {
      const daemon = daemonOf(this.#pool, n);
      return daemon ? { ...n, daemon } : n;
    });
    const next = result.interrupted
      ? undefined
      : o.watch
      ? "watching"
      : o.keepOpen
      ? "keeping open"
      : undefined;
    this.#events.rendered?.({ report, written: writtenFiles(o.files), nodes, ...(next ? { next } : {}) });
  }

  #report(result: MasterResult, denoise: RenderReport["denoise"]): RenderReport {
    return buildReport({
      scene: this.#options.scene.name,
      sceneHash: result.sceneHash,
      width: this.width,
      height: this.height,
      seed: this.#options.seed,
      sppTarget: result.samples,
      elapsedMs: result.elapsedMs,
      interrupted: result.interrupted,
      nodes: result.nodes,
      network: {
        rowSamples: result.rowSamples,
        verification: result.verification,
        master: { host: hostname(), port: this.master.port },
        daemonOf: (n) => daemonOf(this.#pool, n),
      },
      ...(denoise ? { denoise } : {}),
    });
  }

  /** --watch: the scene changed on disk; the render restarts on its new render data, if that changed. */
  async #reload(): Promise<void> {
    const scene = this.#options.scene.name;
    try {
      const { data } = await openScene(this.#options.scene);
      if (!this.master.update(data)) log.info("Scene file changed but its render data did not");
    } catch (error: unknown) {
      const message = error instanceof Error ? error.message : String(error);
      log.warn("Cannot reload {scene}: {message}; still rendering the previous version", { scene, message });
    }
  }

  /** A second Ctrl-C: nothing more is written, the daemons are let go, the master closes. */
  #quit(): void {
    this.#pool?.close();
    this.master.close();
    this.#events.quit?.();
  }

  /** The page's denoise toggle uses --denoise's denoiser, else one opened on its first use. */
  #openPageDenoiser(): Promise<Denoiser> {
    const { gpu, denoiser } = this.#devices;
    if (denoiser) return Promise.resolve(denoiser);
    return this.#pageDenoiser ??= (async () => openDenoiser(gpu ?? await openGpu()))();
  }
}
