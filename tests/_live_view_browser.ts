/**
 * Run by tests/live_view_test.ts with --allow-all (playwright-core reads /proc at import, which Deno
 * allows only with all permissions). The master's live view in a real browser (Chromium through
 * playwright-core): a master on 127.0.0.1 with two daemons on 127.0.22.2 and 127.0.22.3 whose slaves join it.
 * The API without a browser is tested in mod/live/server_test.ts. Screenshots at desktop and phone width go
 * to out/live_view/ (git-ignored) for a person to look at. Every wait has a deadline; every process and
 * the browser are stopped at the end.
 */
import assert from "node:assert/strict";
import { chromium, type Page } from "playwright-core";
import { decodePng } from "../mod/render/mod.ts";
import { NETS, outputsIn, processes, startDaemons, startMaster, until, withDir } from "./_harness.ts";

const root = new URL("..", import.meta.url).pathname;
const shots = `${root}out/live_view`;
/** The two daemons' addresses: this file's own /24 (see NETS), which the master scans. */
const [A, B] = [2, 3].map((n) => `${NETS.liveView}.${n}`) as [string, string];

/** Chromium's executable : $OCTANE_CHROMIUM, else chromium or chromium-browser on PATH. */
function findChromium(): string {
  const named = Deno.env.get("OCTANE_CHROMIUM");
  if (named) return named;
  for (const name of ["chromium", "chromium-browser"]) {
    for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
      try {
        if (Deno.statSync(`${dir}/${name}`).isFile) return `${dir}/${name}`;
      } catch {
        // not there
      }
    }
  }
  throw new Error(
    "Chromium is missing: the live view test needs it (run install/setup.sh, or apt-get install chromium, or set OCTANE_CHROMIUM)",
  );
}

/** Run in the page: a digest of the image element's pixels (drawn to a canvas); null before any sample. */
const PIXELS = `(() => {
  const img = document.getElementById("image");
  if (!img.complete || img.naturalWidth === 0) return null;
  const canvas = document.createElement("canvas");
  canvas.width = img.naturalWidth, canvas.height = img.naturalHeight;
  const g = canvas.getContext("2d");
  g.drawImage(img, 0, 0);
  const data = g.getImageData(0, 0, canvas.width, canvas.height).data;
  let h = 0, sum = 0;
  for (let i = 0; i < data.length; i++) h = (h * 31 + data[i]) | 0, sum += data[i];
  return sum > 0 ? String(h) : null;
})()`;

/** A digest of the image element's pixels, or undefined before it shows any sample. */
async function pixels(page: Page): Promise<string | undefined> {
  return (await page.evaluate(PIXELS) as string | null) ?? undefined;
}

async function status(url: URL): Promise<Record<string, unknown> & { nodes: { state: string }[] }> {
  const r = await fetch(new URL("/api/status", url), {
    headers: { authorization: `Bearer ${url.searchParams.get("token")}` },
  });
  assert.equal(r.status, 200);
  return await r.json();
}

/** POSTs to the API; resolves with the status it answers. */
async function send(url: URL, path: string, body?: unknown) {
  const r = await fetch(new URL(`${path}?token=${url.searchParams.get("token")}`, url.origin), {
    method: "POST",
    body: body === undefined ? "" : JSON.stringify(body),
  });
  assert.equal(r.status, 200, `${path}: ${r.status}`);
  return await r.json();
}

/** Mean of a PNG's bytes from the API at an exposure. */
async function brightness(url: URL, exposure: string): Promise<number> {
  const token = url.searchParams.get("token");
  const r = await fetch(new URL(`/api/image.png?exposure=${exposure}&token=${token}`, url.origin));
  assert.equal(r.status, exposure === "x" ? 400 : 200);
  if (exposure === "x") return assert.match(await r.text(), /^Invalid exposure "x": [^\n]+\n$/), 0;
  const { rgb } = decodePng(new Uint8Array(await r.arrayBuffer()));
  return rgb.reduce((a, b) => a + b, 0) / rgb.length;
}

/** Pause stops the samples and resume brings them back; restart sets a new target; exposure brightens. */
async function controls(url: URL): Promise<void> {
  await until(
    "samples",
    60_000,
    async () => ((await status(url)).spp as { done: number }).done > 0 || undefined,
  );
  assert.equal((await send(url, "/api/pause")).state, "paused");
  const done = () => status(url).then((s) => (s.spp as { done: number }).done);
  // the units in flight are still merged; then nothing more comes
  await until("the samples to stop while paused", 20_000, async () => {
    const a = await done();
    await new Promise((r) => setTimeout(r, 1500));
    return (await done()) === a ? true : undefined;
  });
  const paused = await done();
  assert.equal((await send(url, "/api/resume")).state !== "paused", true);
  await until("samples again after resume", 20_000, async () => (await done()) > paused || undefined);
  const restarted = await send(url, "/api/restart", { spp: 200000 });
  assert.equal(restarted.spp.target, 200000);
  await until("samples of the restarted render", 20_000, async () => (await done()) > 0 || undefined);
  assert.ok((await brightness(url, "3")) > (await brightness(url, "-3")), "exposure +3 is brighter than -3");
  await brightness(url, "x");
}

/** Runs the whole live view check; throws on the first thing that is wrong. */
export async function checkLiveView(): Promise<void> {
  const executablePath = findChromium();
  await Deno.mkdir(shots, { recursive: true });
  await withDir((dir) =>
    processes(async (start) => {
      const { port: daemonPort, daemons } = await startDaemons(start, { addresses: [A, B] });
      const master = await startMaster(start, {
        args: [
          "--spp",
          "100000",
          "--width",
          "64",
          "--height",
          "48",
          "--subnet",
          `${NETS.liveView}.0/29`,
          "--daemon-port",
          String(daemonPort),
          "--scan-interval",
          "1",
          "--ui",
          "127.0.0.1:0",
          ...outputsIn(dir),
        ],
      });
      const url = new URL(
        (await master.waitFor(/Live view: (http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]+)/))[1]!,
      );

      // no token, a wrong one, a wrong scheme: 401 and nothing else
      for (
        const init of [{}, { headers: { authorization: "Bearer 0123" } }, {
          headers: { authorization: "x" },
        }]
      ) {
        const r = await fetch(new URL("/api/status", url.origin), init);
        assert.equal(r.status, 401);
        assert.equal(await r.text(), "");
      }
      const bad = await fetch(
        new URL(`/api/image.png?token=${url.searchParams.get("token")}x`, url.origin),
      );
      assert.equal(bad.status, 401);
      await bad.body?.cancel();
      // malformed bodies and insane cameras: 400 with one line, and the render goes on
      const token = url.searchParams.get("token")!;
      for (
        const body of [
          "{not json",
          "[1]",
          '{"position":[0,0,0],"target":[0,0,0],"up":[0,1,0],"fov":40}',
          '{"position":[0,0,0],"target":[0,0,1],"up":[0,1,0],"fov":180}',
          '{"position":[0,0,null],"target":[0,0,1],"up":[0,1,0],"fov":40}',
        ]
      ) {
        const r = await fetch(new URL(`/api/camera?token=${token}`, url.origin), { method: "POST", body });
        assert.equal(r.status, 400, body);
        assert.match(await r.text(), /^[^\n]+\n$/);
      }

      await controls(url);

      const browser = await chromium.launch({ executablePath, args: ["--no-sandbox"], timeout: 60_000 });
      try {
        const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
        await page.goto(url.href);
        // three nodes: the master's GPU and the slaves of both daemons, each with its GPU's name
        await until("three nodes with GPU names on the page", 120_000, async () => {
          const rows = await page.locator("#nodes tbody tr").allTextContents();
          const rendering = rows.filter((r) => /llvmpipe|lavapipe|GPU|\w/.test(r) && !/left/.test(r));
          const gpus = await page.locator("#nodes tbody td.gpus").allTextContents();
          return rendering.length === 3 && gpus.every((g) => g.trim().length > 0) ? true : undefined;
        });
        const gpuNames = await page.locator("#nodes tbody td.gpus").allTextContents();
        const expected = (await status(url)).nodes.map((n) =>
          (n as unknown as { gpus: string[] }).gpus.join(", ")
        );
        assert.deepEqual(gpuNames, expected);

        // the image element's pixels change as samples arrive
        const first = await until("an image with samples", 60_000, () => pixels(page));
        await until("the image to change as samples arrive", 60_000, async () => {
          const now = await pixels(page);
          return now !== undefined && now !== first ? true : undefined;
        });

        // a drag orbits the camera; the slaves are sent the camera section only; the image changes
        const before = JSON.stringify((await status(url)).camera);
        const mark = master.out.length;
        const box = (await page.locator("#viewport").boundingBox())!;
        const t0 = performance.now();
        await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
        await page.mouse.down();
        await page.mouse.move(box.x + box.width / 2 + 80, box.y + box.height / 2 + 10, { steps: 4 });
        await page.mouse.up();
        const moved = await until("the camera to move", 10_000, async () => {
          const c = JSON.stringify((await status(url)).camera);
          return c !== before ? c : undefined;
        });
        assert.notEqual(moved, before);
        const afterDrag = await pixels(page);
        await until("the image to show the new camera", 30_000, async () => {
          const now = await pixels(page);
          return now !== undefined && now !== afterDrag ? true : undefined;
        });
        const refreshMs = performance.now() - t0;
        await until("both slaves to be sent the camera section", 30_000, () => {
          const sent = master.out.slice(mark).match(/Sending \d+ of \d+ render-data sections \([^)]*\)/g) ??
            [];
          return sent.length >= 2 ? sent : undefined;
        });
        const sent = master.out.slice(mark).match(/Sending \d+ of \d+ render-data sections \(([^)]*)\)/g)!;
        for (const line of sent) {
          assert.match(line, /Sending 1 of \d+ render-data sections \(camera, \d+ bytes[^)]*\)/, line);
        }
        console.log(
          `live view: drag to a refreshed image in ${
            refreshMs.toFixed(0)
          } ms (64x48, with the test's polling)`,
        );

        // "Save camera" gives a file render accepts with --camera-file
        const saved = await fetch(
          new URL(await page.locator("#save-camera").getAttribute("href") ?? "", url),
        );
        assert.match(saved.headers.get("content-disposition") ?? "", /attachment; filename="camera\.json"/);
        await Deno.writeTextFile(`${dir}/camera.json`, await saved.text());
        const render = start([
          "render",
          "--quiet",
          "--spp",
          "1",
          "--width",
          "8",
          "--height",
          "6",
          "--camera-file",
          `${dir}/camera.json`,
          "-o",
          `${dir}/saved.png`,
        ]);
        assert.equal(await render.exit(), 0, render.out);

        // "Frame scene" looks at the centre of the scene's bounds
        const unframed = await pixels(page);
        await page.locator("#frame").click();
        await until("the camera to look at the scene's centre", 10_000, async () => {
          const s = await status(url) as unknown as {
            camera: { target: number[] };
            bounds: { min: number[]; max: number[] };
          };
          const centre = s.bounds.min.map((m, i) => (m + s.bounds.max[i]!) / 2);
          return centre.every((c, i) => Math.abs(c - s.camera.target[i]!) < 1e-3 * (1 + Math.abs(c))) ||
            undefined;
        });

        const framed = JSON.stringify((await status(url)).camera);
        await until("the framed image with 8 spp", 30_000, async () => {
          const shown = await page.evaluate(`[document.getElementById("image").dataset.spp,
            document.getElementById("image").dataset.camera]`) as [string, string];
          const camera = JSON.parse(framed);
          const same = shown[1] === JSON.stringify([camera.position, camera.target, camera.up, camera.fov]);
          return same && Number(shown[0]) >= 8 && (await pixels(page)) !== unframed ? true : undefined;
        });
        await page.screenshot({ path: `${shots}/desktop.png` });
        await page.setViewportSize({ width: 390, height: 844 });
        await page.screenshot({ path: `${shots}/phone.png`, fullPage: true });
        await page.setViewportSize({ width: 1280, height: 900 });

        // a daemon switch turned off stops that daemon's slave; turned on starts it again
        const switched = page.locator(`#daemons input[data-address="${A}"]`);
        assert.equal(await switched.isChecked(), true);
        const off = daemons[0]!.out.length;
        await switched.click();
        await daemons[0]!.waitFor(/Slave \d+ (stopped|exited)/, 30_000, off);
        await until("the page to list the daemon as disabled", 30_000, async () => {
          const row = await page.locator("#daemons tbody tr", { hasText: A }).textContent();
          return row?.includes("disabled") ? true : undefined;
        });
        const on = daemons[0]!.out.length;
        await page.locator(`#daemons input[data-address="${A}"]`).click();
        await daemons[0]!.waitFor(/Started slave \d+ for master/, 60_000, on);
        await until("three rendering nodes again", 90_000, async () => {
          const nodes = (await status(url)).nodes.filter((n) => n.state !== "left");
          return nodes.length === 3 ? true : undefined;
        });

        // stop and write from the page's API (twice: a second stop is not a second Ctrl-C that quits without
        // writing); the page says the master stopped
        for (let i = 0; i < 2; i++) {
          const stop = await fetch(new URL(`/api/stop?token=${token}`, url.origin), { method: "POST" });
          assert.equal(stop.status, 200);
          await stop.body?.cancel();
        }
        assert.equal(await master.exit(60_000), 0, master.out);
        await until("the page to say the master stopped", 20_000, async () => {
          const text = await page.locator("#banner").textContent();
          return text?.includes("stopped") ? true : undefined;
        });
        assert.ok((await Deno.stat(`${dir}/net.png`)).size > 0);
      } catch (error: unknown) {
        throw new Error(`${error instanceof Error ? error.message : error}\nmaster output:\n${master.out}`);
      } finally {
        await browser.close();
      }
    })
  );
}

if (import.meta.main) {
  try {
    await checkLiveView();
    console.log("live view check passed");
    Deno.exit(0);
  } catch (error: unknown) {
    console.error(error instanceof Error ? error.stack ?? error.message : String(error));
    Deno.exit(1);
  }
}
