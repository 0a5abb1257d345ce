/**
 * Live view figures, on loopback, master rendering alone on its GPU:
 * - the live view's cost to render throughput: samples/s of `octane master --no-ui` against a master with
 *   the live view and a client that does what an open page does (the event stream, the image whenever
 *   samples arrived at most once a second, the log every second), as a ratio, runs alternated;
 * - the image encode itself (on the master's thread, at most once a second per render), per image size;
 * - camera change to refreshed image: from POST /api/camera to the first image of the new camera with
 *   samples in it, as the page gets it (events four times a second, then the image), at --size.
 * Prints figures; asserts nothing. Options: --size N (image side, 256), --spp N (per throughput run),
 * --pairs N (alternated runs of each), --moves N (camera changes timed), --json FILE.
 * @module
 */
import { parseArgs } from "node:util";
import { previewPng } from "../mod/live/mod.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    size: { type: "string", default: "256" },
    spp: { type: "string", default: "256" },
    pairs: { type: "string", default: "2" },
    moves: { type: "string", default: "5" },
    json: { type: "string" },
  },
  strict: true,
});
const root = new URL("..", import.meta.url).pathname;
const size = String(values.size), spp = String(values.spp);
const dir = await Deno.makeTempDir({ prefix: "octane-livebench-" });
let port = 38000 + Math.floor(Math.random() * 500) * 2;

/** Starts a master rendering the Cornell box alone; resolves with the process and its live view URL. */
async function startMaster(ui: boolean, samples: string, report: string) {
  const child = new Deno.Command(`${root}octane`, {
    args: [
      "master",
      "--bind",
      "127.0.0.1",
      "--port",
      String(port++),
      "--quiet",
      "--spp",
      samples,
      "--width",
      size,
      "--height",
      size,
      "-o",
      `${dir}/out.png`,
      "--report",
      report,
      ...(ui ? [] : ["--no-ui"]),
    ],
    stdout: "null",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  let url: URL | undefined;
  const out = { text: "" };
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  const pump = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      out.text += value;
    }
  })();
  while (ui && !url) {
    const m = out.text.match(/Live view: (\S+)/);
    if (m) url = new URL(m[1]!);
    else if (
      await Promise.race([
        pump.then(() => true),
        new Promise((r) => setTimeout(() => r(false), 50)),
      ])
    ) {
      throw new Error(`the master exited before its live view started:\n${out.text}`);
    }
  }
  return { child, url, out };
}

/** What an open page does: the event stream, the image at most once a second when samples came, the log. */
function pageLoad(url: URL, signal: AbortSignal): Promise<void> {
  const token = url.searchParams.get("token")!;
  const headers = { authorization: `Bearer ${token}` };
  return (async () => {
    let shown = -1, at = 0;
    const r = await fetch(new URL("/api/events", url), { headers, signal });
    const reader = r.body!.pipeThrough(new TextDecoderStream()).getReader();
    const log = setInterval(
      () => fetch(new URL("/api/log", url), { headers }).then((r) => r.body?.cancel()),
      1000,
    );
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        const m = value.match(/"spp":\{"done":([\d.e+-]+)/);
        const samples = m ? Number(m[1]) : shown;
        if (samples !== shown && performance.now() - at >= 1000) {
          shown = samples, at = performance.now();
          const image = await fetch(new URL("/api/image.png", url), { headers, signal });
          await image.arrayBuffer();
        }
      }
    } catch {
      // the master stopped
    } finally {
      clearInterval(log);
    }
  })();
}

async function throughput(ui: boolean): Promise<number> {
  const report = `${dir}/report-${ui}.json`;
  const { child, url, out } = await startMaster(ui, spp, report);
  const stop = new AbortController();
  const page = url ? pageLoad(url, stop.signal) : Promise.resolve();
  const status = await child.status;
  stop.abort();
  await page;
  if (!status.success) throw new Error(`the master failed (exit ${status.code}):\n${out.text}`);
  return JSON.parse(await Deno.readTextFile(report)).samplesPerSecond;
}

const figures: Record<string, unknown> = { size: Number(size), spp: Number(spp) };
const encodeMs: Record<string, number> = {};
for (const n of [256, 512, 1024]) {
  // noise compresses worst: an upper bound
  const film = {
    sums: new Float64Array(n * n * 3).map(() => Math.random() * 64),
    rowSamples: new Uint32Array(n).fill(64),
    width: n,
    height: n,
  };
  previewPng(film, 0);
  const t0 = performance.now();
  for (let i = 0; i < 5; i++) previewPng(film, 0.5);
  encodeMs[`${n}x${n}`] = (performance.now() - t0) / 5;
}
figures.encodeMs = encodeMs;
console.log(
  `live image encode: ${
    Object.entries(encodeMs).map(([k, ms]) => `${k} ${ms.toFixed(1)} ms`).join(", ")
  } (at most once a second per render)`,
);
const off: number[] = [], on: number[] = [];
for (let i = 0; i < Number(values.pairs); i++) {
  off.push(await throughput(false));
  on.push(await throughput(true));
}
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
figures.samplesPerSecondNoUi = off;
figures.samplesPerSecondUi = on;
figures.liveViewThroughputRatio = mean(on) / mean(off);
console.log(
  `live view cost: ${(mean(on) / 1e3).toFixed(1)} k samples/s with a page open vs ${
    (mean(off) / 1e3).toFixed(1)
  } k with --no-ui (${size}x${size}, ${spp} spp, ${off.length} runs each): ratio ${
    (mean(on) / mean(off)).toFixed(3)
  }`,
);

// camera change -> refreshed image
{
  const { child, url } = await startMaster(true, "100000", `${dir}/report-camera.json`);
  const headers = { authorization: `Bearer ${url!.searchParams.get("token")}` };
  const api = (path: string, init: RequestInit = {}) => fetch(new URL(path, url), { ...init, headers });
  const status = async () => await (await api("/api/status")).json();
  while ((await status()).spp.done === 0) await new Promise((r) => setTimeout(r, 100));
  const times: number[] = [];
  for (let i = 0; i < Number(values.moves); i++) {
    const camera = (await status()).camera;
    // orbit 10 degrees about the target's vertical
    const a = Math.PI / 18, o = camera.position.map((p: number, k: number) => p - camera.target[k]);
    camera.position = [
      camera.target[0] + o[0] * Math.cos(a) + o[2] * Math.sin(a),
      camera.position[1],
      camera.target[2] - o[0] * Math.sin(a) + o[2] * Math.cos(a),
    ];
    const t0 = performance.now();
    const r = await api("/api/camera", { method: "POST", body: JSON.stringify(camera) });
    if (!r.ok) throw new Error(`camera refused: ${await r.text()}`);
    await r.body?.cancel();
    // the page sees status events four times a second, and loads the image once samples are in
    for (;;) {
      await new Promise((r) => setTimeout(r, 250));
      const s = await status();
      if (s.spp.done > 0) break;
    }
    await (await api("/api/image.png")).arrayBuffer();
    times.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 500));
  }
  child.kill("SIGTERM");
  await child.status;
  times.sort((a, b) => a - b);
  figures.cameraToImageMs = times;
  console.log(
    `camera change to refreshed image at ${size}x${size}: median ${
      times[Math.floor(times.length / 2)]!.toFixed(0)
    } ms (min ${times[0]!.toFixed(0)}, max ${times.at(-1)!.toFixed(0)}, ${times.length} moves)`,
  );
}
await Deno.remove(dir, { recursive: true });
if (values.json) await Deno.writeTextFile(values.json, JSON.stringify(figures, null, 2) + "\n");
