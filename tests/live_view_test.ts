/**
 * The master's live view in a real browser: tests/_live_view_browser.ts (Chromium through playwright-core,
 * a master with two daemons' slaves on loopback) in a Deno of its own with --allow-all, which
 * playwright-core needs. Fails with one line when Chromium is missing; never skips.
 */
import assert from "node:assert/strict";

/** Seconds the whole check may take (processes, browser and all). */
const LIMIT_SECONDS = 420;

/** Chromium's executable: $OCTANE_CHROMIUM, else chromium or chromium-browser on PATH; undefined if none. */
function chromiumPath(): string | undefined {
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
  return undefined;
}

Deno.test("live view in Chromium: nodes, converging image, token, camera drag, daemon switch, stop", async () => {
  if (!chromiumPath()) {
    throw new Error(
      "Chromium is missing: run install/setup.sh (it installs the Debian package chromium), or set OCTANE_CHROMIUM",
    );
  }
  const root = new URL("..", import.meta.url).pathname;
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--allow-all",
      "--config",
      `${root}deno.json`,
      `${root}tests/_live_view_browser.ts`,
    ],
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), LIMIT_SECONDS * 1000);
  const { code, stdout, stderr } = await child.output();
  clearTimeout(timer);
  const out = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
  assert.equal(code, 0, `the live view check failed (exit ${code}):\n${out}`);
  const figure = out.match(/live view: drag to a refreshed image in \d+ ms[^\n]*/);
  if (figure) console.log(figure[0]);
});
