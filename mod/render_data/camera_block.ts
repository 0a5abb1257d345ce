import { CAMERA } from "../gpu_layout/mod.ts";
import type { Camera } from "../scene/types.ts";
import type { RenderData } from "./types.ts";

/** Packs a camera into its CAMERA record (an orthonormal basis looking along +forward). */
export function cameraBlock(camera: Camera): Float32Array {
  const forward = normalize(sub(camera.target, camera.position));
  const right = normalize(cross(forward, camera.up));
  const up = cross(right, forward);
  if (!forward.every(Number.isFinite) || !right.every(Number.isFinite)) {
    throw new RangeError(
      "Cannot use camera: its target equals its position or its up is parallel to the view",
    );
  }
  const block = new Float32Array(CAMERA.words);
  CAMERA.write(block, 0, {
    position: camera.position,
    tan_half_fov: Math.tan(camera.fovY * Math.PI / 360),
    right,
    lens_radius: camera.lensRadius,
    up,
    focus_distance: camera.focusDistance,
    forward,
    aspect: camera.aspectRatio ?? 0,
  });
  return block;
}

/** The aspect ratio (width / height) the render data's camera was made for, if it has one. */
export function cameraAspect(data: RenderData): number | undefined {
  const aspect = CAMERA.get(data.camera, 0, "aspect");
  return aspect > 0 && Number.isFinite(aspect) ? aspect : undefined;
}

type V = [number, number, number];
function sub(a: V, b: V): V {
  return [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
}
/** The cross product a x b. */
export function cross(a: V, b: V): V {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}
function normalize(a: V): V {
  const l = Math.hypot(a[0], a[1], a[2]);
  return [a[0] / l, a[1] / l, a[2] / l];
}
