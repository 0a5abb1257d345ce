import { basename, extname } from "node:path";
import type { Denoiser } from "../denoise/mod.ts";
import {
  type AovImages,
  encodeExr,
  encodePfm,
  encodePng,
  type HdrImage,
  writeAovFiles,
} from "../render/mod.ts";
import { type DenoiseReport, type RenderReport, writeReport } from "./report.ts";

/** The files a render writes: -o (PNG), --hdr (EXR or PFM), --aov (a folder), --report (JSON). */
export interface OutputFiles {
  /** The PNG. */
  output: string;
  /** The linear HDR image, if asked for. */
  hdr?: string | undefined;
  /** The folder the AOV files go to, if asked for. */
  aov?: string | undefined;
  /** The JSON report, if asked for. */
  report?: string | undefined;
  /** --denoise: the PNG and HDR files get the denoised image, the raw one goes to {@linkcode rawPath}s. */
  denoise?: boolean;
}

/** Where the raw image goes beside a denoised one: `.raw` before the extension (`out.png` -> `out.raw.png`). */
export function rawPath(file: string): string {
  const ext = extname(file);
  return `${file.slice(0, file.length - ext.length)}.raw${ext}`;
}

/** The files a render writes, raw images, the report and the AOV folder included: for the render's last line. */
export function writtenFiles(files: OutputFiles): string[] {
  const images = [files.output, files.hdr].filter((f): f is string => f !== undefined);
  return [
    ...images,
    ...(files.denoise ? images.map(rawPath) : []),
    ...(files.report ? [files.report] : []),
    ...(files.aov ? [files.aov] : []),
  ];
}

/**
 * True when the render needs the AOVs: for an EXR (it carries their channels), --aov, or --denoise (the
 * denoiser's albedo and normal guides).
 */
export function wantsAovs(files: OutputFiles): boolean {
  return files.aov !== undefined || files.denoise === true ||
    (files.hdr !== undefined && extname(files.hdr).toLowerCase() === ".exr");
}

/** A denoiser as the outputs use it (a fake in tests). */
export type OutputDenoiser = Pick<Denoiser, "denoise" | "aux" | "weightsPath">;

/**
 * Writes the images asked for: the PNG, the HDR image (by extension) and the AOV files. With a denoiser, the
 * image is denoised first (with the AOVs as guides where the denoiser takes them): the denoised one goes to
 * -o and --hdr, the raw one beside each ({@linkcode rawPath}).
 * @returns what the denoiser did, for the report, when it ran
 */
export async function writeImages(
  files: OutputFiles,
  image: HdrImage,
  options: { aovs?: AovImages | undefined; denoiser?: OutputDenoiser | undefined } = {},
): Promise<DenoiseReport | undefined> {
  const { aovs, denoiser } = options;
  let report: DenoiseReport | undefined;
  if (denoiser) {
    const done = await denoiser.denoise({
      width: image.width,
      height: image.height,
      color: image.rgb,
      ...(denoiser.aux && aovs ? { albedo: aovs.albedo, normal: aovs.normal } : {}),
    });
    await writeImage(files.output, files.hdr, { ...image, rgb: done.image }, aovs);
    await writeImage(rawPath(files.output), files.hdr && rawPath(files.hdr), image, aovs);
    report = {
      ms: done.ms,
      adapter: done.adapter,
      weights: done.weights,
      weightsFile: basename(denoiser.weightsPath),
      raw: [rawPath(files.output), ...(files.hdr ? [rawPath(files.hdr)] : [])],
    };
  } else {
    await writeImage(files.output, files.hdr, image, aovs);
  }
  if (files.aov && aovs) await writeAovFiles(files.aov, aovs);
  return report;
}

/** Writes the report, when one is asked for (after the images: it says what they hold). */
export async function writeReportFile(files: OutputFiles, report: RenderReport): Promise<void> {
  if (files.report) await writeReport(files.report, report);
}

async function writeImage(png: string, hdr: string | undefined, image: HdrImage, aovs?: AovImages) {
  await Deno.writeFile(png, encodePng(image));
  if (hdr) {
    await Deno.writeFile(
      hdr,
      extname(hdr).toLowerCase() === ".exr" ? encodeExr(image, aovs ? { aovs } : {}) : encodePfm(image),
    );
  }
}

/** A few words on a denoise for a render's last line: "denoised in 1.20 s on llvmpipe (rt_hdr)". */
export function denoiseWords(d: DenoiseReport): string {
  return `denoised in ${(d.ms / 1000).toFixed(2)} s on ${d.adapter} (${d.weights})`;
}
