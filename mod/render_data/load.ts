import { ENVIRONMENT } from "../gpu_layout/mod.ts";
import {
  CameraNotFoundError,
  type LoadOptions,
  loadScene,
  readProblem,
  SceneNotFoundError,
} from "../scene/mod.ts";
import { withCamera } from "./camera.ts";
import { compileScene } from "./compile.ts";
import { placeCamera } from "./interior.ts";
import type { RenderData } from "./types.ts";
import { decodeRenderData } from "./ocrd.ts";
import { RenderDataError } from "./sections.ts";

/**
 * Render data from a built-in scene name, a scene file (compiled here, then its automatic camera placed: see
 * `placeCamera`) or a compiled `.ocrd` file (read as is: no scene or texture files are needed, nothing is
 * written; `options` apply to scene files only).
 * @throws {SceneNotFoundError} when the name is neither a built-in scene nor a file
 */
export async function loadRenderData(nameOrPath: string, options: LoadOptions = {}): Promise<RenderData> {
  if (nameOrPath.toLowerCase().endsWith(".ocrd")) {
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(nameOrPath);
    } catch (error: unknown) {
      if (error instanceof Deno.errors.NotFound) throw new SceneNotFoundError(nameOrPath, { cause: error });
      const problem = readProblem(error);
      if (problem === undefined) throw error;
      throw new RenderDataError(`Cannot load "${nameOrPath}": it ${problem}`, { cause: error });
    }
    const data = decodeRenderData(bytes, nameOrPath);
    if (options.env !== undefined) {
      throw new RenderDataError(
        `Cannot apply --env to "${nameOrPath}": the environment is compiled in; recompile with --env`,
      );
    }
    if (options.camera !== undefined) {
      throw new CameraNotFoundError(
        `Cannot use camera "${options.camera}" with "${nameOrPath}": its camera is compiled in; recompile with --camera`,
      );
    }
    if (options.envIntensity !== undefined) {
      ENVIRONMENT.write(data.environment, 0, { intensity: options.envIntensity });
    }
    return data;
  }
  const scene = await loadScene(nameOrPath, options);
  const data = compileScene(scene);
  const camera = placeCamera(scene.camera, data);
  return camera === scene.camera ? data : withCamera(data, camera);
}
