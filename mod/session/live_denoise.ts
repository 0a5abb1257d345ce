import { getLogger } from "@logtape/logtape";
import type { Denoiser } from "../denoise/mod.ts";
import type { Film } from "../live/mod.ts";
import { meanImage } from "../render/mod.ts";

const log = getLogger(["octane", "live"]);

/** Least milliseconds between the starts of two preview denoises. */
const MIN_INTERVAL_MS = 3000;
/** The interval is also at least this many times the last denoise's time, so denoising takes at most a third. */
const INTERVAL_FACTOR = 3;

/** What the live view's status says about the preview's denoising. */
export interface PreviewDenoiseStatus {
  /** `idle` (no page asked yet), `denoising`, `ready`, or `unavailable` (no weights: see `message`). */
  state: "idle" | "denoising" | "ready" | "unavailable";
  /** Samples per pixel of the latest denoised image, when there is one for the render in progress. */
  spp: number | null;
  /** Milliseconds the latest denoise took. */
  ms: number | null;
  /** Why it is unavailable. */
  message?: string;
}

/** The film as the preview denoiser reads it: with the AOV sums where the render has them. */
export type DenoiseFilm = Film & {
  key: string;
  /** AOV sums, 6 floats a pixel (albedo rgb, normal xyz), divided by each row's samples like `sums`. */
  aovs?: ArrayLike<number>;
};

/**
 * Denoises the live view's film in the background, never holding the render up: only while a page asks for
 * denoised images, one denoise at a time, at most every {@linkcode MIN_INTERVAL_MS} ms and every
 * {@linkcode INTERVAL_FACTOR} times the last denoise's time; a film that changed since is denoised when that
 * interval is over. The GPU work shares the master's device with its own rendering.
 */
export class PreviewDenoiser {
  #open: () => Promise<Denoiser>;
  #film: () => DenoiseFilm;
  #denoiser?: Promise<Denoiser>;
  #busy = false;
  #startedAt = -Infinity;
  #lastMs = 0;
  #timer?: ReturnType<typeof setTimeout>;
  #latest?: { render: string; film: Film & { key: string }; spp: number };
  #failed?: string;
  #closed = false;

  /**
   * @param open opens the denoiser (once, on the first request)
   * @param film the film so far, keyed `generation/samples` (a new render generation has a film of its own)
   */
  constructor(open: () => Promise<Denoiser>, film: () => DenoiseFilm) {
    this.#open = open;
    this.#film = film;
  }

  /** The latest denoised film of the render in progress, if any; starts a denoise when one is due. */
  denoised(): (Film & { key: string }) | undefined {
    this.#trigger();
    const render = this.#film().key.split("/")[0];
    const latest = this.#latest;
    return latest && latest.render === render ? latest.film : undefined;
  }

  /** For the status JSON. */
  status(): PreviewDenoiseStatus {
    if (this.#failed) return { state: "unavailable", spp: null, ms: null, message: this.#failed };
    const render = this.#film().key.split("/")[0];
    const latest = this.#latest?.render === render ? this.#latest : undefined;
    return {
      state: this.#busy ? "denoising" : latest ? "ready" : "idle",
      spp: latest?.spp ?? null,
      ms: latest ? this.#lastMs : null,
    };
  }

  /** Stops denoising (the denoiser itself is closed by whoever opened it). */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
  }

  #trigger(): void {
    if (this.#busy || this.#failed || this.#closed) return;
    const film = this.#film();
    if (film.key === this.#latest?.film.key.replace(/^d/, "")) return;
    const wait = this.#startedAt + Math.max(MIN_INTERVAL_MS, INTERVAL_FACTOR * this.#lastMs) -
      performance.now();
    const render = film.key.split("/")[0];
    if (wait > 0 && this.#latest?.render === render) {
      // due later: denoise what the film holds then (a page may have stopped asking by then; that is fine)
      this.#timer ??= setTimeout(() => {
        this.#timer = undefined;
        this.#trigger();
      }, wait);
      return;
    }
    this.#busy = true;
    this.#startedAt = performance.now();
    this.#run(film).catch((error: unknown) => {
      this.#failed = error instanceof Error ? error.message : String(error);
      log.warn("The live view cannot denoise: {message}", { message: this.#failed });
    }).finally(() => (this.#busy = false));
  }

  async #run(film: DenoiseFilm): Promise<void> {
    this.#denoiser ??= this.#open();
    const denoiser = await this.#denoiser;
    const { width, height } = film;
    let samples = 0;
    for (let y = 0; y < height; y++) samples += film.rowSamples[y]!;
    if (samples === 0) return;
    const image = meanImage(film.sums, film.rowSamples, width, height);
    const done = await denoiser.denoise({
      width,
      height,
      color: image.rgb,
      ...(denoiser.aux ? guides(film) : {}),
    });
    if (this.#closed) return;
    this.#lastMs = done.ms;
    this.#latest = {
      render: film.key.split("/")[0]!,
      film: {
        sums: done.image,
        rowSamples: new Float32Array(height).fill(1),
        width,
        height,
        key: `d${film.key}`,
      },
      spp: samples / height,
    };
    log.debug("Denoised the live image in {ms} ms", { ms: done.ms.toFixed(0) });
  }
}

/** Albedo and normal means of the film's AOV sums, for a denoiser that takes them. */
function guides(film: DenoiseFilm): { albedo: Float32Array; normal: Float32Array } {
  const { aovs, rowSamples, width, height } = film;
  if (!aovs) throw new RangeError("Cannot denoise the live image: the render has no albedo and normal AOVs");
  const albedo = new Float32Array(width * height * 3);
  const normal = new Float32Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const n = rowSamples[y]!;
    const inv = n > 0 ? 1 / n : 0;
    for (let p = y * width; p < (y + 1) * width; p++) {
      for (let c = 0; c < 3; c++) {
        albedo[p * 3 + c] = aovs[p * 6 + c]! * inv;
        normal[p * 3 + c] = aovs[p * 6 + 3 + c]! * inv;
      }
    }
  }
  return { albedo, normal };
}
