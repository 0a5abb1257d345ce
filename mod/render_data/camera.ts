import type { Camera } from "../scene/types.ts";
import { CAMERA, NODE } from "../gpu_layout/mod.ts";
import { cameraAspect, cameraBlock } from "./camera_block.ts";
import type { RenderData } from "./types.ts";

/**
 * A camera as a JSON file holds it (`--camera-file`, the live view's "Save camera"): where it is, what it
 * looks at, its up direction and vertical field of view in degrees; lens radius and focus distance are
 * optional (a pinhole when left out).
 */
export interface CameraJson {
  /** Eye position. */
  position: [number, number, number];
  /** Point looked at (also the live view's orbit pivot). */
  target: [number, number, number];
  /** Up direction. */
  up: [number, number, number];
  /** Vertical field of view in degrees, in (0, 180). */
  fov: number;
  /** Lens radius in scene units (0: pinhole). */
  lensRadius?: number;
  /** Distance to the plane in focus (thin lens only). */
  focusDistance?: number;
}

/** A camera that cannot be used: not finite, a zero-length view or up, or a field of view outside (0, 180). */
export class CameraError extends RangeError {
  /** A camera error with a one-line message. */
  constructor(message: string) {
    super(message);
    this.name = "CameraError";
  }
}

function vec3(value: unknown, name: string): [number, number, number] {
  if (!Array.isArray(value) || value.length !== 3 || !value.every((x) => typeof x === "number")) {
    throw new CameraError(`"${name}" must be three numbers, like [0, 1, 2]`);
  }
  if (!value.every(Number.isFinite)) throw new CameraError(`"${name}" must be finite numbers`);
  return [value[0]!, value[1]!, value[2]!];
}

/**
 * Checks a parsed JSON value as a camera.
 * @throws {CameraError} naming the field that is wrong
 */
export function parseCamera(value: unknown): CameraJson {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new CameraError("A camera must be an object with position, target, up and fov");
  }
  const v = value as Record<string, unknown>;
  const position = vec3(v.position, "position");
  const target = vec3(v.target, "target");
  const up = vec3(v.up, "up");
  const fov = v.fov;
  if (typeof fov !== "number" || !(fov > 0 && fov < 180)) {
    throw new CameraError(`"fov" must be a number of degrees above 0 and below 180`);
  }
  const d = target.map((t, i) => t - position[i]!);
  const length = Math.hypot(...d);
  if (!(length > 0)) throw new CameraError(`"target" must differ from "position"`);
  if (!(Math.hypot(...up) > 0)) throw new CameraError(`"up" must not be zero`);
  const cross = Math.hypot(
    d[1]! * up[2] - d[2]! * up[1],
    d[2]! * up[0] - d[0]! * up[2],
    d[0]! * up[1] - d[1]! * up[0],
  );
  if (!(cross > 1e-6 * length * Math.hypot(...up))) {
    throw new CameraError(`"up" must not be parallel to the view direction`);
  }
  const camera: CameraJson = { position, target, up, fov };
  for (const key of ["lensRadius", "focusDistance"] as const) {
    const x = v[key];
    if (x === undefined) continue;
    if (typeof x !== "number" || !(x >= 0 && Number.isFinite(x))) {
      throw new CameraError(`"${key}" must be a number of 0 or more`);
    }
    camera[key] = x;
  }
  return camera;
}

/** The render data's bounds (the BVH root's box), or undefined for an empty scene. */
export function sceneBounds(data: RenderData): { min: number[]; max: number[] } | undefined {
  if (data.nodes.byteLength < NODE.size) return undefined;
  const root = NODE.read(data.nodes, 0);
  const min = [...root.bmin], max = [...root.bmax];
  return min.every((x, i) => x <= max[i]!) ? { min, max } : undefined;
}

/**
 * The render data's camera as JSON. The block keeps no target, so the target is put on the view ray at the
 * focus distance, or else level with the scene's centre (an orbit then turns about the scene).
 */
export function cameraOf(data: RenderData): CameraJson {
  const b = CAMERA.read(data.camera, 0);
  const position = [...b.position] as [number, number, number];
  const up = [...b.up] as [number, number, number];
  const forward = b.forward;
  const bounds = sceneBounds(data);
  let distance = b.focus_distance > 0 && b.lens_radius > 0 ? b.focus_distance : 0;
  if (!(distance > 0) && bounds) {
    const centre = bounds.min.map((m, i) => (m + bounds.max[i]!) / 2);
    distance = centre.reduce((s, c, i) => s + (c - position[i]!) * forward[i]!, 0);
  }
  if (!(distance > 0)) distance = 1;
  const target = position.map((p, i) => p + forward[i]! * distance) as [number, number, number];
  const fov = 360 / Math.PI * Math.atan(b.tan_half_fov);
  return { position, target, up, fov, lensRadius: b.lens_radius, focusDistance: b.focus_distance };
}

/** The scene camera of a camera JSON (aspect ratio as the render data's camera had it). */
export function sceneCamera(camera: CameraJson, aspectRatio?: number): Camera {
  return {
    position: camera.position,
    target: camera.target,
    up: camera.up,
    fovY: camera.fov,
    lensRadius: camera.lensRadius ?? 0,
    // a lens without a focus distance focuses on the target
    focusDistance: camera.focusDistance ??
      ((camera.lensRadius ?? 0) > 0
        ? Math.hypot(...camera.target.map((t, i) => t - camera.position[i]!))
        : 0),
    ...(aspectRatio ? { aspectRatio } : {}),
  };
}

/** The render data seen through another camera: only its camera section differs. */
export function withCamera(data: RenderData, camera: CameraJson): RenderData {
  const view = sceneCamera(camera, cameraAspect(data));
  return { ...data, camera: cameraBlock(view), view };
}
