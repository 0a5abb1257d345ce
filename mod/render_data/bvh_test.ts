import assert from "node:assert/strict";
import { randomTriangles } from "../scene/random.ts";
import { buildBvh, MAX_DEPTH, NODE_BYTES } from "./bvh.ts";

Deno.test("buildBvh puts every triangle in exactly one leaf inside all its ancestors' boxes", () => {
  const n = 5000;
  const soup = randomTriangles(n, 7);
  const bvh = buildBvh(soup);
  const f = new Float32Array(bvh.nodes);
  const u = new Uint32Array(bvh.nodes);
  assert.equal(bvh.nodes.byteLength, bvh.nodeCount * NODE_BYTES);
  assert.deepEqual([...bvh.order].sort((a, b) => a - b), [...Array(n).keys()]);
  const seen = new Uint8Array(n);
  let maxDepth = 0;
  const stack: [number, number][] = [[0, 0]];
  while (stack.length) {
    const [node, depth] = stack.pop()!;
    maxDepth = Math.max(maxDepth, depth);
    const o = node * 8;
    const count = u[o + 7]!, first = u[o + 3]!;
    if (count > 0) {
      for (let i = first; i < first + count; i++) {
        seen[i]!++;
        const t = bvh.order[i]!;
        for (let v = 0; v < 3; v++) {
          for (let a = 0; a < 3; a++) {
            const x = soup[t * 9 + v * 3 + a]!;
            assert.ok(x >= f[o + a]! && x <= f[o + 4 + a]!, `triangle ${t} outside its leaf`);
          }
        }
      }
    } else {
      for (const child of [first, first + 1]) {
        for (let a = 0; a < 3; a++) {
          assert.ok(
            f[child * 8 + a]! >= f[o + a]! && f[child * 8 + 4 + a]! <= f[o + 4 + a]!,
            "child box outside parent",
          );
        }
        stack.push([child, depth + 1]);
      }
    }
  }
  assert.ok(seen.every((s) => s === 1), "every triangle is in exactly one leaf");
  assert.ok(maxDepth <= MAX_DEPTH);
});

Deno.test("buildBvh handles coincident centres, a single triangle and no triangles", () => {
  const same = new Float32Array(100 * 9);
  for (let i = 0; i < 100; i++) same.set([0, 0, 0, 1, 0, 0, 0, 1, 0], i * 9);
  const bvh = buildBvh(same);
  assert.equal(new Set(bvh.order).size, 100);
  assert.equal(buildBvh(new Float32Array([0, 0, 0, 1, 0, 0, 0, 1, 0])).nodeCount, 1);
  assert.equal(buildBvh(new Float32Array(0)).nodeCount, 1);
  assert.throws(() => buildBvh(new Float32Array(10)), RangeError);
});
