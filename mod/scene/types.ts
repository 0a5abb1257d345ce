/** A linear RGB triple. */
export type Rgb = [number, number, number];
/** A 3D point or direction. */
export type Vec3 = [number, number, number];

import type { EnvMap } from "./hdr.ts";

/** Shorthand scattering models for {@linkcode material}; every material is a principled one underneath. */
export type MaterialKind = "diffuse" | "conductor" | "dielectric";

/** An RGBA8 image in memory; how it is read (sRGB colour or linear data) depends on the slot it fills. */
export interface Texture {
  /** Name for messages. */
  name?: string;
  /** Width in texels. */
  width: number;
  /** Height in texels. */
  height: number;
  /** 4 bytes per texel, rows from the top. */
  rgba: Uint8Array;
}

/** A material's use of a texture, with its UV transform (KHR_texture_transform as a 2x3 matrix). */
export interface TextureRef {
  /** Index into {@linkcode Scene.textures}. */
  texture: number;
  /** uv' = [m0 m1 m2; m3 m4 m5] * [u v 1]; identity when absent. */
  transform?: [number, number, number, number, number, number];
  /** Texture coordinate set: 0 (default) or 1 (a mesh's {@linkcode Mesh.uvs1}; set 0 where it has none). */
  texCoord?: number;
}

/**
 * A principled material in the glTF 2.0 metallic-roughness model: a metal lobe, a dielectric specular
 * layer over a diffuse base, and a transmission (glass) lobe.
 */
export interface Material {
  /** Name for messages; optional. */
  name?: string;
  /** Base colour: diffuse albedo, metal reflectance at normal incidence, or glass tint. */
  baseColor: Rgb;
  /** Coverage in [0, 1] (alpha mask only). */
  alpha: number;
  /** 0 dielectric, 1 metal. */
  metallic: number;
  /** GGX roughness in [0, 1] (alpha = roughness²); below 0.01 a perfect mirror or smooth glass. */
  roughness: number;
  /** Fraction of the dielectric part transmitted (KHR_materials_transmission). */
  transmission: number;
  /** Index of refraction (KHR_materials_ior). */
  ior: number;
  /** Strength of the dielectric specular layer (KHR_materials_specular); 0 gives pure Lambertian. */
  specular: number;
  /** Emitted radiance from the front face (emissive factor times strength). */
  emission: Rgb;
  /**
   * "opaque"; "mask": surfaces whose alpha is below alphaCutoff are not there; "blend": alpha is coverage, the
   * surface lets 1 - alpha of the light through (as Cycles renders a glTF BLEND material).
   */
  alphaMode: "opaque" | "mask" | "blend";
  /** Alpha cutoff of "mask". */
  alphaCutoff: number;
  /** Multiplies baseColor and alpha (sRGB). */
  baseColorTexture?: TextureRef;
  /** G = roughness, B = metallic multipliers (linear). */
  metallicRoughnessTexture?: TextureRef;
  /** Tangent-space normal map (linear). */
  normalTexture?: TextureRef;
  /** Scale of the normal map's x and y. */
  normalScale: number;
  /** Multiplies emission (sRGB). */
  emissiveTexture?: TextureRef;
  /** Strength of a clear dielectric coat (IOR 1.5) over everything else (KHR_materials_clearcoat); 0 none. */
  clearcoat?: number;
  /** GGX roughness of the coat (alpha = roughness²). */
  clearcoatRoughness?: number;
  /** R multiplies clearcoat (linear). */
  clearcoatTexture?: TextureRef;
  /** G multiplies clearcoatRoughness (linear). */
  clearcoatRoughnessTexture?: TextureRef;
  /** Tangent-space normal map of the coat (linear); without it the coat follows the interpolated normal. */
  clearcoatNormalTexture?: TextureRef;
  /** Scale of the coat normal map's x and y (default 1). */
  clearcoatNormalScale?: number;
  /** Colour of the sheen layer (KHR_materials_sheen, Charlie distribution); black (default) for none. */
  sheenColor?: Rgb;
  /** Roughness of the sheen (alpha = roughness²). */
  sheenRoughness?: number;
  /** RGB multiplies sheenColor (sRGB). */
  sheenColorTexture?: TextureRef;
  /** A multiplies sheenRoughness (linear). */
  sheenRoughnessTexture?: TextureRef;
  /**
   * Colour that white light reaches after attenuationDistance inside a transmissive volume
   * (KHR_materials_volume, Beer–Lambert along the path inside a closed mesh); default white (none).
   */
  attenuationColor?: Rgb;
  /** Distance at which light inside the volume has attenuationColor (default Infinity: no absorption). */
  attenuationDistance?: number;
  /** R multiplies transmission (linear). */
  transmissionTexture?: TextureRef;
  /** A multiplies specular (linear). */
  specularTexture?: TextureRef;
  /** Tints the dielectric specular layer's reflectance at normal incidence (default white). */
  specularColor?: Rgb;
  /** RGB multiplies specularColor (sRGB). */
  specularColorTexture?: TextureRef;
}

/** A triangle mesh in world space. */
export interface Mesh {
  /** Vertex positions, 3 floats each. */
  positions: Float32Array;
  /** Vertex normals, 3 floats each (optional: flat shading without). */
  normals?: Float32Array;
  /** Texture coordinates, 2 floats each (optional). */
  uvs?: Float32Array;
  /** Second texture coordinate set (glTF TEXCOORD_1), 2 floats each (optional). */
  uvs1?: Float32Array;
  /** Three vertex indices per triangle. */
  indices: Uint32Array;
  /** Index into {@linkcode Scene.materials}. */
  material: number;
}

/**
 * A pinhole camera (lensRadius 0) or a thin-lens camera: the one camera type of the application, from the
 * scene loaders to the live view. Its JSON form (`--camera-file`, the live view's API) is `CameraJson` in
 * render_data/camera.ts; the GPU's 16-float block is packed from it by `cameraBlock`.
 */
export interface Camera {
  /** Eye position. */
  position: Vec3;
  /** Point looked at. */
  target: Vec3;
  /** Up direction. */
  up: Vec3;
  /** Vertical field of view, in degrees (as glTF's yfov, converted; the JSON form calls it `fov`). */
  fovY: number;
  /** Lens radius in scene units; 0 gives a pinhole. */
  lensRadius: number;
  /** Distance to the plane in focus (thin lens only). */
  focusDistance: number;
  /** Width over height of the image the camera was made for (glTF's `aspectRatio`), if it says. */
  aspectRatio?: number;
  /**
   * Set where the scene has no camera and octane placed one: "outside" frames it as an object, "inside" is
   * the interior camera (`placeCamera` in render_data/interior.ts, the step after compiling, looks for rooms
   * and may turn an "outside" camera into this).
   */
  automatic?: "outside" | "inside";
}

/** The radiance of every direction that leaves the scene: a constant colour or an equirectangular map. */
export interface Environment {
  /** Radiance of the background where there is no map. */
  color: Rgb;
  /** Multiplies the colour or the map (default 1). */
  intensity?: number;
  /** An equirectangular map (Radiance .hdr), importance sampled. */
  map?: EnvMap;
}

/**
 * A punctual (delta) light of KHR_lights_punctual, in octane's radiometric units: it has no area, so only
 * next-event estimation finds it (rays never hit it).
 */
export interface PunctualLight {
  /** Name for messages; optional. */
  name?: string;
  /** "point" and "spot" sit at `position`; "directional" shines along `direction` from infinitely far. */
  kind: "point" | "spot" | "directional";
  /** World position (point, spot). */
  position: Vec3;
  /** World direction the light shines along (spot axis, directional travel); unit length. */
  direction: Vec3;
  /**
   * Radiant intensity in W/sr for point and spot (on the spot's axis), irradiance in W/m² on a surface
   * facing a directional light; per channel (colour times strength).
   */
  intensity: Rgb;
  /** Spot: angle from the axis, in radians, inside which the light is at full intensity. */
  innerConeAngle: number;
  /** Spot: angle from the axis, in radians, outside which there is no light. */
  outerConeAngle: number;
}

/** A scene ready to compile into render data. */
export interface Scene {
  /** Triangle meshes. */
  meshes: Mesh[];
  /** Materials referenced by the meshes. */
  materials: Material[];
  /** Textures referenced by the materials. */
  textures: Texture[];
  /** The camera. */
  camera: Camera;
  /** The environment. */
  environment: Environment;
  /** Punctual lights (KHR_lights_punctual); none when absent. */
  lights?: PunctualLight[];
}

/** Fields of {@linkcode material}: a principled material's fields, or a shorthand kind with `color`. */
export type MaterialFields = Partial<Material> & {
  /** Shorthand model: sets metallic (conductor) or transmission (dielectric) and specular. */
  kind?: MaterialKind;
  /** Shorthand for baseColor. */
  color?: Rgb;
};

/**
 * Builds a material from the fields given, with defaults for the rest (a white Lambertian surface).
 * @example
 * ```ts
 * const glass = material({ kind: "dielectric", ior: 1.5 });
 * const gold = material({ kind: "conductor", color: [1, 0.71, 0.29], roughness: 0.3 });
 * ```
 */
export function material(fields: MaterialFields): Material {
  const { kind, color, ...rest } = fields;
  const shorthand: Partial<Material> = kind === "conductor"
    ? { metallic: 1, specular: 1 }
    : kind === "dielectric"
    ? { transmission: 1, specular: 1, baseColor: [1, 1, 1] }
    : {};
  return {
    baseColor: [0.8, 0.8, 0.8],
    alpha: 1,
    metallic: 0,
    roughness: 0,
    transmission: 0,
    ior: 1.5,
    specular: 0,
    emission: [0, 0, 0],
    alphaMode: "opaque",
    alphaCutoff: 0.5,
    normalScale: 1,
    ...shorthand,
    ...(color ? { baseColor: color } : {}),
    ...rest,
  };
}

/** Counts the triangles of a scene. */
export function triangleCount(scene: Scene): number {
  let n = 0;
  for (const m of scene.meshes) n += m.indices.length / 3;
  return n;
}
