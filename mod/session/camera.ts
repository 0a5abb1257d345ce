import type { Camera, Vec3 } from "../scene/mod.ts";

/**
 * What replaces parts of the camera otherwise chosen (the scene's, the automatic one, a camera file's): the
 * CLI's --look-from/--look-at/--up, --fov, --aperture and --focus-distance, checked.
 */
export interface CameraOverrides {
  /** A new pose: position, target and up. */
  pose?: { position: Vec3; target: Vec3; up: Vec3 };
  /** Vertical field of view in degrees. */
  fovY?: number;
  /** Lens radius (0: a pinhole). */
  aperture?: number;
  /** Distance to the plane in focus, with a lens. */
  focusDistance?: number;
}

/** The distance from the camera to its target. */
export function targetDistance(c: Camera): number {
  return Math.hypot(...c.target.map((t, i) => t - c.position[i]!));
}

/**
 * The camera `overrides` make of `base`. A new pose replaces the base's pose and lens (a pinhole, unless an
 * aperture is given); without one the base's thin lens is kept, focused where it was (or on its target). An
 * aperture above 0 focuses at `focusDistance`, else where the kept lens was, else on the target of a new
 * pose, else at `depth` (the scene's centre, for the scene's own camera, whose target means little) or on
 * the target; an aperture of 0 makes a pinhole. A pinhole's focus distance is 0.
 */
export function applyCameraOverrides(base: Camera, overrides: CameraOverrides, depth?: number): Camera {
  const { pose, fovY, aperture, focusDistance } = overrides;
  const camera: Camera = {
    ...(pose ?? { position: base.position, target: base.target, up: base.up }),
    fovY: fovY ?? base.fovY,
    lensRadius: 0,
    focusDistance: 0,
  };
  if (!pose && base.lensRadius > 0) {
    camera.lensRadius = base.lensRadius;
    camera.focusDistance = base.focusDistance || targetDistance(base);
  }
  if (aperture !== undefined && aperture > 0) {
    camera.lensRadius = aperture;
    camera.focusDistance = focusDistance ??
      (pose ? undefined : camera.focusDistance || undefined) ??
      (pose || depth === undefined ? targetDistance(camera) : depth);
  } else if (aperture !== undefined) {
    camera.lensRadius = 0;
    camera.focusDistance = 0;
  }
  return camera;
}

/** Whether any override is given. */
export function overridesAny(overrides: CameraOverrides): boolean {
  return Object.values(overrides).some((v) => v !== undefined);
}
