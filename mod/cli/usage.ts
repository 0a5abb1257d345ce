import { DenoiseWeightsError } from "../denoise/mod.ts";
import { ImageTooLargeError } from "../render/mod.ts";
import { CameraNotFoundError, SceneNotFoundError } from "../scene/mod.ts";
import { SceneWatchError } from "../session/mod.ts";
import { UsageError } from "./args.ts";

/**
 * Awaits a session's work, turning what the command line asked wrongly into usage errors (exit 2): a scene,
 * environment or camera name that is not there, missing denoiser weights, a scene folder --watch cannot
 * watch, and an image this machine cannot hold (naming the largest of the same aspect that fits, as flags).
 */
export async function asUsage<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error: unknown) {
    if (
      error instanceof SceneNotFoundError || error instanceof CameraNotFoundError ||
      error instanceof DenoiseWeightsError || error instanceof SceneWatchError
    ) {
      throw new UsageError(error.message, { cause: error });
    }
    if (error instanceof ImageTooLargeError) {
      const { width: w, height: h } = error.largest;
      const flags = w > 0 ? ` (--width ${w} --height ${h})` : "";
      throw new UsageError(`${error.message}${flags}`, { cause: error });
    }
    throw error;
  }
}
