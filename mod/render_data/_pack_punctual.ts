// Packs punctual lights into the punctual section: a PUNCTUAL_HEADER record, then a PUNCTUAL record each.
import { PUNCTUAL, PUNCTUAL_HEADER, PUNCTUAL_KIND } from "../gpu_layout/mod.ts";
import type { PunctualLight } from "../scene/types.ts";
import { environmentMeanRadiance } from "./_pack_environment.ts";

/**
 * Packs punctual lights with one pick distribution over every light source by its power (radiant flux): an
 * emissive triangle π · L · area; a point light 4π · I; a spot light its cone's solid angle (to the middle of
 * the falloff) · I; a directional light E · π R² and an environment map its mean radiance · 4π · π R², where
 * R is the radius of the scene's bounding sphere (what reaches the scene). A constant environment is not
 * sampled by next-event estimation and takes no share.
 * @returns undefined when no light has power (the render data then has no punctual section)
 */
export function packPunctual(
  lights: PunctualLight[],
  scene: { trianglePower: number; environment: Float32Array; radius: number },
): Float32Array | undefined {
  const lum = (c: readonly number[]) => 0.2126 * c[0]! + 0.7152 * c[1]! + 0.0722 * c[2]!;
  const r2 = Math.PI * scene.radius * scene.radius;
  const power = (l: PunctualLight) => {
    const i = lum(l.intensity);
    if (l.kind === "point") return 4 * Math.PI * i;
    if (l.kind === "directional") return r2 * i;
    const cosMid = (Math.cos(l.innerConeAngle) + Math.cos(l.outerConeAngle)) / 2;
    return 2 * Math.PI * Math.max(1e-6, 1 - cosMid) * i;
  };
  const used = lights.filter((l) => power(l) > 0 && Number.isFinite(power(l)));
  if (used.length === 0) return undefined;
  const envPower = environmentMeanRadiance(scene.environment) * 4 * Math.PI * r2;
  const powers = used.map(power);
  const punctualPower = powers.reduce((a, b) => a + b, 0);
  const all = envPower + scene.trianglePower + punctualPower;
  const block = new Float32Array(PUNCTUAL_HEADER.words + used.length * PUNCTUAL.words);
  PUNCTUAL_HEADER.write(block, 0, {
    count: used.length,
    env_share: envPower / all,
    triangle_share: scene.trianglePower / all,
    punctual_share: punctualPower / all,
  });
  let cdf = 0;
  used.forEach((l, k) => {
    const p = powers[k]! / punctualPower;
    cdf += p;
    const cosOuter = Math.cos(l.outerConeAngle), cosInner = Math.cos(l.innerConeAngle);
    PUNCTUAL.writeAt(block, PUNCTUAL_HEADER.size + k * PUNCTUAL.size, {
      position: l.position,
      kind: PUNCTUAL_KIND[l.kind],
      direction: l.direction,
      cdf: k === used.length - 1 ? 1 : cdf,
      intensity: l.intensity,
      prob: p,
      cos_outer: cosOuter,
      cos_inner: cosInner,
      inv_band: 1 / Math.max(1e-4, cosInner - cosOuter),
    });
  });
  return block;
}
