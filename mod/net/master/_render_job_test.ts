import assert from "node:assert/strict";
import { compileScene } from "../../render_data/mod.ts";
import { cornellBox } from "../../scene/mod.ts";
import { RenderJob } from "./_render_job.ts";
import { newNode } from "./node.ts";

const settings = { spp: 1000, width: 32, height: 32, unitSeconds: 1, unitTimeout: 10, verify: 0 };

Deno.test("a node's first unit of a job is one sample per pixel, the next ones are sized to its rate", () => {
  const data = compileScene(cornellBox());
  const info = newNode("local", "host", []);
  info.rate = 32 * 32 * 50; // 50 spp a second: a restarted render would wait a whole unit for its first image
  const job = new RenderJob(data, settings, { firstJob: 1, generation: 1 });
  assert.equal(job.take("local", info)?.count, 1);
  assert.equal(job.take("local", info)?.count, 50);
  // another node, and the same node in the next job, start small again
  assert.equal(job.take("other", { ...info, id: "other" })?.count, 1);
  assert.equal(new RenderJob(data, settings, { firstJob: 10, generation: 2 }).take("local", info)?.count, 1);
});

Deno.test("with AOVs a result carries radiance then AOV sums: checked, and merged into the film's AOVs as radiance is", () => {
  const data = compileScene(cornellBox());
  const info = newNode("slave", "host", []);
  /** A fresh job's first unit for the slave, answered with values fill(i). */
  const answer = (fill: (i: number, radiance: number) => number, floats?: (n: number) => number) => {
    const job = new RenderJob(data, { ...settings, aovs: true }, { firstJob: 1, generation: 1 });
    const unit = job.take("slave", info)!;
    const n = job.floatsOf(unit);
    assert.equal(n, unit.height * 32 * 9);
    const values = new Float32Array(floats ? floats(n) : n).map((_, i) => fill(i, n / 3));
    return { job, unit, outcome: job.accept("slave", { info, job: unit.job, sums: values, seconds: 1 }) };
  };
  // an AOV value that is not finite, an albedo below 0, a normal component beyond what the samples add up to
  const bad: [string, (i: number, radiance: number) => number][] = [
    ["not finite", (i, r) => i === r + 4 ? NaN : 0.5],
    ["albedo", (i, r) => i === r + 1 ? -0.5 : 0.5],
    ["normal", (i, r) => i === r + 5 ? -5 : 0.5],
  ];
  for (const [what, fill] of bad) {
    const { outcome } = answer(fill);
    assert.equal(outcome.kind, "bad", what);
    assert.match((outcome as { reason: string }).reason, /AOV/, what);
  }
  // negative normal components are fine; the AOVs land where their pixels are
  const { job, unit, outcome } = answer((i, r) => i < r ? 1 : (i - r) % 6 < 3 ? 0.25 : -0.5);
  assert.equal(outcome.kind, "merged");
  assert.equal(job.film.aovs?.length, 32 * 32 * 6);
  const at = unit.y * 32;
  assert.deepEqual([...job.film.aovs!.subarray(at * 6, at * 6 + 6)], [0.25, 0.25, 0.25, -0.5, -0.5, -0.5]);
  assert.deepEqual([...job.film.sums.subarray(at * 3, at * 3 + 3)], [1, 1, 1]);
  // a result without its AOVs is the wrong size
  assert.equal(answer(() => 0.5, (n) => n / 3).outcome.kind, "bad");
});
