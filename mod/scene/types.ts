/** A linear RGB triple. */
export type Rgb = [number, number, number];
/** A 3D point or direction. */
export type Vec3 = [number, number, number];

/** How a surface scatters light. */
export type MaterialKind = "diffuse" | "conductor" | "dielectric";

/** A surface material. Every field is linear RGB or a plain number; defaults are in {@linkcode material}. */
export interface Material {
  /** Name for messages; optional. */
  name?: string;
  /** Scattering model. */
  kind: MaterialKind;
  /** Diffuse albedo, conductor reflectance at normal incidence, or dielectric transmission tint. */
  color: Rgb;
  /** Emitted radiance from the front face (the side the triangle's winding faces). */
  emission: Rgb;
  /** GGX roughness in [0, 1] (alpha = roughness²); 0 is a perfect mirror or smooth glass. */
  roughness: number;
  /** Index of refraction of a dielectric. */
  ior: number;
}

/** A triangle mesh: positions (xyz per vertex) and triangle vertex indices, all in world space. */
export interface Mesh {
  /** Vertex positions, 3 floats each. */
  positions: Float32Array;
  /** Three vertex indices per triangle. */
  indices: Uint32Array;
  /** Index into {@linkcode Scene.materials}. */
  material: number;
}

/** A pinhole camera (lensRadius 0) or a thin-lens camera. */
export interface Camera {
  /** Eye position. */
  position: Vec3;
  /** Point looked at. */
  target: Vec3;
  /** Up direction. */
  up: Vec3;
  /** Vertical field of view in degrees. */
  fovY: number;
  /** Lens radius in scene units; 0 gives a pinhole. */
  lensRadius: number;
  /** Distance to the plane in focus (thin lens only). */
  focusDistance: number;
}

/** A constant-colour environment: the radiance of every direction that leaves the scene. */
export interface Environment {
  /** Radiance of the background. */
  color: Rgb;
}

/** A scene ready to compile into render data. */
export interface Scene {
  /** Triangle meshes. */
  meshes: Mesh[];
  /** Materials referenced by the meshes. */
  materials: Material[];
  /** The camera. */
  camera: Camera;
  /** The environment. */
  environment: Environment;
}

/**
 * Builds a material from the fields given, with defaults for the rest (a white Lambertian surface).
 * @example
 * ```ts
 * const glass = material({ kind: "dielectric", ior: 1.5 });
 * ```
 */
export function material(fields: Partial<Material>): Material {
  return { kind: "diffuse", color: [0.8, 0.8, 0.8], emission: [0, 0, 0], roughness: 0, ior: 1.5, ...fields };
}

/** Counts the triangles of a scene. */
export function triangleCount(scene: Scene): number {
  let n = 0;
  for (const m of scene.meshes) n += m.indices.length / 3;
  return n;
}
