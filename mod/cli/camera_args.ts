import { CameraError, checkPose, parseCamera } from "../render_data/mod.ts";
import type { Camera, Vec3 } from "../scene/mod.ts";
import type { CameraOverrides, SceneRequest } from "../session/mod.ts";
import { UsageError } from "./args.ts";
import type { Flag, FlagValues } from "./flags.ts";
import type { RENDER } from "./commands.ts";
import { type SceneFlagValues, sceneOptions } from "./scene_args.ts";

/**
 * The camera placement flags of render, compile and master. --look-from/--look-at (with --up) replace the
 * pose of the camera otherwise chosen (the scene's, or the automatic one); --fov, --aperture and
 * --focus-distance replace only their part of whichever camera is chosen, --camera NAME and --camera-file
 * included.
 */
export const CAMERA_FLAGS = [
  {
    name: "look-from",
    value: "X,Y,Z",
    defaultText: "the scene's camera",
    description: "place the camera here, looking at --look-at (both or neither; not with --camera or " +
      "--camera-file)",
  },
  { name: "look-at", value: "X,Y,Z", defaultText: "none", description: "the point the camera looks at" },
  {
    name: "up",
    value: "X,Y,Z",
    default: "0,1,0",
    description: "with --look-from: the direction that is up in the image",
  },
  {
    name: "fov",
    value: "DEGREES",
    defaultText: "the camera's",
    description: "vertical field of view, above 0 and below 180; alone it changes only the field of view " +
      "of the camera otherwise chosen",
  },
  {
    name: "aperture",
    value: "R",
    defaultText: "0 (pinhole)",
    description: "lens radius in scene units, for depth of field (0: everything sharp)",
  },
  {
    name: "focus-distance",
    value: "D",
    defaultText: "to the look-at point (the camera file's target), else to the scene's centre",
    description: "distance to the plane in focus, with --aperture",
  },
] as const satisfies readonly Flag[];

/** The flags that place the camera, as parsed. */
export type CameraFlagValues = Pick<
  FlagValues<typeof RENDER>,
  "camera" | "camera-file" | "look-from" | "look-at" | "up" | "fov" | "aperture" | "focus-distance"
>;

function vec3Flag(value: string | undefined, name: string): Vec3 | undefined {
  if (value === undefined) return undefined;
  const parts = value.split(",");
  const numbers = parts.map((p) => p.trim() === "" ? NaN : Number(p));
  if (parts.length !== 3 || !numbers.every(Number.isFinite)) {
    throw new UsageError(`Invalid --${name} "${value}": must be three numbers X,Y,Z, like 0,1.6,4`);
  }
  return numbers as Vec3;
}

function numberFlag(
  value: string | undefined,
  name: string,
  ok: (x: number) => boolean,
  rule: string,
): number | undefined {
  if (value === undefined) return undefined;
  const x = value.trim() === "" ? NaN : Number(value);
  if (!Number.isFinite(x) || !ok(x)) throw new UsageError(`Invalid --${name} "${value}": must be ${rule}`);
  return x;
}

/**
 * Checks the camera flags (before any scene is loaded): numbers, pairs and conflicts.
 * @throws {UsageError} one line naming the flag
 */
export function cameraFlags(values: CameraFlagValues, given: { up: boolean }): CameraOverrides {
  const from = vec3Flag(values["look-from"], "look-from");
  const at = vec3Flag(values["look-at"], "look-at");
  const up = vec3Flag(values.up, "up")!;
  const fov = numberFlag(values.fov, "fov", (x) => x > 0 && x < 180, "degrees above 0 and below 180");
  const aperture = numberFlag(values.aperture, "aperture", (x) => x >= 0, "a lens radius of 0 or more");
  const focusDistance = numberFlag(
    values["focus-distance"],
    "focus-distance",
    (x) => x > 0,
    "a distance above 0",
  );
  if ((from === undefined) !== (at === undefined)) {
    throw new UsageError(
      from ? "--look-from needs --look-at X,Y,Z: the point to look at" : "--look-at needs --look-from X,Y,Z",
    );
  }
  if (given.up && !from) throw new UsageError("--up goes with --look-from and --look-at");
  if (focusDistance !== undefined && aperture === undefined) {
    throw new UsageError("--focus-distance needs --aperture R: a pinhole (aperture 0) is sharp everywhere");
  }
  const flags: CameraOverrides = {};
  if (from && at) {
    for (const other of ["camera", "camera-file"] as const) {
      if (values[other] !== undefined) {
        throw new UsageError(`Pass --look-from/--look-at or --${other}, not both: either places the camera`);
      }
    }
    const pose = { position: from, target: at, up };
    try {
      checkPose(pose);
    } catch (error: unknown) {
      if (!(error instanceof CameraError)) throw error;
      const why = error.message.replace(/"position"/g, "--look-from").replace(/"target"/g, "--look-at")
        .replace(/"up"/g, "--up");
      throw new UsageError(`Cannot place the camera: ${why}`);
    }
    flags.pose = pose;
  }
  if (fov !== undefined) flags.fovY = fov;
  if (aperture !== undefined) flags.aperture = aperture;
  if (focusDistance !== undefined) flags.focusDistance = focusDistance;
  return flags;
}

/** A number as the flags print it: the shortest text that reads back as the same double. */
function num(x: number): string {
  return String(Object.is(x, -0) ? 0 : x);
}

/**
 * The camera as flags that place it again: `--look-from … --look-at … --up … --fov …`, and `--aperture …
 * --focus-distance …` for a thin lens.
 */
export function cameraAsFlags(camera: Camera): string {
  const v = (a: readonly number[]) => a.map(num).join(",");
  const lens = camera.lensRadius > 0
    ? ` --aperture ${num(camera.lensRadius)} --focus-distance ${num(camera.focusDistance)}`
    : "";
  return `--look-from ${v(camera.position)} --look-at ${v(camera.target)} --up ${v(camera.up)} --fov ${
    num(camera.fovY)
  }${lens}`;
}

/**
 * What SCENE and the scene and camera flags of render, compile and master ask for: the scene, its loading
 * options, --camera-file's camera (read and checked now) and the camera flags, for the session's
 * `openScene`.
 * @throws {UsageError} for a bad camera flag, a conflict, or a camera file that cannot be read or used
 */
export async function sceneRequest(
  name: string,
  values: CameraFlagValues & SceneFlagValues,
  given: ReadonlySet<string>,
): Promise<SceneRequest> {
  const load = sceneOptions(values);
  const overrides = cameraFlags(values, { up: given.has("up") });
  const camera = await cameraFile(values["camera-file"]);
  return { name, load, overrides, ...(camera ? { camera } : {}) };
}

/** The camera of --camera-file FILE (JSON: position, target, up, fov), if given. */
async function cameraFile(file: string | undefined): Promise<Camera | undefined> {
  if (file === undefined) return undefined;
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (error: unknown) {
    const why = error instanceof Deno.errors.NotFound ? "file not found" : String(error);
    throw new UsageError(`Cannot read --camera-file "${file}": ${why}`);
  }
  try {
    return parseCamera(JSON.parse(text));
  } catch (error: unknown) {
    if (!(error instanceof CameraError || error instanceof SyntaxError)) throw error;
    throw new UsageError(`Cannot use --camera-file "${file}": ${error.message}`);
  }
}
