import type { OutputFiles } from "./outputs.ts";
import type { SceneRequest } from "./scene.ts";

/** What a render session and a master session both render: the scene, the image and where it goes. */
export interface ImageJob {
  /** The scene and its camera. */
  scene: SceneRequest;
  /** Samples per pixel. */
  spp: number;
  /** Random seed. */
  seed: number;
  /** Longest path. */
  maxDepth: number;
  /** Width as given; undefined: the default, or what the camera's aspect ratio makes of the height. */
  width?: number | undefined;
  /** Height as given (see `width`). */
  height?: number | undefined;
  /** The files to write after every render (checked already). */
  files: OutputFiles;
  /** Seconds of rendering after which the render stops as Ctrl-C stops it, and writes the samples done. */
  timeLimit?: number | undefined;
}
