import { getLogger } from "@logtape/logtape";
import type { Camera, Mesh, Scene, Vec3 } from "./types.ts";

const log = getLogger(["octane", "scene"]);

/** The axis-aligned bounds of every mesh, or undefined for an empty scene. */
export function sceneBounds(meshes: Mesh[]): { min: Vec3; max: Vec3 } | undefined {
  const min: Vec3 = [Infinity, Infinity, Infinity], max: Vec3 = [-Infinity, -Infinity, -Infinity];
  for (const m of meshes) {
    for (let i = 0; i < m.positions.length; i += 3) {
      for (let a = 0; a < 3; a++) {
        const v = m.positions[i + a]!;
        if (v < min[a]!) min[a] = v;
        if (v > max[a]!) max[a] = v;
      }
    }
  }
  return min[0] <= max[0] ? { min, max } : undefined;
}

/** The automatic camera's view: degrees around +Y from the front (+z) toward +x, and above the horizon. */
export const FRAME_AZIMUTH = 30;
/** See {@linkcode FRAME_AZIMUTH}. */
export const FRAME_ELEVATION = 20;
/** The automatic camera's vertical field of view in degrees. */
export const FRAME_FOV = 40;

/**
 * A camera that frames the whole scene as Blender's and Octane's viewers open a model: a raised
 * three-quarter view (from the front-right, {@linkcode FRAME_AZIMUTH}° around and
 * {@linkcode FRAME_ELEVATION}° up) looking at the centre of its bounds, far enough that the bounding
 * sphere fits the {@linkcode FRAME_FOV}° field of view with a 5% margin. Coordinates are rounded to four
 * digits of the scene's size, so that the camera printed as flags is short and exact. The camera is marked
 * `automatic: "outside"`: after compiling, `placeCamera` (`render_data/interior.ts`, which casts rays through
 * the BVH) looks for rooms, and seen as an interior the scene gets a camera inside instead.
 */
export function frameCamera(meshes: Mesh[]): Camera {
  const b = sceneBounds(meshes) ?? { min: [-1, -1, -1] as Vec3, max: [1, 1, 1] as Vec3 };
  const center: Vec3 = [(b.min[0] + b.max[0]) / 2, (b.min[1] + b.max[1]) / 2, (b.min[2] + b.max[2]) / 2];
  const radius = Math.max(
    1e-3,
    Math.hypot(b.max[0] - b.min[0], b.max[1] - b.min[1], b.max[2] - b.min[2]) / 2,
  );
  const distance = radius / Math.sin(FRAME_FOV * Math.PI / 360) * 1.05;
  const azimuth = FRAME_AZIMUTH * Math.PI / 180, elevation = FRAME_ELEVATION * Math.PI / 180;
  const dir: Vec3 = [
    Math.sin(azimuth) * Math.cos(elevation),
    Math.sin(elevation),
    Math.cos(azimuth) * Math.cos(elevation),
  ];
  const round = (v: Vec3) => v.map((x) => roundTo(x, 2 * radius)) as Vec3;
  const position = round([
    center[0] + dir[0] * distance,
    center[1] + dir[1] * distance,
    center[2] + dir[2] * distance,
  ]);
  return {
    position,
    target: round(center),
    up: [0, 1, 0],
    fovY: FRAME_FOV,
    lensRadius: 0,
    focusDistance: distance,
    automatic: "outside",
  };
}

/**
 * `x` rounded to four significant digits of `scale` (the scene's size), so that the camera the render
 * prints as flags reads short and, passed back, is exactly the same camera.
 */
export function roundTo(x: number, scale: number): number {
  const digits = Math.min(20, Math.max(0, 3 - Math.floor(Math.log10(Math.max(scale, 1e-12)))));
  return Number(x.toFixed(digits));
}

/**
 * Lights a scene that has no light with a uniform white environment (radiance 1), so that every imported
 * model renders visibly; logs that it did. A light is a punctual light or an emissive material without an
 * emissive texture: textured emission (screens, labels, glow maps) is detail, not lighting.
 */
export function withDefaultLighting(scene: Scene, name: string): Scene {
  const emits = scene.materials.some((m) => Math.max(...m.emission) > 0 && !m.emissiveTexture);
  const env = Math.max(...scene.environment.color) > 0;
  const punctual = (scene.lights ?? []).some((l) => Math.max(...l.intensity) > 0);
  if (emits || env || punctual) return scene;
  log.info("Scene {name} has no lights: lit by a uniform white environment", { name });
  return { ...scene, environment: { color: [1, 1, 1] } };
}
