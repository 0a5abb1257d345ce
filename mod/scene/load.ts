import { readProblem, SceneFormatError } from "./files.ts";
import { CameraNotFoundError, loadGltf } from "./gltf.ts";
import { decodeHdr } from "./hdr.ts";
import { loadObj } from "./obj.ts";
import { BUILTIN_SCENES } from "./builtin.ts";
import type { Scene } from "./types.ts";

/** Options of {@linkcode loadScene}. */
export interface LoadOptions {
  /** glTF: the camera to use, by name (default: the first); an error for scenes without named cameras. */
  camera?: string;
  /** A Radiance .hdr equirectangular map to light the scene with, replacing its environment. */
  env?: string;
  /** Multiplies the environment (colour or map). */
  envIntensity?: number;
}

/** Raised when a scene (or environment) argument names neither a built-in scene nor an existing file. */
export class SceneNotFoundError extends Error {
  /** Creates the error for `name`. */
  constructor(name: string, options?: ErrorOptions & { what?: "environment" }) {
    const builtin = Object.keys(BUILTIN_SCENES).join(", ");
    super(
      options?.what === "environment"
        ? `Cannot open environment "${name}": no such file`
        : `Cannot open scene "${name}": no such file and no built-in scene of that name (built-in: ${builtin})`,
      options,
    );
    this.name = "SceneNotFoundError";
  }
}

/**
 * Loads a scene by built-in name or file path.
 * @throws {SceneNotFoundError} when neither exists
 * @throws {SceneFormatError} when the file's format cannot be loaded
 */
export async function loadScene(nameOrPath: string, options: LoadOptions = {}): Promise<Scene> {
  const scene = await loadSceneFile(nameOrPath, options);
  if (options.env !== undefined) {
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(options.env);
    } catch (error: unknown) {
      if (error instanceof Deno.errors.NotFound) {
        throw new SceneNotFoundError(options.env, { cause: error, what: "environment" });
      }
      const problem = readProblem(error);
      if (problem === undefined) throw error;
      throw new SceneFormatError(`Cannot load environment "${options.env}": it ${problem}`, { cause: error });
    }
    scene.environment = { color: [0, 0, 0], map: decodeHdr(bytes, options.env) };
  }
  if (options.envIntensity !== undefined) {
    scene.environment = { ...scene.environment, intensity: options.envIntensity };
  }
  return scene;
}

async function loadSceneFile(nameOrPath: string, options: LoadOptions): Promise<Scene> {
  const builtin = BUILTIN_SCENES[nameOrPath];
  if (builtin) {
    if (options.camera !== undefined) {
      throw new CameraNotFoundError(
        `Cannot use camera "${options.camera}" of built-in scene "${nameOrPath}": it has no named cameras`,
      );
    }
    return builtin();
  }
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(nameOrPath);
  } catch (error: unknown) {
    if (error instanceof Deno.errors.NotFound) throw new SceneNotFoundError(nameOrPath, { cause: error });
    throw error;
  }
  if (!info.isFile) throw new SceneFormatError(`Cannot open scene "${nameOrPath}": it is not a file`);
  const ext = nameOrPath.toLowerCase().split(".").pop();
  if (ext === "obj") {
    if (options.camera !== undefined) {
      throw new CameraNotFoundError(
        `Cannot use camera "${options.camera}" of "${nameOrPath}": this scene has no cameras (OBJ files carry none)`,
      );
    }
    return await loadObj(nameOrPath);
  }
  if (ext === "gltf" || ext === "glb") return await loadGltf(nameOrPath, options);
  throw new SceneFormatError(
    ext === "ocrd"
      ? `Cannot load scene "${nameOrPath}": it is compiled render data, not a scene; render it as it is`
      : `Cannot load scene "${nameOrPath}": unknown format ".${ext}"; use .gltf, .glb, .obj or .ocrd`,
  );
}
