import { denoiseWords, type RenderOutcome, type RenderStart, runRender } from "../session/mod.ts";
import { formatDuration, formatRate, StatusLine } from "../status/mod.ts";
import type { RenderProgress } from "../render/mod.ts";
import { parseFlags } from "./args.ts";
import { cameraAsFlags, sceneRequest } from "./camera_args.ts";
import { RENDER } from "./commands.ts";
import { printHelp } from "./flags.ts";
import { imageJob, outputFiles } from "./output_args.ts";
import { asUsage } from "./usage.ts";

/** `octane render`: renders a scene locally and writes the image, HDR and report files asked for. */
export async function renderCommand(args: string[]): Promise<number> {
  const parsed = parseFlags(args, RENDER);
  if (parsed.help) return printHelp(RENDER);
  const { values, positionals, given } = parsed;
  const files = await outputFiles(values);
  const scene = await sceneRequest(positionals[0] ?? "cornell", values, given);
  const status = new StatusLine();
  const quiet = values.quiet;
  const outcome = await asUsage(runRender(imageJob(values, { given, scene, files }), {
    started(s) {
      if (!quiet) status.done(startLine(s));
    },
    ...(quiet ? {} : { progress: (p: RenderProgress) => status.update(progressLine(p)) }),
  }));
  status.done(doneLine(outcome));
  return 0;
}

/** "Rendering cornell (36 triangles) at 64x64, 4 spp on llvmpipe (software); camera --look-from ...". */
function startLine(s: RenderStart): string {
  const gpu = `${s.gpu.name}${s.gpu.software ? " (software)" : ""}`;
  return `Rendering ${s.scene} (${s.triangles} triangles) at ${s.width}x${s.height}, ${s.spp} spp on ${gpu}; camera ${
    cameraAsFlags(s.camera)
  }`;
}

/** The status line while rendering: spp done, rates, elapsed, ETA. */
function progressLine(p: RenderProgress): string {
  const seconds = p.elapsedMs / 1000;
  const eta = seconds * (p.samplesTarget - p.samplesDone) / p.samplesDone;
  return `${p.samplesDone}/${p.samplesTarget} spp  ${formatRate(p.samplesPerSecond)}samples/s  ${
    formatRate(p.rays / seconds)
  }rays/s  elapsed ${formatDuration(seconds)}  ETA ${formatDuration(eta)}`;
}

/** "Rendered 4 spp in 0.52 s: 31.5 ksamples/s, 80.1 krays/s -> render.png". */
function doneLine({ report, stopped, written }: RenderOutcome): string {
  const why = stopped ? ` (${stopped})` : "";
  const rays = report.raysPerSecond ?? 0;
  const denoised = report.denoise ? `, ${denoiseWords(report.denoise)}` : "";
  return `Rendered ${report.samplesPerPixel} spp${why} in ${report.wallSeconds.toFixed(2)} s: ${
    formatRate(report.samplesPerSecond)
  }samples/s, ${formatRate(rays)}rays/s${denoised} -> ${written.join(", ")}`;
}
