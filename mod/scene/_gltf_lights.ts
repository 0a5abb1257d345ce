import type { Light } from "@gltf-transform/extensions";
import type { PunctualLight, Rgb, Vec3 } from "./types.ts";

/** Lumens per watt at 555 nm: the factor Blender's glTF importer and exporter convert photometric units by. */
export const WATTS_TO_LUMENS = 683;

/**
 * Converts a KHR_lights_punctual light on a node (column-major world matrix) into octane's radiometric
 * units, the way Blender's glTF importer reads it in its default "Standard" lighting mode, so that octane
 * renders a glTF exported from Blender as Cycles renders the `.blend`:
 *
 * - point and spot: glTF `intensity` is luminous intensity I_v in candela (lm/sr). Blender's importer makes
 *   a lamp of power P = I_v · 4π / 683 W (and its exporter writes I_v = P / 4π · 683). Cycles gives a point
 *   lamp of power P (radius 0) the radiant intensity P / 4π W/sr in every direction, and a spot lamp the
 *   same on its axis (a spot's power is given as if it were a point: no normalisation by the cone). So the
 *   radiant intensity is I = P / 4π = I_v / 683 W/sr, and a surface at distance r, at angle θ to the light,
 *   receives irradiance E = I cosθ / r², its outgoing radiance f · I cosθ / r².
 * - directional: glTF `intensity` is illuminance E_v in lux (lm/m²). Blender's importer makes a sun of
 *   strength S = E_v / 683 W/m², and Cycles' sun of strength S gives irradiance S on a surface facing it:
 *   E = E_v / 683 W/m².
 * - colour multiplies per channel (the importer copies it into the lamp's colour, which Cycles multiplies).
 *
 * Octane's radiance unit is the one its emissive materials use (emissive strength 1 = radiance 1), which is
 * Cycles' (an emission strength of 1 is radiance 1 W/m²/sr there too), so these numbers need no further
 * factor. A spot's light leaves along the node's -Z and falls off between `innerConeAngle` and
 * `outerConeAngle` by the specification's smooth curve (the kernel's `spot_falloff`); Blender maps the cone
 * to spot size 2 · outer and blend 1 - inner / outer, and Cycles' own blend curve differs inside that band.
 * `range` is not used: light falls off with the square of the distance, physically.
 */
export function punctualLight(light: Light, world: ArrayLike<number>): PunctualLight {
  const kind = light.getType();
  const color = light.getColor();
  const strength = light.getIntensity() / WATTS_TO_LUMENS;
  const intensity: Rgb = [color[0] * strength, color[1] * strength, color[2] * strength];
  // a light shines along its node's local -Z
  const d: Vec3 = [-world[8]!, -world[9]!, -world[10]!];
  const len = Math.hypot(d[0], d[1], d[2]) || 1;
  const outer = kind === "spot" ? clampAngle(light.getOuterConeAngle(), Math.PI / 2) : Math.PI;
  const inner = kind === "spot"
    ? Math.min(clampAngle(light.getInnerConeAngle(), Math.PI / 2), outer)
    : Math.PI;
  return {
    name: light.getName() || undefined,
    kind,
    position: [world[12]!, world[13]!, world[14]!],
    direction: [d[0] / len, d[1] / len, d[2] / len],
    intensity: intensity.map((v) => Number.isFinite(v) && v > 0 ? v : 0) as Rgb,
    innerConeAngle: inner,
    outerConeAngle: outer,
  };
}

function clampAngle(a: number, max: number): number {
  return Number.isFinite(a) ? Math.min(max, Math.max(0, a)) : max;
}
