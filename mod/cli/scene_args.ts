import type { LoadOptions } from "../scene/mod.ts";
import { UsageError } from "./args.ts";
import type { RENDER } from "./commands.ts";
import type { FlagValues } from "./flags.ts";

/** The scene-loading flags as parsed. */
export type SceneFlagValues = Pick<
  FlagValues<typeof RENDER>,
  "camera" | "camera-file" | "env" | "env-intensity"
>;

/** The scene-loading options common to the commands that load scenes: --camera, --env, --env-intensity. */
export function sceneOptions(values: SceneFlagValues): LoadOptions {
  if (values.camera !== undefined && values["camera-file"] !== undefined) {
    throw new UsageError("Pass --camera NAME or --camera-file FILE, not both");
  }
  const env = values.env;
  if (env !== undefined && !/\.(hdr|pic)$/i.test(env)) {
    throw new UsageError(`Cannot use environment "${env}": --env takes a Radiance .hdr file`);
  }
  return { camera: values.camera, env, envIntensity: values["env-intensity"] };
}
