// The path tracer's Params block: the image's fields, written once per render call, and each dispatch's
// region and samples.
import { CAMERA, ENVIRONMENT, PARAM_FLAGS, PARAMS, PUNCTUAL_HEADER } from "../gpu_layout/mod.ts";
import type { RenderData } from "../render_data/mod.ts";
import type { RenderSettings } from "./types.ts";

/** Bounce at which Russian roulette starts. */
const RR_DEPTH = 3;

/**
 * The Params block of an image of `data` with `settings`, with the region and sample fields left for each
 * dispatch ({@linkcode setDispatch}).
 */
export function imageParams(data: RenderData, settings: RenderSettings): ArrayBuffer {
  const { width, height } = settings;
  const params = PARAMS.alloc(1);
  const hasMap = data.features.envMap;
  // the environment's share of next-event estimation: by power with punctual lights (the loader refuses a
  // share without a map; a second guard, as the GPU would search it), else half with emissive triangles
  let envShare = hasMap ? (data.stats.lights > 0 ? 0.5 : 1) : 0;
  let triShare = 1;
  let punctCount = 0;
  if (data.punctual) {
    const header = PUNCTUAL_HEADER.read(data.punctual, 0);
    punctCount = header.count;
    // the share of the non-environment picks that go to emissive triangles
    triShare = header.env_share < 1 ? Math.min(1, header.triangle_share / (1 - header.env_share)) : 0;
    envShare = hasMap ? header.env_share : 0;
  }
  PARAMS.write(params, 0, {
    width,
    height,
    seed: settings.seed >>> 0,
    max_depth: settings.maxDepth,
    rr_depth: RR_DEPTH,
    light_count: data.stats.lights,
    punct_count: punctCount,
    tri_share: triShare,
    flags: settings.strategy === "bsdf" ? PARAM_FLAGS.bsdfOnly : 0,
    camera: { ...CAMERA.read(data.camera, 0), aspect: width / height },
    env: { ...ENVIRONMENT.read(data.environment, 0), nee_share: envShare },
  });
  return params;
}

/** One dispatch's part of the Params block: the region's rows and the samples it renders. */
export interface DispatchFields {
  /** Left column. */
  x: number;
  /** Top row. */
  y: number;
  /** Width. */
  width: number;
  /** Rows. */
  height: number;
  /** First sample index. */
  sampleStart: number;
  /** Samples per pixel. */
  sampleCount: number;
  /** Accumulator index of the region's first pixel. */
  accumBase: number;
}

/** Writes one dispatch's fields into an image's Params block. */
export function setDispatch(params: ArrayBuffer, d: DispatchFields): void {
  PARAMS.write(params, 0, {
    region_x: d.x,
    region_y: d.y,
    region_w: d.width,
    region_h: d.height,
    sample_start: d.sampleStart,
    sample_count: d.sampleCount,
    accum_base: d.accumBase,
  });
}
