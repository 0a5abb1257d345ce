/**
 * Scenes: the in-memory model, built-in scenes and loading by name or path.
 * @module
 */
export {
  type Camera,
  type Environment,
  type Material,
  material,
  type MaterialKind,
  type Mesh,
  type PunctualLight,
  type Rgb,
  type Scene,
  triangleCount,
  type Vec3,
} from "./types.ts";
export { cornellBox, cornellCamera, quadMesh } from "./cornell.ts";
export { BUILTIN_SCENES, cornellSpheres, furnace } from "./builtin.ts";
export { mulberry32, randomTriangles } from "./random.ts";
export { bumpySphereBox } from "./bench_scene.ts";
export { type SphereOptions, uvSphere } from "./shapes.ts";
export { type LoadOptions, loadScene, SceneNotFoundError } from "./load.ts";
export { type FileRole, readProblem, readSceneFile, SceneFormatError } from "./files.ts";
export { CameraNotFoundError, GltfError, type GltfOptions, loadGltf, SUPPORTED_EXTENSIONS } from "./gltf.ts";
export { loadObj, ObjError } from "./obj.ts";
export { decodeImage, type DecodeImageOptions, ImageError, MAX_TEXTURE_SIDE } from "./image.ts";
export { decodeHdr, encodeHdr, type EnvMap, HdrError, rgbeWord } from "./hdr.ts";
export { frameCamera, sceneBounds, withDefaultLighting } from "./frame.ts";
