import { CameraNotFoundError, type LoadOptions, SceneNotFoundError } from "../scene/mod.ts";
import { type ParsedArgs, UsageError } from "./args.ts";

/** The scene-loading options common to the commands that load scenes: --camera, --env, --env-intensity. */
export function sceneOptions(values: ParsedArgs["values"]): LoadOptions {
  const intensity = values["env-intensity"];
  const n = typeof intensity === "string" ? Number(intensity) : undefined;
  if (n !== undefined && !(Number.isFinite(n) && n >= 0)) {
    throw new UsageError(`Invalid --env-intensity "${intensity}": must be a number of 0 or more`);
  }
  if (typeof values.camera === "string" && typeof values["camera-file"] === "string") {
    throw new UsageError("Pass --camera NAME or --camera-file FILE, not both");
  }
  const env = typeof values.env === "string" ? values.env : undefined;
  if (env !== undefined && !/\.(hdr|pic)$/i.test(env)) {
    throw new UsageError(`Cannot use environment "${env}": --env takes a Radiance .hdr file`);
  }
  return { camera: typeof values.camera === "string" ? values.camera : undefined, env, envIntensity: n };
}

/** Awaits a scene load, turning a missing scene or environment file and an unknown camera into usage errors. */
export async function asUsage<T>(load: Promise<T>): Promise<T> {
  try {
    return await load;
  } catch (error: unknown) {
    if (error instanceof SceneNotFoundError || error instanceof CameraNotFoundError) {
      throw new UsageError(error.message, { cause: error });
    }
    throw error;
  }
}
