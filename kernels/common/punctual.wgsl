// Punctual lights (KHR_lights_punctual): points, spots and directional lights, the PunctualLight records of
// the punctual binding. They have no area, so no ray ever hits one: next-event estimation alone finds them,
// with no MIS weight. Expects `visible` (trace.wgsl).

// The first punctual light whose cumulative pick probability exceeds u.
fn pick_punctual(u: f32, count: u32) -> u32 {
  var lo = 0u;
  var hi = count - 1u;
  while (lo < hi) {
    loop_iterations++;
    let mid = (lo + hi) / 2u;
    if (punctual[mid].cdf > u) {
      hi = mid;
    } else {
      lo = mid + 1u;
    }
  }
  return lo;
}

// The specification's spot falloff: 1 inside the inner cone, 0 outside the outer one, and between them the
// square of a ramp linear in the cosine of the angle to the axis.
fn spot_falloff(cos_axis: f32, l: PunctualLight) -> f32 {
  let t = clamp((cos_axis - l.cos_outer) * l.inv_band, 0.0, 1.0);
  return t * t;
}

// Light from one punctual light picked by power at surface point x (BSDF times cosine times the light's
// irradiance over its pick probability), shadow ray included. `count` lights to pick from; `env_share` is
// the probability that the environment was picked instead, `tri_share` the share of the rest that went to
// emissive triangles (none where `tri_lights` is false).
fn punctual_light(
  s: Surface,
  frame: mat3x3f,
  wo: vec3f,
  x: vec3f,
  ng_f: vec3f,
  count: u32,
  env_share: f32,
  tri_share: f32,
  tri_lights: bool,
) -> vec3f {
  let l = punctual[pick_punctual(rand(), count)];
  var wi = -l.direction;
  var li = l.intensity;
  if (l.kind != PUNCTUAL_DIRECTIONAL) {
    let to_light = l.position - x;
    let d2 = dot(to_light, to_light);
    if (!(d2 > 0.0)) {
      return vec3f(0.0);
    }
    wi = to_light / sqrt(d2);
    li = l.intensity / d2;
    if (l.kind == PUNCTUAL_SPOT) {
      li *= spot_falloff(dot(-wi, l.direction), l);
    }
  }
  // reflection only, on the side the geometry faces: no light leaks through the surface
  if (dot(wi, ng_f) <= 0.0 || max3(li) <= 0.0) {
    return vec3f(0.0);
  }
  let e = bsdf_eval(s, wo, to_local(frame, wi));
  if (max3(e.value) <= 0.0) {
    return vec3f(0.0);
  }
  let xo = offset_point(x, ng_f);
  var d = wi;
  var dist = INF;
  if (l.kind != PUNCTUAL_DIRECTIONAL) {
    let to_p = l.position - xo;
    let len = length(to_p);
    d = to_p / len;
    dist = len * (1.0 - 1e-4);
  }
  if (!visible(xo, d, dist)) {
    return vec3f(0.0);
  }
  let pick = (1.0 - env_share) * (1.0 - select(0.0, tri_share, tri_lights)) * l.prob;
  return e.value * li / pick;
}
