/**
 * `deno task bench`: samples/s and rays/s of the Cornell box at 512x512, of a scene of over 500k
 * triangles and of the largest real scenes in ../shared/scenes (with their import time and render-data
 * size), the adapter's name, BVH build times (those scenes and 1M random triangles), peak memory
 * (process RSS and GPU buffer bytes), and the time and memory of a 4096x2160 Cornell box at 1 spp.
 * Prints figures; asserts nothing.
 *
 * Options: --spp N (Cornell, default 32), --big-spp N (default 8), --json FILE (figures as JSON).
 * @module
 */
import { parseArgs } from "node:util";
import { openGpu } from "../mod/gpu/mod.ts";
import { buildBvh, compileScene, encodeRenderData, type RenderData } from "../mod/render_data/mod.ts";
import { renderLocal } from "../mod/render/mod.ts";
import { bumpySphereBox, cornellBox, loadScene, randomTriangles } from "../mod/scene/mod.ts";
import { formatRate } from "../mod/status/mod.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    spp: { type: "string", default: "32" },
    "big-spp": { type: "string", default: "8" },
    json: { type: "string" },
  },
  strict: true,
});

/** Peak resident set size in bytes (VmHWM on Linux, else the current RSS). */
function peakRss(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(Deno.readTextFileSync("/proc/self/status"));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // not Linux
  }
  return Deno.memoryUsage().rss;
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
const figures: Record<string, unknown> = {};
const gpu = await openGpu();
figures.adapter = gpu.summary;
console.log(`adapter: ${gpu.summary.name}${gpu.summary.software ? " (software)" : ""}`);
console.log(
  `machine: ${Deno.build.os}/${Deno.build.arch}, ${navigator.hardwareConcurrency} logical CPUs, Deno ${Deno.version.deno}`,
);

let gpuPeak = 0;
async function measure(name: string, data: RenderData, spp: number) {
  const width = 512, height = 512;
  await renderLocal(gpu, data, { spp: 1, width, height }); // warm-up: kernel compile, first upload
  const r = await renderLocal(gpu, data, { spp, width, height, seed: 1 });
  const seconds = r.elapsedMs / 1000;
  const samplesPerSecond = r.samples * width * height / seconds;
  const raysPerSecond = r.rays / seconds;
  gpuPeak = Math.max(gpuPeak, r.gpuBufferBytes);
  figures[name] = {
    triangles: data.stats.triangles,
    bvhNodes: data.stats.nodes,
    spp: r.samples,
    seconds,
    samplesPerSecond,
    raysPerSecond,
    gpuBufferBytes: r.gpuBufferBytes,
  };
  console.log(
    `${name}: ${data.stats.triangles} triangles, 512x512 x ${r.samples} spp in ${seconds.toFixed(2)} s: ${
      formatRate(samplesPerSecond)
    }samples/s, ${formatRate(raysPerSecond)}rays/s, ${
      (r.rays / (r.samples * width * height)).toFixed(2)
    } rays/sample, GPU buffers ${mib(r.gpuBufferBytes)}`,
  );
}

const cornell = compileScene(cornellBox());
await measure("cornell", cornell, Number(values.spp));

let t0 = performance.now();
const bigScene = bumpySphereBox(520_000);
const generateMs = performance.now() - t0;
t0 = performance.now();
const big = compileScene(bigScene);
const compileMs = performance.now() - t0;
figures.bigCompile = { generateMs, compileMs, bvhMs: big.stats.bvhMs };
console.log(
  `big scene: generated in ${generateMs.toFixed(0)} ms, compiled in ${compileMs.toFixed(0)} ms (BVH ${
    big.stats.bvhMs.toFixed(0)
  } ms, ${big.stats.nodes} nodes)`,
);
await measure("big", big, Number(values["big-spp"]));

// the largest real scenes of ../shared/scenes: by triangles (an apartment) and by texture data (a bottle)
const shared = new URL("../../shared/scenes/", import.meta.url).pathname;
const largest = [["apartment", "dream-apartment/dream-apartment.gltf"], [
  "bottle",
  "water-bottle/WaterBottle.gltf",
]] as const;
for (const [name, file] of largest) {
  try {
    await Deno.stat(`${shared}${file}`);
  } catch {
    console.log(`${name}: skipped, ${shared}${file} not found`);
    continue;
  }
  t0 = performance.now();
  const scene = await loadScene(`${shared}${file}`);
  const importMs = performance.now() - t0;
  t0 = performance.now();
  const data = compileScene(scene);
  const compileMs = performance.now() - t0;
  const bytes = encodeRenderData(data).length;
  figures[`${name}Import`] = {
    file,
    importMs,
    compileMs,
    bvhMs: data.stats.bvhMs,
    renderDataBytes: bytes,
    textures: scene.textures.length,
  };
  console.log(
    `${name} (${file}): import ${importMs.toFixed(0)} ms, compile ${compileMs.toFixed(0)} ms (BVH ${
      data.stats.bvhMs.toFixed(0)
    } ms), render data ${mib(bytes)}, ${scene.textures.length} textures`,
  );
  await measure(name, data, Number(values["big-spp"]));
}

const soup = randomTriangles(1_000_000, 1);
t0 = performance.now();
const bvh = buildBvh(soup);
const bvh1mMs = performance.now() - t0;
figures.bvh1M = { ms: bvh1mMs, nodes: bvh.nodeCount };
console.log(
  `BVH build, 1M random triangles: ${bvh1mMs.toFixed(0)} ms (${
    formatRate(1e6 / (bvh1mMs / 1000))
  }triangles/s, ${bvh.nodeCount} nodes)`,
);

figures.peakRssBytes = peakRss();
figures.peakGpuBufferBytes = gpuPeak;
console.log(`peak memory: process RSS ${mib(peakRss())}, GPU buffers ${mib(gpuPeak)}`);

// 4K: more accumulator than llvmpipe binds at once, so it renders in bands; measured last, as it may set
// the process's peak
const uhd = await renderLocal(gpu, compileScene(cornellBox()), {
  spp: 1,
  width: 4096,
  height: 2160,
  seed: 1,
});
figures.cornell4K = {
  seconds: uhd.elapsedMs / 1000,
  gpuBufferBytes: uhd.gpuBufferBytes,
  peakRssBytes: peakRss(),
};
console.log(
  `Cornell 4096x2160, 1 spp: ${(uhd.elapsedMs / 1000).toFixed(1)} s, GPU buffers ${
    mib(uhd.gpuBufferBytes)
  }, process peak RSS now ${mib(peakRss())}`,
);
if (values.json) await Deno.writeTextFile(values.json, JSON.stringify(figures, null, 2) + "\n");
gpu.device.destroy();
