import { getLogger } from "@logtape/logtape";
import { roundTo } from "../scene/frame.ts";
import type { Camera, Vec3 } from "../scene/types.ts";
import { NODE, TRI } from "../gpu_layout/mod.ts";
import { RayCaster } from "./ray_cast.ts";
import type { RenderData } from "./types.ts";

const log = getLogger(["octane", "render-data"]);

/** The interior camera's vertical field of view in degrees: wider than an object's, as rooms are shot. */
export const INTERIOR_FOV = 60;
/**
 * The interior camera's height above the floor, as a share of the way up to the ceiling: eye height (1.6 m)
 * in a room 2.7 m high, whatever the scene's units.
 */
export const EYE_SHARE = 0.6;

/** Options of {@linkcode interiorCamera}. */
export interface InteriorOptions {
  /** Candidate viewpoints: a grid of this many a side over the floor plan. */
  grid?: number;
  /** Directions each candidate looks around in, at each of the elevations -15°, 0 and 15°. */
  azimuths?: number;
  /** Most of those directions that may leave the scene (windows, a door, a missing wall) in a room. */
  maxEscape?: number;
  /** Most of them that may meet a back face (a viewpoint inside a closed object is in no room). */
  maxBack?: number;
  /**
   * Least height of a room from floor to ceiling (or to the top of the scene), in scene units: glTF's are
   * metres, and a space lower than a person (a box, a drawer, a cup) is no room.
   */
  minHeight?: number;
  /** Least share of the candidates (points with a floor under them) that must be in rooms. */
  minEnclosed?: number;
}

const defaults = {
  grid: 7,
  azimuths: 24,
  maxEscape: 0.1,
  maxBack: 0.25,
  minHeight: 1.5,
  minEnclosed: 0.5,
} satisfies InteriorOptions;

/** What the interior search found. */
export interface InteriorResult {
  /** The camera inside, or undefined when the scene is no interior (an object, a stage). */
  camera?: Camera;
  /** Candidates in rooms. */
  enclosed: number;
  /** Candidates looked at: grid points with a floor under them, in a space high enough. */
  candidates: number;
}

/** The directions a candidate looks in: `n` azimuths at each of the elevations -15°, 0 and 15°. */
export function lookAround(n: number): Vec3[] {
  return [-15, 0, 15].flatMap((degrees) => {
    const e = degrees * Math.PI / 180;
    return Array.from({ length: n }, (_, i): Vec3 => {
      const a = (i + (degrees === 0 ? 0 : 0.5)) * 2 * Math.PI / n;
      return [Math.cos(e) * Math.cos(a), Math.sin(e), Math.cos(e) * Math.sin(a)];
    });
  });
}

/**
 * Looks for a viewpoint inside the scene, as in a room; +Y is up, as in glTF.
 *
 * Candidates lie on a grid over the floor plan (x, z) of the bounds. Each stands on the floor found by a ray
 * cast down from the bounds' mid-height (it must meet a front face), {@linkcode EYE_SHARE} of the way up to
 * the ceiling over it (a front face above, or the top of the bounds where there is none, in rooms drawn
 * without one). A candidate is in a room
 * when the space is at least `minHeight` high and, of the directions it looks around in (level and 15° up
 * and down, what a level camera sees), at most `maxEscape` leave the scene and at most `maxBack` meet a back
 * face (from inside a closed object or a wall one sees the back of its surface). The scene is an interior
 * when at least `minEnclosed` of the candidates are in rooms: a stage such as the Cornell box, open on one
 * side, has a few nooks behind its blocks, no more.
 *
 * The camera then looks level along the longer horizontal side of the bounds, either way, from a room
 * viewpoint stepped back toward the wall behind it, as rooms are photographed; of those views the most
 * open one wins (see `openness`). Where that view sees the background over the walls (rooms drawn without a
 * ceiling) it looks down by 5°, 10° or 15°, the least that hides it, or else the most. It looks at the
 * middle of the free space ahead.
 * @param caster the scene's triangles
 * @param bounds the scene's bounds
 */
export function interiorCamera(
  caster: RayCaster,
  bounds: { min: readonly number[]; max: readonly number[] },
  options: InteriorOptions = {},
): InteriorResult {
  const { grid, azimuths, maxEscape, maxBack, minHeight, minEnclosed } = { ...defaults, ...options };
  const min = bounds.min, max = bounds.max;
  const size = [0, 1, 2].map((a) => max[a]! - min[a]!);
  if (!size.every((s) => s >= 0 && Number.isFinite(s))) return { enclosed: 0, candidates: 0 };
  const scale = Math.hypot(...size);
  const round = (x: number) => roundTo(x, scale);
  const directions = lookAround(azimuths);
  const rays = directions.length;
  const midY = (min[1]! + max[1]!) / 2;
  let candidates = 0;
  const rooms: Vec3[] = [];
  for (let gx = 0; gx < grid; gx++) {
    for (let gz = 0; gz < grid; gz++) {
      const x = round(min[0]! + (gx + 0.5) / grid * size[0]!);
      const z = round(min[2]! + (gz + 0.5) / grid * size[2]!);
      const floor = caster.cast([x, midY, z], [0, -1, 0]);
      if (!floor?.front) continue;
      const ceiling = caster.cast([x, midY, z], [0, 1, 0]);
      if (ceiling && !ceiling.front) continue;
      const floorY = midY - floor.t, height = (ceiling ? midY + ceiling.t : max[1]!) - floorY;
      if (!(height >= minHeight)) continue;
      candidates++;
      const eye: Vec3 = [x, round(floorY + EYE_SHARE * height), z];
      let escaped = 0, back = 0, looked = 0;
      for (const d of directions) {
        const hit = caster.cast(eye, d);
        looked++;
        if (!hit) escaped++;
        else if (!hit.front) back++;
        if (escaped > maxEscape * rays || back > maxBack * rays) break;
      }
      if (looked === rays && escaped <= maxEscape * rays && back <= maxBack * rays) rooms.push(eye);
    }
  }
  const enclosed = rooms.length;
  if (enclosed === 0 || enclosed < minEnclosed * candidates) return { enclosed, candidates };
  const axis = size[0]! >= size[2]! ? 0 : 2;
  let best: { eye: Vec3; d: Vec3; score: number } | undefined;
  for (const room of rooms) {
    for (const sign of [1, -1]) {
      const d: Vec3 = [0, 0, 0];
      d[axis] = sign;
      const behind = caster.cast(room, d.map((x) => -x))?.t ?? 0;
      const eye = room.map((p, i) => round(p - d[i]! * BACK_STEP * behind)) as Vec3;
      const view = { eye, d, ...openness(caster, eye, d, 0, scale) };
      if (!best || view.score > best.score) best = view;
    }
  }
  const eye = best!.eye;
  // in a room without a ceiling, look down a little, at most 15°, rather than at the sky over its walls
  const pitches = [0, 5, 10, 15].map((degrees) => ({
    degrees,
    ...openness(caster, eye, best!.d, degrees, scale),
  }));
  const pitch = (pitches.find((p) => p.missed <= MAX_BACKGROUND) ??
    pitches.reduce((a, b) => b.missed < a.missed ? b : a)).degrees * Math.PI / 180;
  const d = best!.d.map((x, i) => i === 1 ? -Math.sin(pitch) : x * Math.cos(pitch)) as Vec3;
  const ahead = Math.min(caster.cast(eye, d)?.t ?? scale, scale);
  const target = eye.map((p, i) => round(p + d[i]! * ahead / 2)) as Vec3;
  const focusDistance = Math.hypot(...target.map((t, i) => t - eye[i]!));
  return {
    camera: { position: eye, target, up: [0, 1, 0], fovY: INTERIOR_FOV, lensRadius: 0, focusDistance },
    enclosed,
    candidates,
  };
}

/** How far toward the wall behind a room viewpoint the camera steps back, leaving the rest free. */
const BACK_STEP = 0.85;

/** Most of the 25 rays of a view that may see the background: else it pitches down (see `interiorCamera`). */
const MAX_BACKGROUND = 2;

/**
 * How open the view from `eye` along level `level`, pitched down by `pitchDegrees`, is: the mean logarithm of the distances that a 5x5 grid of
 * rays over the interior field of view travels to what it meets, so that a view blocked close ahead (a tap
 * over a sink) scores low however deep the rest of it is; and how many of those rays see the background
 * (over the walls of a room without a ceiling, out of a window).
 */
function openness(
  caster: RayCaster,
  eye: Vec3,
  level: Vec3,
  pitchDegrees: number,
  reach: number,
): { score: number; missed: number } {
  const p = pitchDegrees * Math.PI / 180;
  const right: Vec3 = [-level[2], 0, level[0]];
  const d: Vec3 = [level[0] * Math.cos(p), -Math.sin(p), level[2] * Math.cos(p)];
  const up: Vec3 = [level[0] * Math.sin(p), Math.cos(p), level[2] * Math.sin(p)];
  const tan = Math.tan(INTERIOR_FOV * Math.PI / 360);
  let sum = 0, missed = 0;
  for (let i = 0; i < 5; i++) {
    for (let j = 0; j < 5; j++) {
      const sx = (i / 2 - 1) * tan, sy = (j / 2 - 1) * tan;
      const ray = [0, 1, 2].map((a) => d[a]! + sx * right[a]! + sy * up[a]!);
      const length = Math.hypot(...ray);
      const t = caster.cast(eye, ray.map((x) => x / length))?.t;
      if (t === undefined) missed++;
      else sum += Math.log(Math.max(t, reach * 1e-4));
    }
  }
  return { score: missed < 25 ? sum / (25 - missed) : -Infinity, missed };
}

/**
 * Places a scene's automatic camera, the step between compiling a scene and rendering it: a camera marked
 * `automatic: "outside"` (a scene without one; see `frameCamera`) becomes the interior camera where the scene
 * is an interior ({@linkcode interiorCamera}, cast through the render data's own BVH), marked `automatic:
 * "inside"`; every other camera is returned as it is. Seen through the placed camera, the render data is
 * `withCamera(data, placed)`.
 */
export function placeCamera(camera: Camera, data: RenderData): Camera {
  if (camera.automatic !== "outside") return camera;
  const count = data.stats.triangles;
  if (data.nodes.byteLength < NODE.size || count === 0) return camera;
  const root = NODE.read(data.nodes, 0);
  const bounds = { min: [...root.bmin], max: [...root.bmax] };
  const started = performance.now();
  const found = interiorCamera(rayCaster(data, count), bounds);
  const ms = (performance.now() - started).toFixed(0);
  if (!found.camera) {
    log.debug("No interior: {enclosed} of {candidates} viewpoints in rooms ({ms} ms)", { ...found, ms });
    return camera;
  }
  log.info(
    "The scene is an interior ({enclosed} of {candidates} viewpoints in rooms, {ms} ms): the automatic camera is inside",
    { ...found, ms },
  );
  return { ...found.camera, automatic: "inside" };
}

/**
 * A ray caster over render data: its BVH nodes, and its triangles (TRI records, in BVH order) as the 9-float
 * soup the caster reads, in an order that is the identity.
 */
function rayCaster(data: RenderData, count: number): RayCaster {
  const soup = new Float32Array(count * 9);
  const vertices = [TRI.word.v0, TRI.word.v1, TRI.word.v2];
  for (let i = 0; i < count; i++) {
    vertices.forEach((word, k) => {
      const from = i * TRI.words + word;
      soup.set(data.triangles.subarray(from, from + 3), i * 9 + k * 3);
    });
  }
  const order = new Uint32Array(count).map((_, i) => i);
  return new RayCaster(soup, { nodes: data.nodes, nodeCount: NODE.count(data.nodes), order });
}
