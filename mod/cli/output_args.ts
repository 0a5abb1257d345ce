import { extname } from "node:path";
import type { OutputFiles } from "../session/mod.ts";
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
