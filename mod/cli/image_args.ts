import { basename, extname } from "node:path";
import { type Denoiser, DenoiseWeightsError, openDenoiser } from "../denoise/mod.ts";
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
import { type Gpu, openGpu } from "../gpu/mod.ts";
import { checkWritableDir, checkWritableFolder, UsageError } from "./args.ts";
import type { RENDER } from "./commands.ts";
import type { FlagValues } from "./flags.ts";

/** The output flags as parsed (render and master). */
export type OutputFlagValues = Pick<
  FlagValues<typeof RENDER>,
  "output" | "hdr" | "aov" | "report" | "denoise"
>;

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
  /** --denoise: the PNG and HDR files get the denoised image, the raw one goes to {@linkcode rawPath}s. */
  denoise?: boolean;
}

/** Where the raw image goes beside a denoised one: `.raw` before the extension (`out.png` -> `out.raw.png`). */
export function rawPath(file: string): string {
  const ext = extname(file);
  return `${file.slice(0, file.length - ext.length)}.raw${ext}`;
}

/** The image files a render writes, raw ones included: for the render's last line. */
export function writtenFiles(files: OutputFiles): string[] {
  const images = [files.output, files.hdr].filter((f): f is string => f !== undefined);
  return [...images, ...(files.denoise ? images.map(rawPath) : []), ...(files.report ? [files.report] : [])];
}

/**
 * Reads and checks -o, --hdr, --aov and --report before any work: extensions, and that their folders exist
 * (--aov's is made when missing).
 */
export async function outputFiles(values: OutputFlagValues): Promise<OutputFiles> {
  const { output, hdr, report, aov } = values;
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
  return {
    output,
    hdr,
    report,
    ...(aov !== undefined ? { aov } : {}),
    ...(values.denoise ? { denoise: true } : {}),
  };
}

/**
 * True when the render needs the AOVs: for an EXR (it carries their channels), --aov, or --denoise (the
 * denoiser's albedo and normal guides) where the command has that flag.
 */
export function wantsAovs(files: OutputFiles): boolean {
  return files.aov !== undefined || files.denoise === true ||
    (files.hdr !== undefined && extname(files.hdr).toLowerCase() === ".exr");
}

/** The denoiser's guides: first-hit albedo and normal means (the AOVs), 3 floats a pixel each. */
export interface DenoiseGuides {
  /** Albedo, rgb in [0, 1]. */
  albedo: Float32Array;
  /** Shading normal, xyz in [-1, 1]. */
  normal: Float32Array;
}

/**
 * Writes the PNG, the HDR image (by extension) and the report that were asked for. With a denoiser, the
 * image is denoised first (with `guides` where the denoiser takes them: {@linkcode denoiserFor}'s `aux`): the
 * denoised one goes to -o and --hdr, the raw one beside each ({@linkcode rawPath}), and the report gains
 * `denoise` {ms, adapter, weights, weightsFile, raw}.
 * @returns `denoised`: a few words on the denoise for the render's last line, when it ran
 */
export async function writeOutputs(
  files: OutputFiles,
  image: HdrImage,
  report: () => Record<string, unknown>,
  guides?: AovImages,
  denoiser?: Denoiser,
): Promise<{ denoised?: string }> {
  let extra: Record<string, unknown> = {};
  if (denoiser) {
    const done = await denoiser.denoise({
      width: image.width,
      height: image.height,
      color: image.rgb,
      ...(denoiser.aux && guides ? { albedo: guides.albedo, normal: guides.normal } : {}),
    });
    await writeImages(
      files.output,
      files.hdr,
      { width: image.width, height: image.height, rgb: done.image },
      guides,
    );
    await writeImages(rawPath(files.output), files.hdr && rawPath(files.hdr), image, guides);
    extra = {
      denoise: {
        ms: done.ms,
        adapter: done.adapter,
        weights: done.weights,
        weightsFile: basename(denoiser.weightsPath),
        raw: [rawPath(files.output), ...(files.hdr ? [rawPath(files.hdr)] : [])],
      },
    };
  } else {
    await writeImages(files.output, files.hdr, image, guides);
  }
  if (files.aov && guides) await writeAovFiles(files.aov, guides);
  if (files.report) {
    await Deno.writeTextFile(files.report, JSON.stringify({ ...report(), ...extra }, null, 2) + "\n");
  }
  const d = extra.denoise as { ms: number; adapter: string; weights: string } | undefined;
  return d ? { denoised: `denoised in ${(d.ms / 1000).toFixed(2)} s on ${d.adapter} (${d.weights})` } : {};
}

async function writeImages(
  png: string,
  hdr: string | undefined,
  image: HdrImage,
  aovs?: AovImages,
): Promise<void> {
  await Deno.writeFile(png, encodePng(image));
  if (hdr) {
    await Deno.writeFile(
      hdr,
      extname(hdr).toLowerCase() === ".exr" ? encodeExr(image, aovs ? { aovs } : {}) : encodePfm(image),
    );
  }
}

/**
 * Opens the denoiser --denoise asks for, on `gpu`, before any rendering: missing or corrupt weights are a
 * one-line usage error (exit 2) that says how to get them.
 * @param options `aux`: the render will have albedo and normal AOVs for {@linkcode writeOutputs}' guides
 * (weights `rt_hdr_alb_nrm`); else colour alone (`rt_hdr`)
 */
export async function denoiserFor(
  files: OutputFiles,
  gpu: Gpu | undefined,
  options: { aux?: boolean } = {},
): Promise<Denoiser | undefined> {
  if (!files.denoise) return undefined;
  try {
    return await openDenoiser(gpu ?? await openGpu(), { aux: options.aux === true });
  } catch (error: unknown) {
    if (error instanceof DenoiseWeightsError) throw new UsageError(error.message, { cause: error });
    throw error;
  }
}
