import { hostname } from "node:os";
import { openGpu } from "../gpu/mod.ts";
import { cameraAspect, loadRenderData, renderDataHash } from "../render_data/mod.ts";
import { meanImage, renderLocal } from "../render/mod.ts";
import { formatDuration, formatRate, StatusLine } from "../status/mod.ts";
import { VERSION } from "../version.ts";
import { numberFlag, parseFlags } from "./args.ts";
import { imageSettings, imageSize, outputFiles, writeOutputs } from "./image_args.ts";
import { asUsage, sceneOptions } from "./scene_args.ts";

const HELP = `Usage: octane render [SCENE] [options]

Path-traces SCENE on this machine's GPU: a built-in name (default "cornell"), a glTF 2.0 (.gltf, .glb)
or OBJ (.obj with .mtl) file, or compiled render data (.ocrd, from "octane compile"). Scene files without
a camera are seen from a raised three-quarter view (30° around from the front, 20° up) that frames the
whole model; scenes without lights get a uniform white environment.

Options:
  --spp N             samples per pixel (default 64)
  --width W           image width in pixels (default 512, or from the glTF camera's aspect ratio)
  --height H          image height in pixels (default 512, or from the glTF camera's aspect ratio)
  -o, --output FILE   PNG to write (default render.png)
  --hdr FILE          also write linear HDR radiance (.exr: 32-bit float OpenEXR, or .pfm)
  --seed S            random seed (default 1); the same seed and spp give the same image
  --max-depth N       longest path in bounces (default 16)
  --camera NAME       glTF: render through the camera of this name (default: the first); its aspect
                      ratio sets the side not given (the longer side is 512 when neither is)
  --env FILE.hdr      light the scene with an equirectangular Radiance map (+Y up), importance sampled
  --env-intensity X   multiply the environment (map or colour) by X
  --time-limit SEC    stop after about SEC seconds with the samples done so far
  --report FILE       write a JSON report (version, scene hash, timings, per-node samples)
  --quiet             no progress line
  --debug             verbose logs and stack traces

Ctrl-C stops after the batch in flight and writes what has been rendered.`;

/** `octane render`: renders a scene locally and writes the image, HDR and report files asked for. */
export async function renderCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, {
    command: "render",
    maxPositionals: 1,
    options: {
      spp: { type: "string" },
      width: { type: "string" },
      height: { type: "string" },
      output: { type: "string", short: "o" },
      hdr: { type: "string" },
      seed: { type: "string" },
      "max-depth": { type: "string" },
      camera: { type: "string" },
      env: { type: "string" },
      "env-intensity": { type: "string" },
      "time-limit": { type: "string" },
      report: { type: "string" },
      quiet: { type: "boolean" },
      debug: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const { spp, seed, maxDepth } = imageSettings(values);
  const timeLimit = numberFlag(values["time-limit"], "time-limit");
  const files = await outputFiles(values);
  const { output, hdr, report } = files;

  const sceneName = positionals[0] ?? "cornell";
  const data = await asUsage(loadRenderData(sceneName, sceneOptions(values)));
  const { width, height } = imageSize(values, cameraAspect(data));
  const gpu = await openGpu();
  const status = new StatusLine();
  const quiet = values.quiet === true;
  if (!quiet) {
    status.done(
      `Rendering ${sceneName} (${data.stats.triangles} triangles) at ${width}x${height}, ${spp} spp on ${gpu.summary.name}${
        gpu.summary.software ? " (software)" : ""
      }`,
    );
  }
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  Deno.addSignalListener("SIGINT", onSignal);
  let result;
  try {
    result = await renderLocal(gpu, data, {
      spp,
      width,
      height,
      seed,
      maxDepth,
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
    Deno.removeSignalListener("SIGINT", onSignal);
  }
  const image = meanImage(result.sums, result.samples, width, height);
  const seconds = result.elapsedMs / 1000;
  const pixelSamples = result.samples * width * height;
  await writeOutputs(files, image, () => ({
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
  }));
  const why = abort.signal.aborted ? " (interrupted)" : result.samples < spp ? " (time limit)" : "";
  status.done(
    `Rendered ${result.samples} spp${why} in ${seconds.toFixed(2)} s: ${
      formatRate(pixelSamples / seconds)
    }samples/s, ${formatRate(result.rays / seconds)}rays/s -> ${
      [output, hdr, report].filter(Boolean).join(", ")
    }`,
  );
  return 0;
}

export { HELP as RENDER_HELP };
