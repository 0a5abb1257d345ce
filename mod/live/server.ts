import { getLogger } from "@logtape/logtape";
import { timingSafeEqual } from "node:crypto";
import { cameraJson, parseCamera } from "../render_data/mod.ts";
import type { Camera } from "../scene/mod.ts";
import { type Film, previewPng } from "./_preview.ts";
import type { LogRing } from "./log_ring.ts";
import { deadline } from "../net/async.ts";
import page from "./page/index.html" with { type: "text" };
import style from "./page/style.css" with { type: "text" };
import script from "./page/app.js" with { type: "text" };

const log = getLogger(["octane", "live"]);

/** First port tried when none is given. */
export const LIVE_VIEW_PORT = 8420;
/** Least milliseconds between two encodes of the same render's image (the render must not wait on them). */
const ENCODE_INTERVAL_MS = 1000;
/** Milliseconds between two status events (the page asks for a new image only when samples arrived). */
const EVENT_INTERVAL_MS = 250;
/** Milliseconds the pages get to receive the last event when the master stops. */
const SHUTDOWN_MS = 2000;
/** Events queued for a page that does not read them before its stream is closed (ten seconds' worth). */
const MAX_QUEUED_EVENTS = 40;
/** Largest POST body read, bytes. */
const MAX_BODY = 16 * 1024;

/** What the live view shows and controls; a master session builds it (`MasterSession.liveSource`). */
export interface LiveSource {
  /** The JSON of `GET /api/status`. */
  status(): Record<string, unknown>;
  /** The film so far, and a key that changes when it does (render id and samples merged). */
  film(): Film & { key: string };
  /** The camera of the render in progress (the API sends it in its JSON form, `CameraJson`). */
  camera(): Camera;
  /** Moves the camera (a checked one, read from the API's JSON form); the render restarts. */
  setCamera(camera: Camera): void;
  /** Stops the render and writes the outputs, as Ctrl-C does. */
  stop(): void;
  /** Pauses or resumes handing out work. */
  pause(on: boolean): void;
  /** Renders again from no samples, with a new spp target if given; false once the render is stopping. */
  restart(spp?: number): boolean;
  /** Enables or disables a daemon by address; false when there is no such daemon. */
  enableDaemon?(address: string, on: boolean): boolean;
  /**
   * The latest denoised image of the render in progress, if one is ready (asking says a page wants one: the
   * source denoises the film now and then, in the background); absent where there is no denoiser.
   */
  denoised?(): (Film & { key: string }) | undefined;
}

/** Options of {@linkcode serveLiveView}. */
export interface LiveViewOptions {
  /** Address to listen on. */
  hostname: string;
  /** Port; with `firstFree`, the first free one from it (up to 100 higher). */
  port: number;
  /** Take the first free port from `port`. */
  firstFree: boolean;
  /** The access token every request must carry. */
  token: string;
  /** Log lines for the log panel. */
  log: LogRing;
}

/** A running live view. */
export interface LiveView {
  /** The page's address, token included. */
  url: string;
  /** The port listened on. */
  port: number;
  /** Tells the pages the master stopped, then stops serving. */
  shutdown(): Promise<void>;
}

/** A request the API refuses: status and a one-line reason. */
class Refusal extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** A random access token (128 bits, hex). */
export function newToken(): string {
  return [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Serves the live view: the page, `GET /api/status`, `GET /api/image.png?exposure=EV`, `GET /api/events`
 * (server-sent status four times a second), `GET /api/camera`, `GET /api/log?after=N`, and the POSTs behind the
 * controls. Every request must carry the token (`?token=` or `Authorization: Bearer`), else 401.
 * @throws {Deno.errors.AddrInUse} when the port (or, with firstFree, every port tried) is taken
 */
export function serveLiveView(source: LiveSource, options: LiveViewOptions): LiveView {
  const streams = new Set<ReadableStreamDefaultController<Uint8Array>>();
  const images = new ImageCache(source);
  const denoisedImages = new DenoisedImageCache();
  const handler = (request: Request) => handle(request, { source, options, images, denoisedImages, streams });
  let server: Deno.HttpServer<Deno.NetAddr> | undefined;
  const last = options.firstFree ? Math.min(65535, options.port + 100) : options.port;
  for (let port = options.port; port <= last; port++) {
    try {
      server = Deno.serve({ hostname: options.hostname, port, onListen() {}, onError }, handler);
      break;
    } catch (error: unknown) {
      if (!(error instanceof Deno.errors.AddrInUse) || port === last) throw error;
    }
  }
  const port = server!.addr.port;
  const host = options.hostname.includes(":") ? `[${options.hostname}]` : options.hostname;
  const shown = host === "0.0.0.0" || host === "[::]" ? "127.0.0.1" : host;
  const timer = setInterval(() => broadcast(streams, source.status()), EVENT_INTERVAL_MS);
  return {
    url: `http://${shown}:${port}/?token=${options.token}`,
    port,
    async shutdown() {
      clearInterval(timer);
      broadcast(streams, { ...source.status(), state: "stopped" });
      for (const c of streams) {
        try {
          c.close();
        } catch {
          // the page went away
        }
      }
      streams.clear();
      // graceful: the closed event streams end after their last event is sent
      await deadline(server!.shutdown(), SHUTDOWN_MS, { message: "" }).catch(() => {});
    },
  };
}

/** An unexpected failure in a handler: logged, and one line to the client; the render goes on. */
function onError(error: unknown): Response {
  const message = error instanceof Error ? error.message : String(error);
  log.error("Live view request failed: {message}", { message });
  return new Response(`Internal error: ${message}\n`, { status: 500 });
}

interface Context {
  source: LiveSource;
  options: LiveViewOptions;
  images: ImageCache;
  denoisedImages: DenoisedImageCache;
  streams: Set<ReadableStreamDefaultController<Uint8Array>>;
}

async function handle(request: Request, c: Context): Promise<Response> {
  const url = new URL(request.url);
  if (!authorized(request, url, c.options.token)) return new Response(null, { status: 401 });
  try {
    if (request.method === "GET") return get(url, c);
    if (request.method === "POST") return await post(url.pathname, request, c.source);
    throw new Refusal(405, `${request.method} is not served: use GET or POST`);
  } catch (error: unknown) {
    if (!(error instanceof Refusal)) throw error;
    return new Response(`${error.message}\n`, {
      status: error.status,
      headers: { "content-type": "text/plain; charset=utf-8" },
    });
  }
}

function authorized(request: Request, url: URL, token: string): boolean {
  const header = request.headers.get("authorization") ?? "";
  const given = url.searchParams.get("token") ?? (header.startsWith("Bearer ") ? header.slice(7).trim() : "");
  const a = new TextEncoder().encode(given), b = new TextEncoder().encode(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

const json = (value: unknown) =>
  new Response(JSON.stringify(value), {
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" },
  });

function get(url: URL, c: Context): Response {
  switch (url.pathname) {
    case "/":
    case "/index.html":
      return new Response(
        page.replace("/*STYLE*/", () => style).replace("/*SCRIPT*/", () => script),
        {
          headers: {
            "content-type": "text/html; charset=utf-8",
            "cache-control": "no-store",
            // the token is in the page's address
            "referrer-policy": "no-referrer",
          },
        },
      );
    case "/api/status":
      return json(c.source.status());
    case "/api/camera":
      return new Response(JSON.stringify(cameraJson(c.source.camera()), null, 2) + "\n", {
        headers: {
          "content-type": "application/json; charset=utf-8",
          "cache-control": "no-store",
          ...(url.searchParams.has("download")
            ? { "content-disposition": 'attachment; filename="camera.json"' }
            : {}),
        },
      });
    case "/api/log":
      return json(c.options.log.since(Number(url.searchParams.get("after")) || 0));
    case "/api/image.png": {
      const text = url.searchParams.get("exposure") ?? "0";
      const exposure = Number(text);
      if (!Number.isFinite(exposure) || Math.abs(exposure) > 20) {
        throw new Refusal(400, `Invalid exposure "${text}": a number of stops from -20 to 20`);
      }
      // ?denoise=1: the latest denoised image where one is ready, else the raw one (the header says which)
      const denoised = url.searchParams.get("denoise") === "1" ? c.source.denoised?.() : undefined;
      const png = denoised ? c.denoisedImages.png(exposure, denoised) : c.images.png(exposure);
      return new Response(png.slice(), {
        headers: {
          "content-type": "image/png",
          "cache-control": "no-store",
          "x-octane-denoised": denoised ? "1" : "0",
        },
      });
    }
    case "/api/events":
      return events(c);
    default:
      throw new Refusal(404, `Nothing at ${url.pathname}: see docs/live_view.md`);
  }
}

/** Server-sent events: the status now, then four times a second, until the page or the master goes. */
function events(c: Context): Response {
  let mine: ReadableStreamDefaultController<Uint8Array> | undefined;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      mine = controller;
      c.streams.add(controller);
      controller.enqueue(event(c.source.status()));
    },
    cancel() {
      if (mine) c.streams.delete(mine);
    },
  });
  return new Response(body, {
    headers: { "content-type": "text/event-stream", "cache-control": "no-store" },
  });
}

const encoder = new TextEncoder();

function event(status: unknown): Uint8Array {
  return encoder.encode(`data: ${JSON.stringify(status)}\n\n`);
}

function broadcast(streams: Set<ReadableStreamDefaultController<Uint8Array>>, status: unknown): void {
  if (streams.size === 0) return;
  const bytes = event(status);
  for (const s of streams) {
    try {
      // a page that stopped reading gets its stream closed instead of a queue that grows without end
      if ((s.desiredSize ?? 0) < -MAX_QUEUED_EVENTS) throw new RangeError("Too many events queued");
      s.enqueue(bytes);
    } catch {
      streams.delete(s);
      try {
        s.close();
      } catch {
        // closed already
      }
    }
  }
}

async function post(path: string, request: Request, source: LiveSource): Promise<Response> {
  const body = await readBody(request);
  const field = (name: string) => (body as Record<string, unknown> | undefined)?.[name];
  switch (path) {
    case "/api/stop":
      source.stop();
      break;
    case "/api/pause":
      source.pause(true);
      break;
    case "/api/resume":
      source.pause(false);
      break;
    case "/api/restart": {
      const spp = field("spp");
      if (
        spp !== undefined && !(Number.isInteger(spp) && (spp as number) >= 1 && (spp as number) <= 1 << 20)
      ) {
        throw new Refusal(400, `Invalid "spp": a whole number from 1 to ${1 << 20}`);
      }
      if (!source.restart(spp as number | undefined)) throw new Refusal(409, "The render is stopping");
      break;
    }
    case "/api/camera": {
      if (body === undefined) {
        throw new Refusal(400, "Missing camera: send JSON with position, target, up, fov");
      }
      try {
        source.setCamera(parseCamera(body));
      } catch (error: unknown) {
        throw new Refusal(400, `Invalid camera: ${error instanceof Error ? error.message : String(error)}`);
      }
      break;
    }
    case "/api/daemons": {
      const address = field("address"), enabled = field("enabled");
      if (typeof address !== "string" || typeof enabled !== "boolean") {
        throw new Refusal(400, `Expected {"address": "ADDRESS", "enabled": true or false}`);
      }
      if (!source.enableDaemon) {
        throw new Refusal(409, "This master does not scan for daemons: start it with --net");
      }
      if (!source.enableDaemon(address, enabled)) throw new Refusal(404, `No daemon "${address}" is listed`);
      break;
    }
    default:
      throw new Refusal(404, `Nothing to POST at ${path}: see docs/live_view.md`);
  }
  return json(source.status());
}

/** The POST body as JSON (undefined when empty). */
async function readBody(request: Request): Promise<unknown> {
  const length = Number(request.headers.get("content-length") ?? 0);
  if (length > MAX_BODY) throw new Refusal(413, `Body too large: at most ${MAX_BODY} bytes`);
  const text = await request.text();
  if (text.length > MAX_BODY) throw new Refusal(413, `Body too large: at most ${MAX_BODY} bytes`);
  if (text.trim() === "") return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error: unknown) {
    throw new Refusal(400, `Malformed JSON body: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Refusal(400, "The body must be a JSON object");
  }
  return value;
}

/**
 * The image as PNG, encoded at most once a second for the same render whatever the number of pages (a new
 * render, after a camera move, is encoded at once), and again for another exposure.
 */
class ImageCache {
  #source: LiveSource;
  #png?: Uint8Array;
  #key = "";
  #exposure = NaN;
  #at = 0;
  #render = "";

  constructor(source: LiveSource) {
    this.#source = source;
  }

  png(exposure: number): Uint8Array {
    const film = this.#source.film();
    const render = film.key.split("/")[0]!;
    const now = performance.now();
    const fresh = film.key === this.#key && exposure === this.#exposure;
    const throttled = render === this.#render && exposure === this.#exposure &&
      now - this.#at < ENCODE_INTERVAL_MS;
    if (!this.#png || (!fresh && !throttled)) {
      const t0 = performance.now();
      this.#png = previewPng(film, exposure);
      log.debug("Encoded the live image in {ms} ms", { ms: (performance.now() - t0).toFixed(1) });
      this.#key = film.key;
      this.#exposure = exposure;
      this.#at = now;
      this.#render = render;
    }
    return this.#png;
  }
}

/** The denoised image as PNG, encoded once for each denoised film and exposure. */
class DenoisedImageCache {
  #png?: Uint8Array;
  #key = "";

  png(exposure: number, film: Film & { key: string }): Uint8Array {
    const key = `${film.key}@${exposure}`;
    if (!this.#png || key !== this.#key) {
      this.#png = previewPng(film, exposure);
      this.#key = key;
    }
    return this.#png;
  }
}
