import {
  cameraOf,
  compileScene,
  loadRenderData,
  placeCamera,
  type RenderData,
  withCamera,
} from "../render_data/mod.ts";
import { type Camera, type LoadOptions, loadScene } from "../scene/mod.ts";
import { applyCameraOverrides, type CameraOverrides, overridesAny, targetDistance } from "./camera.ts";

/** What to render and through which camera. */
export interface SceneRequest {
  /** A built-in scene's name, a scene file (.gltf, .glb, .obj) or compiled render data (.ocrd). */
  name: string;
  /** glTF camera by name, environment map and intensity. */
  load?: LoadOptions;
  /** A camera that replaces the scene's (a camera file's), before `overrides`. */
  camera?: Camera;
  /** Parts of the camera to replace: pose, field of view, lens. */
  overrides?: CameraOverrides;
}

/** Render data and the camera it is seen through. */
export interface OpenedScene {
  /** The render data, its camera section that of `camera`. */
  data: RenderData;
  /**
   * The camera in full precision, as the scene, its automatic placement, the camera file or the overrides
   * made it (so that printed back as flags it reproduces the same image); for a compiled .ocrd without a
   * camera of the request's, read back from its single-precision block.
   */
  camera: Camera;
}

/**
 * Loads and compiles a scene (an .ocrd is read as it is), places its automatic camera (see `placeCamera`),
 * then applies the request's camera and overrides: the steps in that order, each explicit.
 * @throws {SceneNotFoundError} for a scene or environment file that is not there
 * @throws {CameraNotFoundError} for a camera name the scene lacks
 */
export async function openScene(request: SceneRequest): Promise<OpenedScene> {
  let data: RenderData, base: Camera;
  if (request.name.toLowerCase().endsWith(".ocrd")) {
    data = await loadRenderData(request.name, request.load);
    base = cameraOf(data);
  } else {
    const scene = await loadScene(request.name, request.load);
    data = compileScene(scene);
    base = placeCamera(scene.camera, data);
    if (base !== scene.camera) data = withCamera(data, base);
  }
  const overrides = request.overrides ?? {};
  if (!request.camera && !overridesAny(overrides)) return { data, camera: base };
  // the default focus of the scene's own camera: the depth of the scene's centre along its view
  const depth = request.camera ? undefined : centreDepth(data);
  const camera = applyCameraOverrides(request.camera ?? base, overrides, depth);
  return { data: withCamera(data, camera), camera };
}

/** The depth of the bounds' centre along the camera's view (the default focus of the scene's camera). */
function centreDepth(data: RenderData): number | undefined {
  const d = targetDistance(cameraOf(data));
  return d > 0 ? d : undefined;
}
