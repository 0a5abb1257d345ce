import {
  CameraError,
  type CameraJson,
  cameraOf,
  compileScene,
  loadRenderData,
  parseCamera,
  type RenderData,
  withCamera,
} from "../render_data/mod.ts";
import { loadScene } from "../scene/mod.ts";
import { UsageError } from "./args.ts";
import type { Flag, FlagValues } from "./flags.ts";
import type { RENDER } from "./commands.ts";
import { asUsage, type SceneFlagValues, sceneOptions } from "./scene_args.ts";

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

type V3 = [number, number, number];

/** What the camera flags ask for, checked. */
export interface CameraFlags {
  /** --look-from, --look-at and --up, when --look-from and --look-at are given. */
  pose?: { position: V3; target: V3; up: V3 };
  /** --fov in degrees. */
  fov?: number;
  /** --aperture: lens radius. */
  aperture?: number;
  /** --focus-distance. */
  focusDistance?: number;
}

function vec3Flag(value: string | undefined, name: string): V3 | undefined {
  if (value === undefined) return undefined;
  const parts = value.split(",");
  const numbers = parts.map((p) => p.trim() === "" ? NaN : Number(p));
  if (parts.length !== 3 || !numbers.every(Number.isFinite)) {
    throw new UsageError(`Invalid --${name} "${value}": must be three numbers X,Y,Z, like 0,1.6,4`);
  }
  return numbers as V3;
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
export function cameraFlags(values: CameraFlagValues, given: { up: boolean }): CameraFlags {
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
  const flags: CameraFlags = {};
  if (from && at) {
    for (const other of ["camera", "camera-file"] as const) {
      if (values[other] !== undefined) {
        throw new UsageError(`Pass --look-from/--look-at or --${other}, not both: either places the camera`);
      }
    }
    const pose = { position: from, target: at, up };
    try {
      parseCamera({ ...pose, fov: fov ?? 40 });
    } catch (error: unknown) {
      if (!(error instanceof CameraError)) throw error;
      const why = error.message.replace(/"position"/g, "--look-from").replace(/"target"/g, "--look-at")
        .replace(/"up"/g, "--up");
      throw new UsageError(`Cannot place the camera: ${why}`);
    }
    flags.pose = pose;
  }
  if (fov !== undefined) flags.fov = fov;
  if (aperture !== undefined) flags.aperture = aperture;
  if (focusDistance !== undefined) flags.focusDistance = focusDistance;
  return flags;
}

/** Whether any camera flag was given. */
function any(flags: CameraFlags): boolean {
  return Object.keys(flags).length > 0;
}

/** The distance from the camera to its target. */
function targetDistance(c: CameraJson): number {
  return Math.hypot(...c.target.map((t, i) => t - c.position[i]!));
}

/**
 * The camera the flags make of `base` (the camera otherwise chosen). `depth` gives the default focus
 * distance where `base` has no meaningful target (the scene's own camera).
 */
export function applyCameraFlags(base: CameraJson, flags: CameraFlags, depth?: number): CameraJson {
  const camera: CameraJson = flags.pose
    ? { ...flags.pose, fov: base.fov }
    : { position: base.position, target: base.target, up: base.up, fov: base.fov };
  if (!flags.pose && (base.lensRadius ?? 0) > 0) {
    camera.lensRadius = base.lensRadius!;
    camera.focusDistance = base.focusDistance || targetDistance(base);
  }
  if (flags.fov !== undefined) camera.fov = flags.fov;
  if (flags.aperture !== undefined) {
    if (flags.aperture > 0) {
      camera.lensRadius = flags.aperture;
      camera.focusDistance = flags.focusDistance ??
        (flags.pose ? undefined : camera.focusDistance) ??
        (flags.pose || depth === undefined ? targetDistance(camera) : depth);
    } else {
      delete camera.lensRadius;
      delete camera.focusDistance;
    }
  }
  return camera;
}

/** A number as the flags print it: the shortest text that reads back as the same double. */
function num(x: number): string {
  return String(Object.is(x, -0) ? 0 : x);
}

/**
 * The camera as flags that place it again: `--look-from … --look-at … --up … --fov …`, and `--aperture …
 * --focus-distance …` for a thin lens.
 */
export function cameraAsFlags(camera: CameraJson): string {
  const v = (a: readonly number[]) => a.map(num).join(",");
  const lens = (camera.lensRadius ?? 0) > 0
    ? ` --aperture ${num(camera.lensRadius!)} --focus-distance ${num(camera.focusDistance!)}`
    : "";
  return `--look-from ${v(camera.position)} --look-at ${v(camera.target)} --up ${v(camera.up)} --fov ${
    num(camera.fov)
  }${lens}`;
}

/** Render data and the camera it is seen through. */
export interface PlacedScene {
  /** The render data, its camera section set by the flags. */
  data: RenderData;
  /**
   * The camera as a scene file or the flags gave it, in full precision (so that its flags reproduce the
   * same image); for a compiled .ocrd without camera flags, read back from its single-precision block.
   */
  camera: CameraJson;
}

/** The depth of the bounds' centre along the camera's view (the default focus of the scene's camera). */
function centreDepth(data: RenderData): number | undefined {
  const c = cameraOf(data);
  const d = targetDistance(c);
  return d > 0 ? d : undefined;
}

/**
 * Loads SCENE as render, compile and master do (a built-in name, a scene file or a .ocrd) and places its
 * camera by --camera NAME, --camera-file and the camera flags.
 * @throws {UsageError} for a missing scene, an unknown camera name, a bad camera file or camera flag
 */
export async function loadPlaced(
  sceneName: string,
  values: CameraFlagValues & SceneFlagValues,
  given: ReadonlySet<string>,
): Promise<PlacedScene> {
  const options = sceneOptions(values);
  const flags = cameraFlags(values, { up: given.has("up") });
  let data: RenderData, base: CameraJson;
  if (sceneName.toLowerCase().endsWith(".ocrd")) {
    data = await asUsage(loadRenderData(sceneName, options));
    base = cameraOf(data);
  } else {
    const scene = await asUsage(loadScene(sceneName, options));
    data = compileScene(scene);
    // compiling may place the automatic camera anew; the camera it used, where it says, is the one seen
    const c = data.view ?? scene.camera;
    base = { position: c.position, target: c.target, up: c.up, fov: c.fovY };
    if (c.lensRadius > 0) Object.assign(base, { lensRadius: c.lensRadius, focusDistance: c.focusDistance });
  }
  const file = await cameraFile(values);
  if (file) base = file;
  if (!file && !any(flags)) return { data, camera: base };
  const camera = applyCameraFlags(base, flags, file ? undefined : centreDepth(data));
  return { data: withCamera(data, camera), camera };
}

/** The camera of --camera-file FILE (JSON: position, target, up, fov), if given. */
async function cameraFile(values: CameraFlagValues): Promise<CameraJson | undefined> {
  const file = values["camera-file"];
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
