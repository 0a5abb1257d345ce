import {
  type Document,
  Logger,
  type Material as GltfMaterial,
  NodeIO,
  type Primitive,
  type Texture as GltfTexture,
  type TextureInfo,
} from "@gltf-transform/core";
import {
  ALL_EXTENSIONS,
  type Clearcoat,
  type EmissiveStrength,
  type IOR,
  type Light,
  type Sheen,
  type Specular,
  type Transform,
  type Transmission,
  type Volume,
} from "@gltf-transform/extensions";
import { getLogger } from "@logtape/logtape";
import { GltfError, readGltfJson } from "./_gltf_read.ts";
import { frameCamera, withDefaultLighting } from "./frame.ts";
import { decodeImage } from "./image.ts";
import { punctualLight } from "./_gltf_lights.ts";
import {
  type Camera,
  type Material,
  material,
  type Mesh,
  type PunctualLight,
  type Rgb,
  type Scene,
  type Texture,
  type TextureRef,
  type Vec3,
} from "./types.ts";

const log = getLogger(["octane", "scene"]);

export { GltfError };

/** Extensions whose effect octane renders. */
export const SUPPORTED_EXTENSIONS = new Set([
  "KHR_materials_emissive_strength",
  "KHR_materials_transmission",
  "KHR_materials_ior",
  "KHR_materials_specular",
  "KHR_materials_clearcoat",
  "KHR_materials_sheen",
  "KHR_materials_volume",
  "KHR_texture_transform",
  "KHR_mesh_quantization",
  "KHR_lights_punctual",
  "KHR_xmp",
  "KHR_xmp_json_ld",
]);

/** Options of {@linkcode loadGltf}. */
export interface GltfOptions {
  /** Use the camera of this name instead of the first one. */
  camera?: string;
}

/** Raised when `--camera NAME` names no camera of the scene. */
export class CameraNotFoundError extends Error {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "CameraNotFoundError";
  }
}

type Mat4 = ArrayLike<number>;

/**
 * Loads a glTF 2.0 scene (`.gltf` with its external files, or `.glb`): every mesh primitive of the default
 * scene's node hierarchy in world space, the first perspective camera (or the named one), PBR
 * metallic-roughness materials with their textures, punctual lights (KHR_lights_punctual, in the units of
 * Blender's importer: see `_gltf_lights.ts`) and the extensions in {@linkcode SUPPORTED_EXTENSIONS}.
 * What it cannot render is listed once as a warning.
 */
export async function loadGltf(path: string, options: GltfOptions = {}): Promise<Scene> {
  // the library's own messages go nowhere: what matters is said once below, through octane's logger
  const io = new NodeIO().registerExtensions(ALL_EXTENSIONS).setLogger(new Logger(Logger.Verbosity.SILENT));
  const json = await readGltfJson(path);
  const used = json.json.extensionsUsed ?? [];
  let doc: Document;
  try {
    doc = await io.readJSON(json);
  } catch (error: unknown) {
    const detail = error instanceof Error ? error.message.split("\n")[0] : String(error);
    throw new GltfError(`Cannot load "${path}": malformed glTF (${detail})`, { cause: error });
  }
  const warnings = new Set<string>();
  const root = doc.getRoot();
  for (const name of used) if (!SUPPORTED_EXTENSIONS.has(name)) warnings.add(`extension ${name}`);
  const scene = root.getDefaultScene() ?? root.listScenes()[0];
  if (!scene) throw new GltfError(`Cannot load "${path}": it has no scene`);

  const textures: Texture[] = [];
  const textureIndex = new Map<GltfTexture, number>();
  const materials: Material[] = [];
  const materialIndex = new Map<GltfMaterial | null, number>();
  const meshes: Mesh[] = [];
  const lights: PunctualLight[] = [];
  let camera: Camera | undefined;
  const cameraNames: string[] = [];

  const textureRef = (
    tex: GltfTexture | null,
    info: TextureInfo | null,
    slot: string,
  ): TextureRef | undefined => {
    if (!tex) return undefined;
    let index = textureIndex.get(tex);
    if (index === undefined) {
      const image = tex.getImage();
      if (!image) {
        warnings.add(`a ${slot} texture without image data`);
        return undefined;
      }
      index = textures.length;
      textures.push(decodeImage(image, tex.getURI() || tex.getName() || `image ${index}`, { scene: path }));
      textureIndex.set(tex, index);
    }
    const transform = info?.getExtension<Transform>("KHR_texture_transform");
    const texCoord = transform?.getTexCoord() ?? info?.getTexCoord() ?? 0;
    if (texCoord > 1) warnings.add(`texture coordinate sets above 1 (set 0 is used instead)`);
    const set = texCoord === 1 ? { texCoord: 1 } : {};
    if (!transform) return { texture: index, ...set };
    const [ox, oy] = transform.getOffset(), r = transform.getRotation(), [sx, sy] = transform.getScale();
    const c = Math.cos(r), s = Math.sin(r);
    return { texture: index, transform: [c * sx, s * sy, ox, -s * sx, c * sy, oy], ...set };
  };

  const toMaterial = (m: GltfMaterial | null): number => {
    let index = materialIndex.get(m);
    if (index !== undefined) return index;
    if (!m) {
      materials.push(material({ name: "default", specular: 1, roughness: 1, color: [1, 1, 1] }));
    } else {
      const base = m.getBaseColorFactor();
      const strength =
        m.getExtension<EmissiveStrength>("KHR_materials_emissive_strength")?.getEmissiveStrength() ?? 1;
      const transmission = m.getExtension<Transmission>("KHR_materials_transmission");
      const specular = m.getExtension<Specular>("KHR_materials_specular");
      const specularPeak = Math.max(...(specular?.getSpecularColorFactor() ?? [1]));
      const mode = m.getAlphaMode();
      const emissive = m.getEmissiveFactor();
      materials.push(material({
        name: m.getName(),
        baseColor: [base[0], base[1], base[2]],
        alpha: base[3],
        metallic: m.getMetallicFactor(),
        roughness: m.getRoughnessFactor(),
        transmission: transmission?.getTransmissionFactor() ?? 0,
        ior: m.getExtension<IOR>("KHR_materials_ior")?.getIOR() ?? 1.5,
        // specularColorFactor's largest channel scales the whole layer, grazing angles too, and the colour
        // is kept relative to it: F0 is the spec's (ior's F0 × colour × factor), while a colour of [0, 0, 0],
        // what Blender's exporter writes for a Principled BSDF with Specular 0, gives a Lambertian surface
        // (the spec would keep a Fresnel rim of `factor` at grazing angles)
        specular: (specular?.getSpecularFactor() ?? 1) * specularPeak,
        emission: [emissive[0] * strength, emissive[1] * strength, emissive[2] * strength] as Rgb,
        alphaMode: mode === "OPAQUE" ? "opaque" : mode === "MASK" ? "mask" : "blend",
        alphaCutoff: mode === "MASK" ? m.getAlphaCutoff() : 0.5,
        baseColorTexture: textureRef(m.getBaseColorTexture(), m.getBaseColorTextureInfo(), "base colour"),
        metallicRoughnessTexture: textureRef(
          m.getMetallicRoughnessTexture(),
          m.getMetallicRoughnessTextureInfo(),
          "metallic-roughness",
        ),
        normalTexture: textureRef(m.getNormalTexture(), m.getNormalTextureInfo(), "normal"),
        normalScale: m.getNormalScale(),
        emissiveTexture: textureRef(m.getEmissiveTexture(), m.getEmissiveTextureInfo(), "emissive"),
        transmissionTexture: textureRef(
          transmission?.getTransmissionTexture() ?? null,
          transmission?.getTransmissionTextureInfo() ?? null,
          "transmission",
        ),
        specularTexture: textureRef(
          specular?.getSpecularTexture() ?? null,
          specular?.getSpecularTextureInfo() ?? null,
          "specular",
        ),
        specularColor: specular && specularPeak > 0
          ? rgb(specular.getSpecularColorFactor()).map((c) => c / specularPeak) as Rgb
          : [1, 1, 1],
        specularColorTexture: textureRef(
          specular?.getSpecularColorTexture() ?? null,
          specular?.getSpecularColorTextureInfo() ?? null,
          "specular colour",
        ),
        ...layerFields(m, textureRef),
        ...volumeFields(m, warnings),
      }));
    }
    index = materials.length - 1;
    materialIndex.set(m, index);
    return index;
  };

  const visit = (node: ReturnType<typeof scene.listChildren>[number]) => {
    const world = node.getWorldMatrix();
    const mesh = node.getMesh();
    if (node.getSkin()) warnings.add("skins (rendered in the bind pose)");
    if (mesh) { for (const prim of mesh.listPrimitives()) addPrimitive(prim, world, mesh.getName()); }
    const light = node.getExtension<Light>("KHR_lights_punctual");
    if (light) {
      if (light.getRange() !== null) warnings.add("light ranges (light falls off with distance squared)");
      lights.push(punctualLight(light, world));
    }
    const cam = node.getCamera();
    if (cam) {
      const name = cam.getName() || node.getName();
      cameraNames.push(name);
      if (cam.getType() !== "perspective") warnings.add("orthographic cameras");
      else if (!camera && (options.camera === undefined || options.camera === name)) {
        camera = cameraFromMatrix(world, cam.getYFov(), cam.getAspectRatio() ?? undefined);
      }
    }
    for (const child of node.listChildren()) visit(child);
  };

  const addPrimitive = (prim: Primitive, world: Mat4, mesh: string) => {
    const mode = prim.getMode();
    if (mode !== 4 && mode !== 5 && mode !== 6) {
      warnings.add("points and lines");
      return;
    }
    if (prim.listTargets().length > 0) warnings.add("morph targets (rendered in the base shape)");
    const pos = prim.getAttribute("POSITION");
    if (!pos) return;
    const count = pos.getCount();
    const positions = new Float32Array(count * 3);
    const nrm = prim.getAttribute("NORMAL");
    const uv = prim.getAttribute("TEXCOORD_0");
    const uv1 = prim.getAttribute("TEXCOORD_1");
    const normals = nrm ? new Float32Array(count * 3) : undefined;
    const uvs = uv ? new Float32Array(count * 2) : undefined;
    const uvs1 = uv1 ? new Float32Array(count * 2) : undefined;
    const normalMatrix = inverseTranspose3(world);
    const e: number[] = [];
    for (let i = 0; i < count; i++) {
      pos.getElement(i, e);
      positions.set(transformPoint(world, e as unknown as Vec3), i * 3);
      if (nrm && normals) {
        nrm.getElement(i, e);
        normals.set(transformNormal(normalMatrix, e as unknown as Vec3), i * 3);
      }
      if (uv && uvs) {
        uv.getElement(i, e);
        uvs[i * 2] = e[0]!, uvs[i * 2 + 1] = e[1]!;
      }
      if (uv1 && uvs1) {
        uv1.getElement(i, e);
        uvs1[i * 2] = e[0]!, uvs1[i * 2 + 1] = e[1]!;
      }
    }
    const idx = prim.getIndices();
    const raw = idx
      ? Array.from({ length: idx.getCount() }, (_, i) => idx.getScalar(i))
      : Array.from({ length: count }, (_, i) => i);
    const past = raw.find((v) => !(v < count));
    if (past !== undefined) {
      throw new GltfError(
        `Cannot load "${path}": a primitive of mesh "${mesh}" uses vertex ${past} of its ${count} (corrupt?)`,
      );
    }
    const tris: number[] = [];
    if (mode === 4) {
      for (let i = 0; i + 2 < raw.length; i += 3) {
        tris.push(raw[i]!, raw[i + 1]!, raw[i + 2]!);
      }
    } else if (mode === 5) {
      for (let i = 0; i + 2 < raw.length; i++) {
        if (i % 2) tris.push(raw[i + 1]!, raw[i]!, raw[i + 2]!);
        else tris.push(raw[i]!, raw[i + 1]!, raw[i + 2]!);
      }
    } else for (let i = 1; i + 1 < raw.length; i++) tris.push(raw[0]!, raw[i]!, raw[i + 1]!);
    // a mirroring transform turns the winding (and so the front face) around
    if (determinant3(world) < 0) {
      for (let i = 0; i < tris.length; i += 3) [tris[i + 1], tris[i + 2]] = [tris[i + 2]!, tris[i + 1]!];
    }
    if (tris.length === 0) return;
    meshes.push({
      positions,
      normals,
      uvs,
      ...(uvs1 ? { uvs1 } : {}),
      indices: new Uint32Array(tris),
      material: toMaterial(prim.getMaterial()),
    });
  };

  for (const node of scene.listChildren()) visit(node);
  if (options.camera !== undefined && !camera) {
    const named = cameraNames.filter(Boolean).map((n) => `"${n}"`);
    const unnamed = cameraNames.length - named.length;
    if (unnamed > 0) named.push(`${unnamed} without a name`);
    throw new CameraNotFoundError(
      `Cannot use camera "${options.camera}" of "${path}": ${
        named.length > 0 ? `its cameras are ${named.join(", ")}` : "this scene has no cameras"
      }`,
    );
  }
  if (meshes.length === 0) throw new GltfError(`Cannot load "${path}": its scene has no triangle meshes`);
  if (warnings.size > 0) {
    log.warn("glTF {path}: not rendered: {what}", { path, what: [...warnings].join("; ") });
  }
  return withDefaultLighting({
    meshes,
    materials,
    textures,
    camera: camera ?? frameCamera(meshes),
    environment: { color: [0, 0, 0] },
    ...(lights.length > 0 ? { lights } : {}),
  }, path);
}

function rgb(c: ArrayLike<number>): Rgb {
  return [c[0]!, c[1]!, c[2]!];
}

type TextureRefOf = (
  tex: GltfTexture | null,
  info: TextureInfo | null,
  slot: string,
) => TextureRef | undefined;

/** The fields of KHR_materials_clearcoat and KHR_materials_sheen, where the material has them. */
function layerFields(m: GltfMaterial, textureRef: TextureRefOf): Partial<Material> {
  const fields: Partial<Material> = {};
  const coat = m.getExtension<Clearcoat>("KHR_materials_clearcoat");
  if (coat) {
    Object.assign(
      fields,
      {
        clearcoat: coat.getClearcoatFactor(),
        clearcoatRoughness: coat.getClearcoatRoughnessFactor(),
        clearcoatTexture: textureRef(coat.getClearcoatTexture(), coat.getClearcoatTextureInfo(), "clearcoat"),
        clearcoatRoughnessTexture: textureRef(
          coat.getClearcoatRoughnessTexture(),
          coat.getClearcoatRoughnessTextureInfo(),
          "clearcoat roughness",
        ),
        clearcoatNormalTexture: textureRef(
          coat.getClearcoatNormalTexture(),
          coat.getClearcoatNormalTextureInfo(),
          "clearcoat normal",
        ),
        clearcoatNormalScale: coat.getClearcoatNormalScale(),
      } satisfies Partial<Material>,
    );
  }
  const sheen = m.getExtension<Sheen>("KHR_materials_sheen");
  if (sheen) {
    Object.assign(
      fields,
      {
        sheenColor: rgb(sheen.getSheenColorFactor()),
        sheenRoughness: sheen.getSheenRoughnessFactor(),
        sheenColorTexture: textureRef(
          sheen.getSheenColorTexture(),
          sheen.getSheenColorTextureInfo(),
          "sheen colour",
        ),
        sheenRoughnessTexture: textureRef(
          sheen.getSheenRoughnessTexture(),
          sheen.getSheenRoughnessTextureInfo(),
          "sheen roughness",
        ),
      } satisfies Partial<Material>,
    );
  }
  return fields;
}

/**
 * The fields of KHR_materials_volume: its attenuation, applied along the path inside the closed mesh
 * (octane traces the real geometry, so thicknessFactor and thicknessTexture, a rasteriser's stand-in for
 * it, are not needed). A thicknessFactor of 0 makes the material thin-walled by the spec: no attenuation.
 */
function volumeFields(m: GltfMaterial, warnings: Set<string>): Partial<Material> {
  const volume = m.getExtension<Volume>("KHR_materials_volume");
  if (!volume || volume.getThicknessFactor() <= 0) return {};
  if (volume.getThicknessTexture()) {
    warnings.add("volume thickness textures (the path length inside the mesh is used)");
  }
  return {
    attenuationColor: rgb(volume.getAttenuationColor()),
    attenuationDistance: volume.getAttenuationDistance(),
  };
}

function transformPoint(m: Mat4, p: Vec3): Vec3 {
  return [
    m[0]! * p[0] + m[4]! * p[1] + m[8]! * p[2] + m[12]!,
    m[1]! * p[0] + m[5]! * p[1] + m[9]! * p[2] + m[13]!,
    m[2]! * p[0] + m[6]! * p[1] + m[10]! * p[2] + m[14]!,
  ];
}

/** The inverse transpose of the upper 3x3 of a column-major 4x4, row-major, for normals. */
function inverseTranspose3(m: Mat4): number[] {
  const [a, b, c, d, e, f, g, h, i] = [m[0]!, m[4]!, m[8]!, m[1]!, m[5]!, m[9]!, m[2]!, m[6]!, m[10]!];
  const A = e * i - f * h, B = -(d * i - f * g), C = d * h - e * g;
  const D = -(b * i - c * h), E = a * i - c * g, F = -(a * h - b * g);
  const G = b * f - c * e, H = -(a * f - c * d), I = a * e - b * d;
  const det = a * A + b * B + c * C || 1;
  // inverse = adjugate / det = cofactorᵀ / det, so its transpose is cofactor / det
  return [A / det, B / det, C / det, D / det, E / det, F / det, G / det, H / det, I / det];
}

function transformNormal(n: number[], v: Vec3): Vec3 {
  const x = n[0]! * v[0] + n[1]! * v[1] + n[2]! * v[2];
  const y = n[3]! * v[0] + n[4]! * v[1] + n[5]! * v[2];
  const z = n[6]! * v[0] + n[7]! * v[1] + n[8]! * v[2];
  const l = Math.hypot(x, y, z) || 1;
  return [x / l, y / l, z / l];
}

function determinant3(m: Mat4): number {
  return m[0]! * (m[5]! * m[10]! - m[9]! * m[6]!) - m[4]! * (m[1]! * m[10]! - m[9]! * m[2]!) +
    m[8]! * (m[1]! * m[6]! - m[5]! * m[2]!);
}

/** A glTF camera looks down its local -Z with +Y up. */
function cameraFromMatrix(m: Mat4, yfov: number, aspectRatio?: number): Camera {
  const position: Vec3 = [m[12]!, m[13]!, m[14]!];
  const forward: Vec3 = [-m[8]!, -m[9]!, -m[10]!];
  const len = Math.hypot(...forward) || 1;
  return {
    position,
    target: [position[0] + forward[0] / len, position[1] + forward[1] / len, position[2] + forward[2] / len],
    up: [m[4]!, m[5]!, m[6]!],
    fovY: yfov * 180 / Math.PI,
    lensRadius: 0,
    focusDistance: 1,
    aspectRatio,
  };
}
