import { extname } from "node:path";
import {
  AOV_BYTES_PER_PIXEL,
  type AovImages,
  checkImageSize,
  encodeExr,
  encodePfm,
  encodePng,
  type HdrImage,
  ImageTooLargeError,
  MASTER_BYTES_PER_PIXEL,
  RENDER_BYTES_PER_PIXEL,
  writeAovFiles,
} from "../render/mod.ts";
import type { Gpu } from "../gpu/mod.ts";
import { checkWritableDir, checkWritableFolder, intFlag, type ParsedArgs, UsageError } from "./args.ts";
import { IMAGE_DEFAULTS } from "./commands.ts";

/** Image settings shared by render and master: --spp, --width, --height, --seed, --max-depth. */
export interface ImageSettings {
  /** Samples per pixel. */
  spp: number;
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** Random seed. */
  seed: number;
  /** Longest path. */
  maxDepth: number;
}

/** Reads the image settings, with their defaults and ranges. */
export function imageSettings(values: ParsedArgs["values"]): ImageSettings {
  return {
    spp: intFlag(values.spp, "spp", { min: 1, max: 1 << 24, fallback: IMAGE_DEFAULTS.spp }),
    width: intFlag(values.width, "width", { min: 1, max: 16384, fallback: DEFAULT_SIDE }),
    height: intFlag(values.height, "height", { min: 1, max: 16384, fallback: DEFAULT_SIDE }),
    seed: intFlag(values.seed, "seed", { min: 0, max: 0xffffffff, fallback: IMAGE_DEFAULTS.seed }),
    maxDepth: intFlag(values["max-depth"], "max-depth", {
      min: 1,
      max: 1024,
      fallback: IMAGE_DEFAULTS.maxDepth,
    }),
  };
}

/** The longer side of the image when neither --width nor --height is given. */
const DEFAULT_SIDE = IMAGE_DEFAULTS.width;

/**
 * The image size: --width and --height as given; where the scene's camera has an aspect ratio (glTF
 * cameras may) and a side is missing, that side follows the ratio: the other side when one is given,
 * else the longer side is 512. Without a ratio, a missing side is 512.
 */
export function imageSize(
  values: ParsedArgs["values"],
  aspect?: number,
): { width: number; height: number } {
  const { width, height } = imageSettings(values);
  if (aspect === undefined || (values.width !== undefined && values.height !== undefined)) {
    return { width, height };
  }
  const side = (n: number) => Math.min(16384, Math.max(1, Math.round(n)));
  if (values.width !== undefined) return { width, height: side(width / aspect) };
  if (values.height !== undefined) return { width: side(height * aspect), height };
  return aspect >= 1
    ? { width: DEFAULT_SIDE, height: side(DEFAULT_SIDE / aspect) }
    : { width: side(DEFAULT_SIDE * aspect), height: DEFAULT_SIDE };
}

/**
 * Checks --width and --height against this machine (its GPU's bindings, its memory) before any work.
 * @param options `gpu`: the GPU that renders here, if one does; `role`: what holds the image in memory
 * @throws {UsageError} naming the largest image of the same aspect that fits
 */
export function fitImage(
  width: number,
  height: number,
  options: { gpu: Gpu | undefined; role: "render" | "master"; aovs?: boolean },
): void {
  const bytesPerPixel = (options.role === "master" ? MASTER_BYTES_PER_PIXEL : RENDER_BYTES_PER_PIXEL) +
    (options.aovs ? AOV_BYTES_PER_PIXEL : 0);
  try {
    checkImageSize(width, height, { gpu: options.gpu, bytesPerPixel });
  } catch (error: unknown) {
    if (!(error instanceof ImageTooLargeError)) throw error;
    const { width: w, height: h } = error.largest;
    const flags = w > 0 ? ` (--width ${w} --height ${h})` : "";
    throw new UsageError(`${error.message}${flags}`, { cause: error });
  }
}

/** The files a render writes: -o (PNG), --hdr (EXR or PFM), --aov (a folder), --report (JSON). */
export interface OutputFiles {
  /** The PNG. */
  output: string;
  /** The linear HDR image, if asked for. */
  hdr?: string;
  /** The folder the AOV files go to, if asked for. */
  aov?: string;
  /** The JSON report, if asked for. */
  report?: string;
}

/**
 * Reads and checks -o, --hdr, --aov and --report before any work: extensions, and that their folders exist
 * (--aov's is made when missing).
 */
export async function outputFiles(values: ParsedArgs["values"]): Promise<OutputFiles> {
  const output = typeof values.output === "string" ? values.output : "render.png";
  const hdr = typeof values.hdr === "string" ? values.hdr : undefined;
  const report = typeof values.report === "string" ? values.report : undefined;
  const aov = typeof values.aov === "string" ? values.aov : undefined;
  if (extname(output).toLowerCase() !== ".png") {
    throw new UsageError(`Cannot write "${output}": -o takes a .png file; use --hdr for .exr or .pfm`);
  }
  if (hdr !== undefined && ![".pfm", ".exr"].includes(extname(hdr).toLowerCase())) {
    throw new UsageError(`Cannot write "${hdr}": --hdr takes a .pfm or .exr file`);
  }
  await checkWritableDir(output, "-o");
  if (hdr !== undefined) await checkWritableDir(hdr, "--hdr");
  if (report !== undefined) await checkWritableDir(report, "--report");
  if (aov !== undefined) await checkWritableFolder(aov, "--aov");
  return { output, hdr, report, ...(aov !== undefined ? { aov } : {}) };
}

/**
 * True when the render needs the AOVs: for an EXR (it carries their channels), --aov, or --denoise (the
 * denoiser's albedo and normal guides) where the command has that flag.
 */
export function wantsAovs(files: OutputFiles, values: ParsedArgs["values"] = {}): boolean {
  return files.aov !== undefined || values.denoise === true ||
    (files.hdr !== undefined && extname(files.hdr).toLowerCase() === ".exr");
}

/**
 * Writes the PNG, the HDR image (by extension; an EXR with the AOV channels when `aovs` are given), the AOV
 * files and the report that were asked for.
 */
export async function writeOutputs(
  files: OutputFiles,
  image: HdrImage,
  report: () => unknown,
  aovs?: AovImages,
): Promise<void> {
  await Deno.writeFile(files.output, encodePng(image));
  if (files.hdr) {
    await Deno.writeFile(
      files.hdr,
      extname(files.hdr).toLowerCase() === ".exr" ? encodeExr(image, aovs ? { aovs } : {}) : encodePfm(image),
    );
  }
  if (files.aov && aovs) await writeAovFiles(files.aov, aovs);
  if (files.report) await Deno.writeTextFile(files.report, JSON.stringify(report(), null, 2) + "\n");
}
