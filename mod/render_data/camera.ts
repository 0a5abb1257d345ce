import type { Camera, Vec3 } from "../scene/types.ts";
import { CAMERA, NODE } from "../gpu_layout/mod.ts";
import { cameraAspect, cameraBlock } from "./camera_block.ts";
import type { RenderData } from "./types.ts";

/**
 * A camera as JSON carries it, the wire and file form of {@linkcode Camera}: `--camera-file`, the live view's
 * "Save camera" and its `/api/camera`. Where it is, what it looks at, its up direction and vertical field of
 * view in degrees (`fov`); lens radius and focus distance are optional (a pinhole when left out). Only
 * {@linkcode parseCamera} and {@linkcode cameraJson} deal in it: the application holds a `Camera`.
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
 * Checks that a camera's pose can be seen through: a target away from the position, an up that is not zero
 * and not along the view.
 * @throws {CameraError} naming the field ("position", "target", "up") that is wrong
 */
export function checkPose(pose: Pick<Camera, "position" | "target" | "up">): void {
  const { position, target, up } = pose;
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
}

/**
 * Reads a parsed JSON value ({@linkcode CameraJson}) as a camera, checked; a lens without a focus distance
 * focuses on the target.
 * @throws {CameraError} naming the field that is wrong
 */
export function parseCamera(value: unknown): Camera {
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
  checkPose({ position, target, up });
  const lens: { lensRadius?: number; focusDistance?: number } = {};
  for (const key of ["lensRadius", "focusDistance"] as const) {
    const x = v[key];
    if (x === undefined) continue;
    if (typeof x !== "number" || !(x >= 0 && Number.isFinite(x))) {
      throw new CameraError(`"${key}" must be a number of 0 or more`);
    }
    lens[key] = x;
  }
  const lensRadius = lens.lensRadius ?? 0;
  // a lens without a focus distance focuses on the target
  const distance = Math.hypot(...target.map((t, i) => t - position[i]!));
  const focusDistance = lens.focusDistance ?? (lensRadius > 0 ? distance : 0);
  return { position, target, up, fovY: fov, lensRadius, focusDistance };
}

/** The JSON form of a camera (see {@linkcode CameraJson}): `fov` in degrees, the lens always said. */
export function cameraJson(camera: Camera): Required<CameraJson> {
  return {
    position: [...camera.position],
    target: [...camera.target],
    up: [...camera.up],
    fov: camera.fovY,
    lensRadius: camera.lensRadius,
    focusDistance: camera.focusDistance,
  };
}

/** The render data's bounds (the BVH root's box), or undefined for an empty scene. */
export function sceneBounds(data: RenderData): { min: number[]; max: number[] } | undefined {
  if (data.nodes.byteLength < NODE.size) return undefined;
  const root = NODE.read(data.nodes, 0);
  const min = [...root.bmin], max = [...root.bmax];
  return min.every((x, i) => x <= max[i]!) ? { min, max } : undefined;
}

/**
 * The render data's camera, read back from its block (single precision). The block keeps no target, so the
 * target is put on the view ray at the focus distance, or else level with the scene's centre (an orbit then
 * turns about the scene).
 */
export function cameraOf(data: RenderData): Camera {
  const b = CAMERA.read(data.camera, 0);
  const position: Vec3 = [b.position[0]!, b.position[1]!, b.position[2]!];
  const up: Vec3 = [b.up[0]!, b.up[1]!, b.up[2]!];
  const forward = b.forward;
  const bounds = sceneBounds(data);
  let distance = b.focus_distance > 0 && b.lens_radius > 0 ? b.focus_distance : 0;
  if (!(distance > 0) && bounds) {
    const centre = bounds.min.map((m, i) => (m + bounds.max[i]!) / 2);
    distance = centre.reduce((s, c, i) => s + (c - position[i]!) * forward[i]!, 0);
  }
  if (!(distance > 0)) distance = 1;
  const target = position.map((p, i) => p + forward[i]! * distance) as Vec3;
  const fovY = 360 / Math.PI * Math.atan(b.tan_half_fov);
  const aspect = cameraAspect(data);
  return {
    position,
    target,
    up,
    fovY,
    lensRadius: b.lens_radius,
    focusDistance: b.focus_distance,
    ...(aspect !== undefined ? { aspectRatio: aspect } : {}),
  };
}

/**
 * The render data seen through another camera: only its camera section differs. The aspect ratio stays the
 * render data's (the image size follows it), whatever `camera` says.
 */
export function withCamera(data: RenderData, camera: Camera): RenderData {
  return { ...data, camera: cameraBlock({ ...camera, aspectRatio: cameraAspect(data) }) };
}
