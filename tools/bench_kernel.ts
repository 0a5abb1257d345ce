/**
 * `./octane task bench:kernel`: the trace kernel's throughput on the built-in Cornell box and on the shared
 * dream apartment from octane's interior camera, rendered through the GPU renderer alone (no process start,
 * no scene load in the timing): samples/s and rays/s of the wall clock, and CPU seconds per million samples
 * (the process's user + system time). On a software adapter the CPU time is the figure to compare: it
 * holds when other work shares the cores, where the wall clock does not. Compare two versions of the
 * kernel by running this in each checkout one after the other, as ratios of the CPU figure.
 *
 * Options: --spp N (default 64), --size PX (256), --batch N (samples per render call, as a node's unit: 16),
 * --scene cornell|apartment (both), --json FILE.
 * @module
 */
import process from "node:process";
import { parseArgs } from "node:util";
import { openGpu } from "../mod/gpu/mod.ts";
import { compileScene, type RenderData } from "../mod/render_data/mod.ts";
import { GpuRenderer } from "../mod/render/gpu_renderer.ts";
import { cornellBox } from "../mod/scene/mod.ts";
import { openScene } from "../mod/session/mod.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    spp: { type: "string", default: "64" },
    size: { type: "string", default: "256" },
    batch: { type: "string", default: "16" },
    scene: { type: "string" },
    json: { type: "string" },
  },
  strict: true,
});
const spp = Number(values.spp), size = Number(values.size), batch = Number(values.batch);
if (![spp, size, batch].every((n) => Number.isInteger(n) && n > 0)) {
  console.error("bench:kernel: --spp, --size and --batch take whole numbers above 0");
  Deno.exit(2);
}

/** CPU seconds this process has used, user and system. */
function cpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

const gpu = await openGpu();
console.log(`adapter: ${gpu.summary.name}${gpu.summary.software ? " (software)" : ""}`);
console.log(
  `machine: ${Deno.build.os}/${Deno.build.arch}, ${navigator.hardwareConcurrency} logical CPUs, Deno ${Deno.version.deno}`,
);
console.log(`${size}x${size}, ${spp} spp in units of ${batch}, max depth 16`);
const scenes: [string, () => Promise<RenderData>][] = [
  ["Cornell box", () => Promise.resolve(compileScene(cornellBox()))],
  ["dream apartment", async () => {
    // compiled, and the automatic camera placed (inside, for an interior), as `render` does
    const name =
      new URL("../../shared/scenes/dream-apartment/dream-apartment.gltf", import.meta.url).pathname;
    return (await openScene({ name })).data;
  }],
];
const figures: Record<string, unknown>[] = [];
for (const [name, load] of scenes) {
  if (values.scene && !name.toLowerCase().startsWith(values.scene)) continue;
  const data = await load();
  const renderer = await GpuRenderer.create(gpu, data, { width: size, height: size, seed: 1, maxDepth: 16 });
  try {
    await renderer.render({ start: 0, count: 1 }); // warm-up: kernel compile, first dispatch sizing
    const wall0 = performance.now(), cpu0 = cpuSeconds();
    let rays = 0, done = 0;
    while (done < spp) {
      const count = Math.min(batch, spp - done);
      rays += (await renderer.render({ start: 1 + done, count })).rays;
      done += count;
    }
    const wall = (performance.now() - wall0) / 1000, cpu = cpuSeconds() - cpu0;
    const samples = size * size * spp;
    const f = {
      scene: name,
      triangles: data.stats.triangles,
      samplesPerSecond: samples / wall,
      raysPerSecond: rays / wall,
      raysPerSample: rays / samples,
      cpuSecondsPerMegasample: cpu / (samples / 1e6),
    };
    figures.push(f);
    console.log(
      `  ${name} (${data.stats.triangles} triangles): ${(f.samplesPerSecond / 1e3).toFixed(0)} ksamples/s, ${
        (f.raysPerSecond / 1e6).toFixed(2)
      } Mrays/s (${f.raysPerSample.toFixed(2)} rays a sample), ${
        f.cpuSecondsPerMegasample.toFixed(2)
      } CPU s per Msample`,
    );
  } finally {
    renderer.destroy();
  }
}
if (values.json) {
  await Deno.writeTextFile(
    values.json,
    JSON.stringify({ adapter: gpu.summary, size, spp, figures }, null, 2),
  );
}
