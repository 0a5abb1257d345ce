import assert from "node:assert/strict";
import { Film } from "./_film.ts";
import { agree, LOCAL, Verifier } from "./_verify.ts";

const noise = (seed: number, n = 300) => {
  let s = seed;
  return Float32Array.from({ length: n }, () => (s = (s * 16807) % 2147483647) / 2147483647);
};

Deno.test("two renders of one unit agree to GPU rounding, and not when the samples differ", () => {
  const a = noise(1);
  assert.ok(agree(a, a.slice()));
  const rounded = a.map((v, i) => (i % 150 === 0 ? v * 1.5 : v * (1 + 1e-5))); // a few paths differ
  assert.ok(agree(a, rounded));
  assert.ok(!agree(a, noise(2)), "another seed");
  assert.ok(!agree(a, a.map((v) => v * 1.01)), "1 % brighter");
  assert.ok(!agree(a, a.subarray(1)), "another size");
});

Deno.test("a check answered alike settles; against the trusted local GPU a disagreement convicts at once", () => {
  const v = new Verifier(1);
  const honest = noise(1), lie = noise(2);
  assert.deepEqual(v.merged(1, "slave-a", honest), { task: 1, purpose: "check", exclude: ["slave-a"] });
  assert.deepEqual(v.answered(1, "slave-b", honest.slice()).verdict, { kind: "agreed" });
  assert.equal(v.merged(2, LOCAL, honest), undefined, "the local GPU is not checked");
  v.merged(3, "liar", lie);
  assert.deepEqual(v.answered(3, LOCAL, honest).verdict, { kind: "liars", nodes: ["liar"] });
  assert.deepEqual(v.stats, { fraction: 1, checks: 2, disagreements: 1, liars: ["liar"] });
  assert.deepEqual(v.answered(3, "late", honest).verdict, { kind: "moot" }, "settled already");
});

Deno.test("between two slaves that disagree, a third render decides who lied", () => {
  const v = new Verifier(1);
  const honest = noise(1), lie = noise(2);
  v.merged(7, "liar", lie);
  const second = v.answered(7, "slave-b", honest);
  assert.equal(second.verdict.kind, "pending");
  assert.deepEqual(second.next, { task: 7, purpose: "decide", exclude: ["liar", "slave-b"] });
  assert.deepEqual(v.answered(7, "slave-c", honest.slice()).verdict, { kind: "liars", nodes: ["liar"] });
  // the merged one honest and the checker lying: the checker is the liar
  v.merged(8, "slave-a", honest);
  v.answered(8, "liar", lie);
  assert.deepEqual(v.answered(8, "slave-c", honest).verdict, { kind: "liars", nodes: ["liar"] });
  // a third that agrees with neither asks a fourth
  v.merged(9, "x", noise(3));
  v.answered(9, "y", noise(4));
  const third = v.answered(9, "z", noise(5));
  assert.equal(third.verdict.kind, "pending");
  assert.deepEqual(third.next?.exclude, ["x", "y", "z"]);
});

Deno.test("taking a node's part out of the film leaves exactly the others', even after a huge value", () => {
  const film = new Film(2, { perNode: true });
  film.add("a", 0, new Float32Array([1, 2, 3, 4, 5, 6]));
  film.add("liar", 0, new Float32Array([1e30, 0, 0, 0, 0, 0]));
  film.add("b", 3, new Float32Array([0.5, 0.5, 0.5]));
  assert.ok(film.remove("liar"));
  assert.deepEqual([...film.sums], [1, 2, 3, 4.5, 5.5, 6.5]);
  assert.ok(!new Film(2, { perNode: false }).remove("a"), "without per-node parts nothing can be taken out");
});

Deno.test("taking a node's part out of a film with AOVs takes its AOVs out too", () => {
  const film = new Film(1, { perNode: true, aovs: true });
  film.add("a", 0, new Float32Array([1, 2, 3]), new Float32Array([0.5, 0.5, 0.5, 0, 1, 0]));
  film.add("liar", 0, new Float32Array([1, 1, 1]), new Float32Array([1e30, 0, 0, -1, 0, 0]));
  assert.ok(film.remove("liar"));
  assert.deepEqual([...film.sums], [1, 2, 3]);
  assert.deepEqual([...film.aovs!], [0.5, 0.5, 0.5, 0, 1, 0]);
});
