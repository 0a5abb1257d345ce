import {
  ENVIRONMENT,
  MATERIAL,
  NO_FEATURES,
  type SceneFeatures,
  TEX_REF,
  TEXTURE_SLOTS,
} from "../gpu_layout/mod.ts";
import type { RenderData } from "./types.ts";

/**
 * What render data's sections use, each turning on the kernel code of one feature: the compiler records it
 * in the settings section, and the loader checks a recorded one against the sections (or derives it, for
 * render data written before features were recorded).
 */
export function sceneFeatures(
  data: Pick<RenderData, "materials" | "environment" | "punctual" | "stats">,
): SceneFeatures {
  const f: SceneFeatures = {
    ...NO_FEATURES,
    envMap: hasEnvironmentMap(data.environment),
    punctual: data.punctual !== undefined,
    triangleLights: data.stats.lights > 0,
  };
  const m = MATERIAL.word, t = TEX_REF.word;
  const floats = data.materials;
  const bits = new Uint32Array(floats.buffer, floats.byteOffset, floats.length);
  for (let at = 0; at + MATERIAL.words <= floats.length; at += MATERIAL.words) {
    if (floats[at + m.metallic]! > 0) f.metal = true;
    if (floats[at + m.transmission]! > 0) f.transmission = true;
    if (floats[at + m.specular]! > 0) f.specular = true;
    if (floats[at + m.alpha_cutoff]! >= 0 || floats[at + m.alpha_blend]! > 0) f.alphaMask = true;
    if (
      floats[at + m.clearcoat]! > 0 || floats[at + m.sheen_color]! > 0 ||
      floats[at + m.sheen_color + 1]! > 0 ||
      floats[at + m.sheen_color + 2]! > 0
    ) f.layers = true;
    if (
      floats[at + m.absorption]! > 0 || floats[at + m.absorption + 1]! > 0 ||
      floats[at + m.absorption + 2]! > 0
    ) {
      f.volume = true;
    }
    for (let slot = 0; slot < TEXTURE_SLOTS.length; slot++) {
      const ref = at + m.tex + slot * TEX_REF.words;
      if (bits[ref + t.levels] === 0) continue;
      f.textures = true;
      if (floats[ref + t.tex_coord] === 1) f.uv1 = true;
    }
  }
  return f;
}

/** True when an ENVIRONMENT record has a map. */
export function hasEnvironmentMap(environment: Float32Array): boolean {
  return ENVIRONMENT.get(environment, 0, "has_map") !== 0;
}
