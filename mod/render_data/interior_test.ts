import assert from "node:assert/strict";
import { cornellBox, frameCamera, loadScene, mulberry32, randomTriangles } from "../scene/mod.ts";
import { roundTo } from "../scene/frame.ts";
import { type Camera, material, type Mesh, type Scene, type Vec3 } from "../scene/types.ts";
import { buildBvh } from "./bvh.ts";
import { cameraOf, withCamera } from "./camera.ts";
import { cameraBlock } from "./camera_block.ts";
import { compileScene } from "./compile.ts";
import { EYE_SHARE, INTERIOR_FOV, placeCamera } from "./interior.ts";
import { RayCaster } from "./ray_cast.ts";

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

/** A scene of these meshes with the camera a scene file without one gets. */
function sceneOf(meshes: Mesh[]): Scene {
  return {
    meshes,
    materials: [material({})],
    textures: [],
    camera: frameCamera(meshes),
    environment: { color: [1, 1, 1] },
  };
}

/** The camera a scene is seen through: compiled, then its automatic camera placed, as the session does. */
function placed(scene: Scene): Camera {
  return placeCamera(scene.camera, compileScene(scene));
}

function inside(p: readonly number[], min: Vec3, max: Vec3): boolean {
  return p.every((x, i) => x > min[i]! && x < max[i]!);
}

/** The 9-float triangle soup of meshes, as compileScene builds it. */
function soupOf(meshes: Mesh[]): Float32Array {
  const out: number[] = [];
  for (const m of meshes) for (const i of m.indices) out.push(...m.positions.subarray(i * 3, i * 3 + 3));
  return new Float32Array(out);
}

Deno.test("a CPU ray with a zero component, from an origin on a BVH box's plane, still finds what it meets", () => {
  // a floor of 1x1 tiles: its BVH splits on x = 0, 1, 2, where rays cast straight down start
  const tris: number[] = [];
  for (let i = -4; i < 4; i++) {
    for (let j = -4; j < 4; j++) {
      tris.push(i, 0, j, i, 0, j + 1, i + 1, 0, j + 1, i, 0, j, i + 1, 0, j + 1, i + 1, 0, j);
    }
  }
  const soup = new Float32Array(tris);
  const caster = new RayCaster(soup, buildBvh(soup));
  for (const x of [0, 1, 2, 0.5, 1e-6]) {
    assert.equal(caster.cast([x, 1, 0.3], [0, -1, 0])?.t, 1, `down from x = ${x}`);
  }
});

Deno.test("CPU rays through the BVH find the closest hit and the side met, as brute force does", () => {
  const room = box([-1, -1, -1], [1, 1, 1], "in");
  const soup = soupOf([room]);
  const caster = new RayCaster(soup, buildBvh(soup));
  assert.equal(caster.cast([0, 0, 0.5], [0, 0, 1])?.t, 0.5);
  assert.equal(caster.cast([0, 0, 0.5], [0, 0, -1])?.t, 1.5);
  assert.equal(caster.cast([0, 0, 0.5], [0, 0, 1])?.front, true);
  const object = soupOf([box([-1, -1, -1], [1, 1, 1], "out")]);
  const outward = new RayCaster(object, buildBvh(object));
  assert.equal(outward.cast([0, 0, 0], [0, 1, 0])?.front, false);
  assert.equal(outward.cast([0, 0, 5], [0, 0, 1]), undefined);
  assert.equal(outward.cast([0, 0, 5], [0, 0, -1])?.front, true);

  // random triangles: the BVH cast equals a brute-force cast over every triangle
  const tris = randomTriangles(2000, 7, 20);
  const random = new RayCaster(tris, buildBvh(tris));
  const everyTriangle = new RayCaster(tris, buildBvh(tris, { maxLeafSize: 1_000_000, bins: 1 }));
  const rand = mulberry32(3);
  let hits = 0;
  for (let i = 0; i < 300; i++) {
    const o = [0, 0, 0].map(() => rand() * 100);
    const d = [0, 0, 0].map(() => rand() * 2 - 1);
    const length = Math.hypot(...d);
    const dir = d.map((x) => x / length);
    const a = random.cast(o, dir), b = everyTriangle.cast(o, dir);
    assert.equal(a?.triangle, b?.triangle, `ray ${i}`);
    assert.equal(a?.front, b?.front, `ray ${i}`);
    if (a) hits++;
  }
  assert.ok(hits > 200, `${hits} of 300 rays hit`);
});

Deno.test("a closed room gets a camera inside at eye height, looking level along its longest side", () => {
  const min: Vec3 = [0, 0, 0], max: Vec3 = [8, 3, 5];
  const camera = placed(sceneOf([box(min, max, "in")]));
  assert.equal(camera.automatic, "inside");
  assert.ok(inside(camera.position, min, max), `position ${camera.position}`);
  assert.ok(inside(camera.target, min, max), `target ${camera.target}`);
  assert.equal(camera.position[1], 1.8); // EYE_SHARE of 3, rounded
  assert.equal(camera.target[1], 1.8);
  assert.equal(EYE_SHARE, 0.6);
  assert.equal(camera.fovY, INTERIOR_FOV);
  // along x (8 > 5), from near one end wall toward the other
  assert.equal(camera.position[2], camera.target[2]);
  assert.ok(Math.abs(camera.target[0] - camera.position[0]) > 2, `${camera.position} -> ${camera.target}`);
  assert.ok(Math.min(camera.position[0], 8 - camera.position[0]) < 1.5, `stepped back: ${camera.position}`);
  // without a ceiling (as rooms are often drawn) it is still a room, and the camera looks down a little,
  // not at the sky over the walls
  const open = placed(sceneOf([box(min, max, "in", ["+y"])]));
  assert.equal(open.automatic, "inside");
  assert.equal(open.position[1], 1.8);
  const pitch = Math.atan2(open.position[1] - open.target[1], Math.abs(open.target[0] - open.position[0]));
  assert.ok(pitch > 0.04 && pitch < 0.27, `looks down ${pitch} radians`);
  // the same in millimetres: the same camera, scaled
  const mm = placed(sceneOf([box([0, 0, 0], [8000, 3000, 5000], "in")]));
  assert.deepEqual(mm.position, camera.position.map((x) => x * 1000));
  // a box lower than a person is no room
  const low = placed(sceneOf([box([0, 0, 0], [8, 1, 5], "in")]));
  assert.equal(low.automatic, "outside");
});

Deno.test("a closed object (faces wound outwards) keeps the outside three-quarter view", () => {
  const min: Vec3 = [-1, -1, -1], max: Vec3 = [1, 1, 1];
  const meshes = [box(min, max, "out")];
  const camera = placed(sceneOf(meshes));
  assert.deepEqual(camera, frameCamera(meshes));
  assert.equal(camera.automatic, "outside");
  assert.ok(!inside(camera.position, min, max), `position ${camera.position}`);
  assert.ok(camera.position[0] > 0 && camera.position[1] > 0 && camera.position[2] > 0, `${camera.position}`);
  assert.deepEqual(camera.target, [0, 0, 0]);
  // a room-sized one too
  const big = [box([0, 0, 0], [8, 3, 5], "out")];
  assert.equal(placed(sceneOf(big)).automatic, "outside");
});

Deno.test("a stage open on one side (a box without its front, the Cornell box) keeps the outside view", () => {
  const min: Vec3 = [0, 0, 0], max: Vec3 = [4, 3, 6];
  const stage = placed(sceneOf([box(min, max, "in", ["+z"])]));
  assert.equal(stage.automatic, "outside");
  assert.ok(!inside(stage.position, min, max), `position ${stage.position}`);
  const cornell = cornellBox();
  const camera = placed({ ...cornell, camera: frameCamera(cornell.meshes) });
  assert.equal(camera.automatic, "outside");
  assert.ok(camera.position[2] > 559.2, `outside, in front: ${camera.position}`);
});

Deno.test("a room whose centre is inside a solid pillar is still found as a room, and the camera is not in it", () => {
  const min: Vec3 = [0, 0, 0], max: Vec3 = [10, 3, 6];
  const pillar: [Vec3, Vec3] = [[4, 0, 2], [6, 3, 4]];
  const camera = placed(sceneOf([box(min, max, "in"), box(...pillar, "out")]));
  assert.equal(camera.automatic, "inside");
  assert.ok(inside(camera.position, min, max), `position ${camera.position}`);
  assert.ok(!inside(camera.position, ...pillar), `in the pillar: ${camera.position}`);
  // a low table over most of the floor: the eye is over it, not under it
  const table = placed(sceneOf([box(min, max, "in"), box([1, 0.7, 1], [9, 0.8, 5], "out")]));
  assert.equal(table.automatic, "inside");
  assert.ok(table.position[1] > 0.8, `under the table: ${table.position}`);
});

Deno.test("the dream apartment (no camera, rooms without ceilings) is seen from inside one of its rooms", async () => {
  const path =
    new URL("../../../shared/scenes/dream-apartment/dream-apartment.gltf", import.meta.url).pathname;
  const scene = await loadScene(path);
  const data = compileScene(scene);
  const camera = placeCamera(scene.camera, data);
  assert.equal(camera.automatic, "inside");
  const root = new Float32Array(data.nodes, 0, 8);
  assert.ok(inside(camera.position, [root[0]!, root[1]!, root[2]!], [root[4]!, root[5]!, root[6]!]));
  assert.ok(camera.position[1] > root[1]! + 1 && camera.position[1] < root[5]!, `eye ${camera.position}`);
});

Deno.test("compiling packs the scene's own camera, automatic or not; placing it is a step of its own", () => {
  const cornell = cornellBox();
  const data = compileScene(cornell);
  assert.equal(placeCamera(cornell.camera, data), cornell.camera, "a scene's own camera stays");
  const room = sceneOf([box([0, 0, 0], [8, 3, 5], "in")]);
  const compiled = compileScene(room);
  assert.equal(room.camera.automatic, "outside");
  assert.deepEqual(compiled.camera, cameraBlock(room.camera), "compiling keeps the outside camera");
  const inside = placeCamera(room.camera, compiled);
  assert.equal(inside.automatic, "inside");
  // seen through the placed camera only the camera section differs
  const seen = withCamera(compiled, inside);
  assert.deepEqual(seen.camera, cameraBlock(inside));
  assert.equal(seen.triangles, compiled.triangles);
  assert.equal(cameraOf(seen).fovY.toFixed(3), INTERIOR_FOV.toFixed(3));
});

Deno.test("camera coordinates round to four digits of the scene's size", () => {
  assert.equal(roundTo(1.23456789, 10), 1.23);
  assert.equal(roundTo(123.456789, 1000), 123);
  assert.equal(roundTo(0.000123456, 0.001), 0.000123);
  assert.equal(roundTo(-7.77777, 5), -7.778);
});
