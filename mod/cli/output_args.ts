import { extname } from "node:path";
import type { ImageJob, OutputFiles, SceneRequest } from "../session/mod.ts";
import { checkWritableDir, checkWritableFolder, UsageError } from "./args.ts";
import type { RENDER } from "./commands.ts";
import type { FlagValues } from "./flags.ts";

/** The output flags as parsed (render and master). */
export type OutputFlagValues = Pick<
  FlagValues<typeof RENDER>,
  "output" | "hdr" | "aov" | "report" | "denoise"
>;

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

/** The image flags as parsed (render and master). */
export type ImageFlagValues = Pick<
  FlagValues<typeof RENDER>,
  "spp" | "seed" | "max-depth" | "width" | "height" | "time-limit"
>;

/**
 * What render and master both render, from their flags: the scene, spp, seed, depth, the size where given
 * (else the camera's aspect ratio decides), the files and the time limit.
 */
export function imageJob(
  values: ImageFlagValues,
  o: { given: ReadonlySet<string>; scene: SceneRequest; files: OutputFiles },
): ImageJob {
  return {
    scene: o.scene,
    spp: values.spp,
    seed: values.seed,
    maxDepth: values["max-depth"],
    width: o.given.has("width") ? values.width : undefined,
    height: o.given.has("height") ? values.height : undefined,
    files: o.files,
    timeLimit: values["time-limit"],
  };
}
