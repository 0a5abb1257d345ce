import assert from "node:assert/strict";
import { Scheduler, type WorkUnit } from "./scheduler.ts";

const at = (now = 0, deadlineMs = 10_000) => ({ now, deadlineMs });

/** Marks the samples of a merged unit in `seen` (width 10, spp 9). */
function mark(seen: Uint8Array, unit: WorkUnit, width: number, spp: number, sign = 1): void {
  for (let y = unit.y; y < unit.y + unit.height; y++) {
    for (let x = 0; x < width; x++) {
      for (let k = unit.start; k < unit.start + unit.count; k++) seen[(y * width + x) * spp + k]! += sign;
    }
  }
}

Deno.test("Scheduler covers every sample of every pixel exactly once, whatever is released and re-taken", () => {
  const s = new Scheduler(10, 7, 9, { maxBandPixels: 30 }); // bands of 3 rows
  const seen = new Uint8Array(10 * 7 * 9);
  let round = 0;
  while (!s.finished) {
    round++;
    const owner = round % 3 === 0 ? "flaky" : "good";
    const unit = s.take(owner, 1 + (round % 4), at());
    if (!unit) {
      s.release("flaky");
      continue;
    }
    if (owner === "flaky") continue; // never completes: released later
    assert.ok(s.complete(unit.job, "good"));
    mark(seen, unit, 10, 9);
    assert.ok(round < 10_000);
  }
  assert.ok(seen.every((v) => v === 1));
  assert.equal(s.samplesDone, s.samplesTotal);
  assert.equal(s.take("good", 4, at()), undefined);
});

Deno.test("Scheduler ignores results from a node that does not hold the job", () => {
  const s = new Scheduler(4, 4, 2);
  const unit = s.take("a", 2, at())!;
  assert.equal(s.complete(unit.job, "b"), undefined);
  assert.equal(s.release("a", { jobs: [unit.job] }), 1);
  assert.equal(s.complete(unit.job, "a"), undefined, "a released job is no longer theirs");
  const again = s.take("b", 2, at())!;
  assert.deepEqual([again.y, again.height, again.start, again.count], [
    unit.y,
    unit.height,
    unit.start,
    unit.count,
  ]);
});

Deno.test("a unit past its deadline goes to another node too; the first answer is merged, the other ignored", () => {
  const s = new Scheduler(4, 4, 2);
  const slow = s.take("slow", 2, at(0, 1000))!;
  assert.equal(s.take("slow", 2, at()), undefined, "nothing else to hand out");
  assert.deepEqual(s.overdue(999), []);
  assert.deepEqual(s.overdue(1000), [{ job: slow.job, owner: "slow" }]);
  assert.deepEqual(s.overdue(5000), [], "reported once");
  assert.equal(s.take("slow", 2, at()), undefined, "not to the node that is late with it");
  const quick = s.take("quick", 2, at())!;
  assert.equal(quick.task, slow.task);
  assert.ok(s.complete(quick.job, "quick"));
  assert.equal(s.complete(slow.job, "slow"), undefined, "the late copy is not merged");
  assert.ok(s.finished);
  assert.equal(s.samplesDone, 4 * 4 * 2);
});

Deno.test("a node's merged tasks can be reopened and rendered again by others, each sample still once", () => {
  const s = new Scheduler(10, 7, 9, { maxBandPixels: 30 });
  const seen = new Uint8Array(10 * 7 * 9);
  const merged: WorkUnit[] = [];
  for (let round = 0; !s.finished && round < 1000; round++) {
    const owner = round % 2 === 0 ? "liar" : "honest";
    const unit = s.take(owner, 2, at())!;
    assert.ok(s.complete(unit.job, owner));
    mark(seen, unit, 10, 9);
    if (owner === "liar") merged.push(unit);
  }
  assert.ok(s.finished);
  const reopened = s.reopen("liar");
  assert.equal(reopened.length, merged.length);
  for (const u of merged) mark(seen, u, 10, 9, -1); // its samples are thrown away
  assert.ok(!s.finished);
  assert.equal(s.take("liar", 2, at()), undefined, "the liar gets none of it back");
  for (let round = 0; !s.finished && round < 1000; round++) {
    const unit = s.take("honest", 2, at())!;
    assert.ok(s.complete(unit.job, "honest"));
    mark(seen, unit, 10, 9);
  }
  assert.ok(seen.every((v) => v === 1));
  assert.equal(s.samplesDone, s.samplesTotal);
});

Deno.test("a check goes to another node, merges nothing, and the render is not finished until it is answered", () => {
  const s = new Scheduler(4, 4, 2);
  const unit = s.take("a", 2, at())!;
  assert.ok(s.complete(unit.job, "a"));
  s.request(unit.task, "check", ["a"]);
  assert.ok(!s.finished && s.checking);
  assert.equal(s.take("a", 2, at()), undefined, "not to the node it checks");
  const check = s.take("b", 2, at())!;
  assert.equal(check.purpose, "check");
  assert.deepEqual([check.y, check.start, check.count], [unit.y, unit.start, unit.count]);
  const answer = s.complete(check.job, "b")!;
  assert.equal(answer.purpose, "check");
  assert.equal(s.samplesDone, 4 * 4 * 2, "a check merges nothing");
  assert.ok(s.finished);
  // a check nobody may take can be dropped
  s.request(unit.task, "decide", ["a", "b"]);
  assert.equal(s.take("b", 2, at()), undefined);
  assert.deepEqual(s.pendingChecks.map((e) => [...e]), [["a", "b"]]);
  assert.equal(s.dropChecks(), 1);
  assert.ok(s.finished);
});

Deno.test("a late check is copied to another node; the first answer settles it, and the late copy is dropped", () => {
  const s = new Scheduler(4, 4, 2);
  const unit = s.take("a", 2, at())!;
  s.complete(unit.job, "a");
  s.request(unit.task, "check", ["a"]);
  const held = s.take("holder", 2, at(0, 1000))!; // takes the check and never answers
  assert.deepEqual(s.overdue(1000), [{ job: held.job, owner: "holder" }]);
  assert.equal(s.take("holder", 2, at()), undefined, "not the late node again");
  const copy = s.take("b", 2, at())!;
  assert.equal(copy.purpose, "check");
  assert.equal(s.complete(copy.job, "b")?.purpose, "check");
  assert.ok(s.finished, "the held copy no longer keeps the render open");
  assert.equal(s.complete(held.job, "holder"), undefined);
});

Deno.test("releasing a unit's second copy while the first is overdue queues it again; a bad answer keeps its node away", () => {
  const s = new Scheduler(4, 4, 2);
  const first = s.take("a", 2, at(0, 1000))!;
  s.overdue(1000);
  const second = s.take("b", 2, at())!;
  assert.equal(second.task, first.task);
  s.release("b", { jobs: [second.job] });
  const third = s.take("c", 2, at())!;
  assert.equal(third.task, first.task, "handed out again: a is late with it and b gave it back");
  s.release("c", { jobs: [third.job], avoid: true });
  assert.equal(s.take("c", 2, at()), undefined, "not back to the node that answered it badly");
  assert.equal(s.take("d", 2, at())?.task, first.task);
});

Deno.test("a deadline is sized for the range handed out, not the taker's usual size", () => {
  const s = new Scheduler(4, 4, 8);
  const seen: number[] = [];
  const big = s.take("fast", 8, { now: 0, deadlineMs: (r) => (seen.push(r.count), r.count * 100) })!;
  s.release("fast");
  s.take("slow", 1, { now: 0, deadlineMs: (r) => (seen.push(r.count), r.count * 100) });
  assert.deepEqual(seen, [8, 8], "the slow node got the fast node's range, and a deadline for it");
  assert.deepEqual(s.overdue(799), []);
  assert.equal(s.overdue(800).length, 1);
  assert.equal(big.count, 8);
});

Deno.test("a drained scheduler hands out no new ranges, still re-hands what came back, and ends with prefixes", () => {
  const s = new Scheduler(10, 6, 100, { maxBandPixels: 30 }); // 2 bands of 3 rows
  const a = s.take("a", 5, at())!; // band 0 [0, 5)
  const b = s.take("b", 5, at())!; // band 1 [0, 5)
  assert.ok(s.complete(a.job, "a"));
  const a2 = s.take("a", 5, at())!; // band 0 [5, 10)
  s.drain();
  assert.equal(s.drained, false, "units are still out");
  assert.equal(s.take("a", 5, at()), undefined, "no new range once draining");
  assert.equal(s.release("b"), 1, "b leaves with its unit");
  const again = s.take("a", 5, at())!;
  assert.deepEqual(
    [again.y, again.start, again.count],
    [b.y, b.start, b.count],
    "what came back is rendered",
  );
  assert.ok(s.complete(again.job, "a"));
  assert.ok(s.complete(a2.job, "a"));
  assert.equal(s.drained, true);
  assert.deepEqual([...s.rowSamples()], [10, 10, 10, 5, 5, 5]);
  assert.equal(s.samplesDone, 10 * 3 * 10 + 10 * 3 * 5);
  s.request(1, "check", []);
  assert.equal(s.take("c", 5, at()), undefined, "no checks once draining");
});
