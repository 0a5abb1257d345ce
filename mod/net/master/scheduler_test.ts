import assert from "node:assert/strict";
import { Scheduler } from "./scheduler.ts";

Deno.test("Scheduler covers every sample of every pixel exactly once, whatever is released and re-taken", () => {
  const s = new Scheduler(10, 7, 9, { maxBandPixels: 30 }); // bands of 3 rows
  const seen = new Uint8Array(10 * 7 * 9);
  let round = 0;
  while (!s.finished) {
    round++;
    const owner = round % 3 === 0 ? "flaky" : "good";
    const unit = s.take(owner, 1 + (round % 4));
    if (!unit) {
      s.release("flaky");
      continue;
    }
    if (owner === "flaky") continue; // never completes: released later
    assert.ok(s.complete(unit.job, "good"));
    for (let y = unit.y; y < unit.y + unit.height; y++) {
      for (let x = 0; x < 10; x++) {
        for (let k = unit.start; k < unit.start + unit.count; k++) seen[(y * 10 + x) * 9 + k]!++;
      }
    }
    assert.ok(round < 10_000);
  }
  assert.ok(seen.every((v) => v === 1));
  assert.equal(s.samplesDone, s.samplesTotal);
  assert.equal(s.take("good", 4), undefined);
});

Deno.test("Scheduler ignores results from a node that does not hold the job", () => {
  const s = new Scheduler(4, 4, 2);
  const unit = s.take("a", 2)!;
  assert.equal(s.complete(unit.job, "b"), undefined);
  assert.equal(s.release("a", [unit.job]), 1);
  assert.equal(s.complete(unit.job, "a"), undefined, "a released job is no longer theirs");
  const again = s.take("b", 2)!;
  assert.deepEqual({ ...again, job: 0 }, { ...unit, job: 0 });
});
