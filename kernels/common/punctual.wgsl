// Punctual lights (KHR_lights_punctual): points, spots and directional lights, 64-byte records (see
// PUNCTUAL_FLOATS in mod/render_data/layout.ts) read from the lights buffer after the emissive triangles'
// entries, eight 8-byte entries each. They have no area, so no ray ever hits one: next-event estimation
// alone finds them, with no MIS weight. Expects `params` with the punct_* fields, `lights`, `visible`.

struct Punctual {
  position: vec3f,
  // 0 point, 1 spot, 2 directional
  kind: u32,
  // the direction the light shines along (spot axis, directional travel)
  direction: vec3f,
  cdf: f32,
  // W/sr (point, spot), W/m² (directional)
  intensity: vec3f,
  prob: f32,
  cos_outer: f32,
  cos_inner: f32,
  inv_band: f32,
}

fn punct_row(i: u32, row: u32) -> vec4f {
  let b = params.punct_first + i * 8u + row * 2u;
  let a = lights[b];
  let c = lights[b + 1u];
  return vec4f(bitcast<f32>(a.tri), a.cdf, bitcast<f32>(c.tri), c.cdf);
}

fn punct_load(i: u32) -> Punctual {
  let r0 = punct_row(i, 0u);
  let r1 = punct_row(i, 1u);
  let r2 = punct_row(i, 2u);
  let r3 = punct_row(i, 3u);
  return Punctual(r0.xyz, u32(r0.w + 0.5), r1.xyz, r1.w, r2.xyz, r2.w, r3.x, r3.y, r3.z);
}

// The first punctual light whose cumulative pick probability exceeds u.
fn pick_punctual(u: f32) -> u32 {
  var lo = 0u;
  var hi = params.punct_count - 1u;
  while (lo < hi) {
    loop_iterations++;
    let mid = (lo + hi) / 2u;
    if (punct_row(mid, 1u).w > u) {
      hi = mid;
    } else {
      lo = mid + 1u;
    }
  }
  return lo;
}

// The specification's spot falloff: 1 inside the inner cone, 0 outside the outer one, and between them the
// square of a ramp linear in the cosine of the angle to the axis.
fn spot_falloff(cos_axis: f32, l: Punctual) -> f32 {
  let t = clamp((cos_axis - l.cos_outer) * l.inv_band, 0.0, 1.0);
  return t * t;
}

// Light from one punctual light picked by power at surface point x (BSDF times cosine times the light's
// irradiance over its pick probability), shadow ray included. `env_share` is the probability that the
// environment was picked instead, `tri_share` the share of the rest that went to emissive triangles.
fn punctual_light(s: Surface, frame: mat3x3f, wo: vec3f, x: vec3f, ng_f: vec3f, env_share: f32, tri_share: f32)
  -> vec3f {
  let l = punct_load(pick_punctual(rand()));
  var wi = -l.direction;
  var li = l.intensity;
  if (l.kind != 2u) {
    let to_light = l.position - x;
    let d2 = dot(to_light, to_light);
    if (!(d2 > 0.0)) {
      return vec3f(0.0);
    }
    wi = to_light / sqrt(d2);
    li = l.intensity / d2;
    if (l.kind == 1u) {
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
  if (l.kind != 2u) {
    let to_p = l.position - xo;
    let len = length(to_p);
    d = to_p / len;
    dist = len * (1.0 - 1e-4);
  }
  if (!visible(xo, d, dist)) {
    return vec3f(0.0);
  }
  let pick = (1.0 - env_share) * (1.0 - select(0.0, tri_share, params.light_count > 0u)) * l.prob;
  return e.value * li / pick;
}
