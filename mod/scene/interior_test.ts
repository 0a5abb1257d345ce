import assert from "node:assert/strict";
import { frameCamera, sceneBounds } from "./frame.ts";
import { castRays, enclosure, EYE_HEIGHT, INTERIOR_FOV, roundTo, sphereDirections } from "./interior.ts";
import type { Mesh, Vec3 } from "./types.ts";

/**
 * An axis-aligned box from `min` to `max` of 12 triangles wound to face `facing` ("in": a room, "out": a
 * closed object), leaving out the faces named in `open` ("+z": the side facing +z).
 */
function box(min: Vec3, max: Vec3, facing: "in" | "out", open: string[] = []): Mesh {
  const c = (i: number): Vec3 => [i & 1 ? max[0] : min[0], i & 2 ? max[1] : min[1], i & 4 ? max[2] : min[2]];
  const positions = new Float32Array([0, 1, 2, 3, 4, 5, 6, 7].flatMap(c));
  // each face counter-clockwise seen from outside
  const faces: Record<string, number[]> = {
    "-x": [0, 4, 6, 2],
    "+x": [1, 3, 7, 5],
    "-y": [0, 1, 5, 4],
    "+y": [2, 6, 7, 3],
    "-z": [0, 2, 3, 1],
    "+z": [4, 5, 7, 6],
  };
  const indices: number[] = [];
  for (const [name, [a, b, c2, d]] of Object.entries(faces) as [string, number[]][]) {
    if (open.includes(name)) continue;
    const quad = [a!, b!, c2!, a!, c2!, d!];
    indices.push(...(facing === "out" ? quad : quad.reverse()));
  }
  return { positions, indices: new Uint32Array(indices), material: 0 };
}

function inside(p: readonly number[], min: Vec3, max: Vec3): boolean {
  return p.every((x, i) => x > min[i]! && x < max[i]!);
}

Deno.test("CPU rays find the closest hit and which side of the triangle they meet", () => {
  const room = box([-1, -1, -1], [1, 1, 1], "in");
  const hits = castRays([room], [0, 0, 0.5], [[0, 0, 1], [0, 0, -1], [1, 0, 0]]);
  assert.deepEqual(hits.map((h) => h.front), [true, true, true]);
  assert.ok(Math.abs(hits[0]!.t - 0.5) < 1e-9 && Math.abs(hits[1]!.t - 1.5) < 1e-9, JSON.stringify(hits));
  const object = box([-1, -1, -1], [1, 1, 1], "out");
  assert.deepEqual(castRays([object], [0, 0, 0], [[0, 1, 0]]).map((h) => h.front), [false]);
  assert.equal(castRays([object], [0, 0, 5], [[0, 0, 1]])[0]!.t, Infinity);
  // the directions cover the sphere evenly: their mean is near the origin
  const dirs = sphereDirections(128);
  const mean = dirs.reduce<number[]>((s, d) => s.map((x, i) => x + d[i]! / dirs.length), [0, 0, 0]);
  assert.ok(mean.every((x) => Math.abs(x) < 1e-3), `${mean}`);
});

Deno.test("a closed room gets a camera inside at eye height, looking along its longest side", () => {
  const min: Vec3 = [0, 0, 0], max: Vec3 = [8, 3, 5];
  const room = box(min, max, "in");
  assert.equal(enclosure([room], [4, 1.5, 2.5]), 1);
  const camera = frameCamera([room]);
  assert.ok(inside(camera.position, min, max), `position ${camera.position}`);
  assert.ok(inside(camera.target, min, max), `target ${camera.target}`);
  assert.equal(camera.position[1], EYE_HEIGHT);
  assert.equal(camera.fovY, INTERIOR_FOV);
  // along x (8 > 5), from near one end wall toward the other
  assert.equal(camera.position[2], camera.target[2]);
  assert.ok(Math.abs(camera.target[0] - camera.position[0]) > 2, `${camera.position} -> ${camera.target}`);
  // a low room puts the eye 60% of the way up
  const low = frameCamera([box([0, 0, 0], [8, 1, 5], "in")]);
  assert.equal(low.position[1], 0.6);
});

Deno.test("a closed object (faces wound outwards) keeps the outside three-quarter view", () => {
  const min: Vec3 = [-1, -1, -1], max: Vec3 = [1, 1, 1];
  const object = box(min, max, "out");
  assert.equal(enclosure([object], [0, 0, 0]), 0);
  const camera = frameCamera([object]);
  assert.ok(!inside(camera.position, min, max), `position ${camera.position}`);
  assert.ok(camera.position[0] > 0 && camera.position[1] > 0 && camera.position[2] > 0, `${camera.position}`);
  assert.deepEqual(camera.target, [0, 0, 0]);
});

Deno.test("a box open on one side is seen from its opening, looking in", () => {
  const min: Vec3 = [0, 0, 0], max: Vec3 = [4, 3, 6];
  const camera = frameCamera([box(min, max, "in", ["+z"])]);
  assert.ok(inside(camera.position, min, max), `position ${camera.position}`);
  assert.ok(camera.position[2] > 4.5 && camera.target[2] < camera.position[2], `${camera.position}`);
});

Deno.test("a room whose centre is inside a solid pillar is still found as a room", () => {
  const min: Vec3 = [0, 0, 0], max: Vec3 = [10, 3, 6];
  const meshes = [box(min, max, "in"), box([4, 0, 2], [6, 3, 4], "out")];
  const camera = frameCamera(meshes);
  assert.ok(inside(camera.position, min, max), `position ${camera.position}`);
  assert.ok(!inside(camera.position, [4, 0, 2], [6, 3, 4]), `in the pillar: ${camera.position}`);
  assert.ok(sceneBounds(meshes));
});

Deno.test("camera coordinates round to four digits of the scene's size", () => {
  assert.equal(roundTo(1.23456789, 10), 1.23);
  assert.equal(roundTo(123.456789, 1000), 123);
  assert.equal(roundTo(0.000123456, 0.001), 0.000123);
  assert.equal(roundTo(-7.77777, 5), -7.778);
});
