import assert from "node:assert/strict";
import { Phases, TRANSITIONS } from "./_phase.ts";

Deno.test("a render: waiting for slaves, rendering, handed over, closed", () => {
  const p = new Phases("waiting");
  assert.equal(p.workGoesOut, false);
  p.to("rendering");
  assert.ok(p.workGoesOut);
  assert.equal(p.handedOver, false);
  p.handOver();
  assert.equal(p.name, "finished");
  assert.ok(p.handedOver);
  p.to("closed");
  assert.equal(p.workGoesOut, false);
  assert.throws(() => p.to("rendering"), /Cannot move the master from closed to rendering/);
});

Deno.test("--watch and restarts: each new render is the next generation, and a finished master renders again", () => {
  const p = new Phases("rendering");
  assert.equal(p.generation, 1);
  assert.equal(p.begin(), 2, "a restart while rendering");
  assert.equal(p.name, "rendering");
  p.handOver();
  assert.equal(p.name, "finished");
  assert.equal(p.begin(), 3, "an update while finished");
  assert.equal(p.name, "rendering");
  assert.equal(p.handedOver, false, "the new generation is not handed over yet");
});

Deno.test("stopping: from any live phase, once; then nothing new begins, and the wait for slaves stays as it was", () => {
  const waiting = new Phases("waiting");
  waiting.to("stopping");
  assert.ok(waiting.stoppedAt !== undefined);
  assert.equal(waiting.workGoesOut, false, "stopped before the wait was over: no work goes out");
  assert.equal(waiting.canBegin, false);
  assert.throws(() => waiting.begin(), RangeError);
  assert.throws(() => waiting.to("stopping"), RangeError);
  const rendering = new Phases("rendering");
  rendering.to("stopping");
  assert.ok(rendering.workGoesOut, "units given back still go out while stopping");
  rendering.handOver();
  assert.equal(rendering.name, "stopping", "handed over while stopping: it closes next");
  const finished = new Phases("rendering");
  finished.handOver();
  finished.to("stopping");
  assert.ok(finished.handedOver, "a finished render is not handed over twice");
});

Deno.test("the transitions table: closed is final, and every phase can close", () => {
  assert.deepEqual(TRANSITIONS.closed, []);
  for (const [from, next] of Object.entries(TRANSITIONS)) {
    if (from !== "closed") assert.ok(next.includes("closed"), from);
  }
});
