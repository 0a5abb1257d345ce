import { hostname } from "node:os";
import { openGpu } from "../gpu/mod.ts";
import { cameraAspect, renderDataHash } from "../render_data/mod.ts";
import { aovMeans, meanImage, renderLocal } from "../render/mod.ts";
import { formatDuration, formatRate, StatusLine } from "../status/mod.ts";
import { VERSION } from "../version.ts";
import { parseFlags } from "./args.ts";
import { RENDER } from "./commands.ts";
import { printHelp } from "./flags.ts";
import { imageSize, openScene } from "../session/mod.ts";
import { denoiserFor, fitImage, outputFiles, wantsAovs, writeOutputs, writtenFiles } from "./image_args.ts";
import { onStopSignals } from "./signals.ts";
import { cameraAsFlags, sceneRequest } from "./camera_args.ts";
import { asUsage } from "./scene_args.ts";

/** `octane render`: renders a scene locally and writes the image, HDR and report files asked for. */
export async function renderCommand(args: string[]): Promise<number> {
  const parsed = parseFlags(args, RENDER);
  if (parsed.help) return printHelp(RENDER);
  const { values, positionals, given } = parsed;
  const { spp, seed, "max-depth": maxDepth } = values;
  const timeLimit = values["time-limit"];
  const files = await outputFiles(values);
  const aovs = wantsAovs(files);

  const sceneName = positionals[0] ?? "cornell";
  const { data, camera } = await asUsage(openScene(await sceneRequest(sceneName, values, given)));
  const { width, height } = imageSize(
    values,
    { width: given.has("width"), height: given.has("height") },
    cameraAspect(data),
  );
  const gpu = await openGpu();
  fitImage(width, height, { gpu, role: "render", aovs });
  const denoiser = await denoiserFor(files, gpu, { aux: aovs });
  const status = new StatusLine();
  const quiet = values.quiet;
  if (!quiet) {
    status.done(
      `Rendering ${sceneName} (${data.stats.triangles} triangles) at ${width}x${height}, ${spp} spp on ${gpu.summary.name}${
        gpu.summary.software ? " (software)" : ""
      }; camera ${cameraAsFlags(camera)}`,
    );
  }
  const abort = new AbortController();
  const removeSignals = onStopSignals(() => abort.abort());
  let result;
  try {
    result = await renderLocal(gpu, data, {
      spp,
      width,
      height,
      seed,
      maxDepth,
      aovs,
      timeLimit,
      signal: abort.signal,
      onProgress: quiet ? undefined : (p) => {
        const eta = (p.elapsedMs / 1000) * (p.samplesTarget - p.samplesDone) / p.samplesDone;
        status.update(
          `${p.samplesDone}/${p.samplesTarget} spp  ${formatRate(p.samplesPerSecond)}samples/s  ${
            formatRate(p.rays / (p.elapsedMs / 1000))
          }rays/s  elapsed ${formatDuration(p.elapsedMs / 1000)}  ETA ${formatDuration(eta)}`,
        );
      },
    });
  } finally {
    removeSignals();
  }
  const image = meanImage(result.sums, result.samples, width, height);
  const seconds = result.elapsedMs / 1000;
  const pixelSamples = result.samples * width * height;
  const aovImages = result.aovs ? aovMeans(result.aovs, result.samples, width, height) : undefined;
  const { denoised } = await writeOutputs(
    files,
    image,
    () => ({
      version: VERSION,
      scene: sceneName,
      sceneHash: renderDataHash(data),
      width,
      height,
      seed,
      sppTarget: spp,
      samplesPerPixel: result.samples,
      wallSeconds: seconds,
      setupSeconds: result.setupMs / 1000,
      samplesPerSecond: pixelSamples / seconds,
      raysPerSecond: result.rays / seconds,
      interrupted: abort.signal.aborted,
      nodes: [{
        role: "local",
        host: hostname(),
        gpus: [result.gpu],
        samples: pixelSamples,
        samplesPerPixel: result.samples,
      }],
    }),
    aovImages,
    denoiser,
  );
  await denoiser?.close();
  const why = abort.signal.aborted ? " (interrupted)" : result.samples < spp ? " (time limit)" : "";
  status.done(
    `Rendered ${result.samples} spp${why} in ${seconds.toFixed(2)} s: ${
      formatRate(pixelSamples / seconds)
    }samples/s, ${formatRate(result.rays / seconds)}rays/s${denoised ? `, ${denoised}` : ""} -> ${
      [...writtenFiles(files), ...(files.aov ? [files.aov] : [])].join(", ")
    }`,
  );
  return 0;
}
