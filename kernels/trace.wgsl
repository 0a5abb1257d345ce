// The path tracer: one invocation per pixel of the region, `sample_count` samples each, added to the
// region's accumulator. Next-event estimation to emissive triangles and to the environment map is combined
// with BSDF sampling by multiple importance sampling (power heuristic); punctual lights (points, spots, directional: no area, so
// no ray hits them) by next-event estimation alone. Russian roulette ends long paths.

var<private> ray_count: u32;

fn trace(o: vec3f, d: vec3f, tmax: f32, any_hit: bool) -> Hit {
  ray_count++;
  return trace_ray(o, d, tmax, any_hit);
}

// Offsets a surface point along the normal, scaled to the point's magnitude, to avoid self-hits.
fn offset_point(p: vec3f, n: vec3f) -> vec3f {
  return p + n * (1e-4 * (1.0 + max3(abs(p))));
}

fn pick_light(u: f32) -> u32 {
  var lo = 0u;
  var hi = params.light_count - 1u;
  while (lo < hi) {
    loop_iterations++;
    let mid = (lo + hi) / 2u;
    if (lights[mid].cdf > u) {
      hi = mid;
    } else {
      lo = mid + 1u;
    }
  }
  return lights[lo].tri;
}

// Solid-angle pdf of next-event estimation picking point `p` on light triangle `t` from `dist` away (the
// environment takes its share of the picks first).
fn light_pdf(t: Tri, dir: vec3f, dist: f32) -> f32 {
  let c = cross(t.v1 - t.v0, t.v2 - t.v0);
  let area2 = length(c);
  let cos_l = abs(dot(dir, c)) / area2;
  let pick = (1.0 - params.env.nee_share) * params.tri_share * t.light_prob;
  return pick * dist * dist / (max(cos_l, 1e-8) * 0.5 * area2);
}

fn camera_ray(px: vec2f) -> array<vec3f, 2> {
  let cam = params.camera;
  let sx = (2.0 * px.x / f32(params.width) - 1.0) * cam.tan_half_fov * cam.aspect;
  let sy = (1.0 - 2.0 * px.y / f32(params.height)) * cam.tan_half_fov;
  var d = normalize(cam.forward + sx * cam.right + sy * cam.up);
  var o = cam.position;
  let lens = concentric_disk(rand(), rand()) * cam.lens_radius;
  if (cam.lens_radius > 0.0) {
    let focus = o + d * (cam.focus_distance / dot(d, cam.forward));
    o = o + lens.x * cam.right + lens.y * cam.up;
    d = normalize(focus - o);
  }
  return array<vec3f, 2>(o, d);
}

// The AOVs of the sample being traced: the albedo and world-space shading normal (facing the incoming ray)
// of the first surface that is not a perfect mirror or smooth glass along the path; on a miss the
// environment's radiance clamped to [0, 1] and a zero normal. aov_open: still to be taken (at each hit until
// a surface that is not a perfect mirror or smooth glass).
var<private> aov_albedo: vec3f;
var<private> aov_normal: vec3f;
var<private> aov_open: bool;

// The albedo of surface s for the AOV (OIDN's guidance): the base colour, which glTF's model makes the
// diffuse colour of a dielectric, the reflectance at normal incidence of a metal and the tint of glass; for
// an emitter's front face its emission's colour (scaled to a largest channel of 1).
fn aov_surface_albedo(s: Surface, entering: bool) -> vec3f {
  let e = max3(s.emission);
  if (entering && e > 0.0) {
    return s.emission / e;
  }
  return clamp(s.base, vec3f(0.0), vec3f(1.0));
}

// Whether the segment from `o` along unit `d` for `dist` is free. Alpha-masked cut-outs let light through,
// which needs closest hits stepped past them.
fn visible(o: vec3f, d: vec3f, dist: f32) -> bool {
  if (!HAS_ALPHA_MASK) {
    return trace(o, d, dist, true).tri == NO_HIT;
  }
  var start = 0.0;
  for (var k = 0u; k < 16u; k++) {
    loop_iterations++;
    let h = trace(o + d * start, d, dist - start, false);
    if (h.tri == NO_HIT) {
      return true;
    }
    if (!is_cut_out(h.tri, h.u, h.v)) {
      return false;
    }
    start += h.t + 1e-4 * (1.0 + max3(abs(o)));
  }
  return false;
}

// The path being traced by this invocation: its next ray, radiance so far, throughput, the MIS pdf of the
// last bounce, cut-outs passed, ray-cone width, the absorption of the volume it is in, and its depth.
var<private> path_o: vec3f;
var<private> path_d: vec3f;
var<private> path_l: vec3f;
var<private> path_beta: vec3f;
var<private> path_prev_pdf: f32;
var<private> path_cut_outs: u32;
var<private> path_cone_width: f32;
var<private> path_medium: vec3f;
var<private> path_depth: u32;

// Per image, set once by main: the ray cone's spread angle per unit of path length (Ray Tracing Gems ch. 20:
// the pixel's; kept after the first hit, no widening by curvature or roughness), and whether paths sample
// lights (next-event estimation).
var<private> cone_spread: f32;
var<private> nee: bool;

// Starts sample `sample_index` of the pixel at (px, py): seeds its random numbers, makes its camera ray.
fn start_path(pixel: u32, px: u32, py: u32, sample_index: u32) {
  rng_seed(pixel, sample_index, params.seed);
  let ray = camera_ray(vec2f(f32(px) + rand(), f32(py) + rand()));
  path_o = ray[0];
  path_d = ray[1];
  path_l = vec3f(0.0);
  path_beta = vec3f(1.0);
  path_prev_pdf = 0.0;
  path_cut_outs = 0u;
  path_cone_width = 0.0;
  // absorption per unit length of the volume the path is in: set by refraction into a front face, cleared
  // by refraction out of a back face (volumes do not nest)
  path_medium = vec3f(0.0);
  path_depth = 0u;
  if (AOVS) {
    aov_albedo = vec3f(0.0);
    aov_normal = vec3f(0.0);
    aov_open = true;
  }
}

// One bounce of the path: traces its ray, adds what it sees and what the lights give, samples the next
// ray. Returns true when the path has ended (path_l is then its radiance).
fn bounce() -> bool {
  let hit = trace(path_o, path_d, INF, false);
  if (HAS_VOLUME) {
    // Beer–Lambert along the segment; a path that leaves an open volume without a surface is absorbed
    path_beta *= exp(-path_medium * select(INF, hit.t, hit.tri != NO_HIT));
  }
  if (hit.tri == NO_HIT) {
    if (AOVS && aov_open) {
      aov_albedo = clamp(env_radiance(path_d), vec3f(0.0), vec3f(1.0));
      aov_normal = vec3f(0.0);
    }
    var w = 1.0;
    if (path_prev_pdf > 0.0 && env_has_map()) {
      w = power_heuristic(path_prev_pdf, params.env.nee_share * env_pdf(path_d));
    }
    path_l += path_beta * env_radiance(path_d) * w;
    return true;
  }
  let t = tris[hit.tri];
  let ng = normalize(cross(t.v1 - t.v0, t.v2 - t.v0));
  let entering = dot(path_d, ng) < 0.0;
  let x = path_o + path_d * hit.t;
  path_cone_width += cone_spread * hit.t;
  if (HAS_ALPHA_MASK && path_cut_outs < 32u && is_cut_out(hit.tri, hit.u, hit.v)) {
    // a hole in an alpha-masked surface: carry on through it without a bounce
    path_cut_outs++;
    path_o = offset_point(x, select(ng, -ng, entering));
    return false;
  }
  let ng_f = select(-ng, ng, entering);
  var s = surface_at(hit.tri, t, hit.u, hit.v, ng, path_cone_width / max(abs(dot(path_d, ng)), 1e-4));
  if (!entering) {
    s.ns = -s.ns;
    s.coat_n = -s.coat_n;
  }
  if (entering && max3(s.emission) > 0.0) {
    var w = 1.0;
    if (path_prev_pdf > 0.0) {
      w = power_heuristic(path_prev_pdf, light_pdf(t, path_d, hit.t));
    }
    path_l += path_beta * s.emission * w;
  }
  // a shading normal facing away from the viewer falls back to the geometric one
  if (dot(s.ns, -path_d) <= 0.0) {
    s.ns = ng_f;
  }
  if (AOVS && aov_open) {
    // provisional: a later hit replaces them only if this one passes the path on through a perfect
    // mirror or smooth glass (a path ending here keeps them)
    aov_albedo = aov_surface_albedo(s, entering);
    aov_normal = s.ns;
  }
  let frame = basis(s.ns);
  let wo = to_local(frame, -path_d);
  if (HAS_LAYERS) {
    s.coat_n = coat_to_local(frame, s.coat_n, wo);
  }

  let nee_here = nee && bsdf_has_pdf(s);
  let pick_env = nee_here && rand() < params.env.nee_share;
  if (HAS_ENV_MAP && pick_env) {
    let wi = env_sample(rand(), rand(), rand(), rand());
    if (dot(wi, ng_f) > 0.0) {
      let e = bsdf_eval(s, wo, to_local(frame, wi));
      let lp = params.env.nee_share * env_pdf(wi);
      if (max3(e.value) > 0.0 && lp > 0.0 && visible(offset_point(x, ng_f), wi, INF)) {
        path_l += path_beta * e.value * env_radiance(wi) * (power_heuristic(lp, e.pdf) / lp);
      }
    }
  } else if (HAS_PUNCTUAL && nee_here && params.punct_count > 0u && !(params.light_count > 0u && rand() < params.tri_share)) {
    path_l += path_beta * punctual_light(
      s,
      frame,
      wo,
      x,
      ng_f,
      params.punct_count,
      params.env.nee_share,
      params.tri_share,
      params.light_count > 0u,
    );
  } else if (HAS_TRI_LIGHTS && nee_here && !pick_env) {
    let index = pick_light(rand());
    let lt = tris[index];
    let su = sqrt(rand());
    let b1 = rand() * su;
    let b2 = 1.0 - (1.0 - su) - b1;
    let b0 = 1.0 - su;
    let p = b0 * lt.v0 + b1 * lt.v1 + b2 * lt.v2;
    let lc = cross(lt.v1 - lt.v0, lt.v2 - lt.v0);
    let to_light = p - x;
    let dist = length(to_light);
    let wi = to_light / dist;
    // reflection only, on the side the geometry faces: no light leaks through the surface
    if (dot(wi, lc) < 0.0 && dist > 0.0 && dot(wi, ng_f) > 0.0) {
      let e = bsdf_eval(s, wo, to_local(frame, wi));
      if (max3(e.value) > 0.0) {
        let xo = offset_point(x, ng_f);
        let to_p = p - xo;
        let shadow_dist = length(to_p);
        if (visible(xo, to_p / shadow_dist, shadow_dist * (1.0 - 1e-4))) {
          let lp = light_pdf(lt, wi, dist);
          path_l += path_beta * e.value * emission_at(index, b1, b2) * (power_heuristic(lp, e.pdf) / lp);
        }
      }
    }
  }

  let b = bsdf_sample(s, wo, entering);
  if (!b.valid) {
    return true;
  }
  let wi = normalize(frame * b.wi);
  // the sampled side must agree with the geometry, or the path would leak through the surface
  let reflected = b.wi.z > 0.0;
  if ((dot(wi, ng_f) > 0.0) != reflected) {
    return true;
  }
  path_beta *= b.weight;
  if (AOVS) {
    // a delta lobe (pdf 0: mirror reflection, refraction, a smooth coat's mirror) of a smooth surface
    // passes the AOVs on to the next hit; any other lobe, or a rough surface, keeps them here
    aov_open = aov_open && is_smooth(s) && b.pdf == 0.0;
  }
  if (HAS_VOLUME && !reflected) {
    path_medium = select(vec3f(0.0), s.absorption, entering);
  }
  // the MIS weight of the next emission hit: none where this vertex did no light sampling
  path_prev_pdf = select(0.0, b.pdf, nee_here);
  path_o = offset_point(x, select(-ng_f, ng_f, reflected));
  path_d = wi;
  if (path_depth + 1u >= params.rr_depth) {
    let q = clamp(max3(path_beta), 0.05, 0.95);
    if (rand() >= q) {
      return true;
    }
    path_beta /= q;
  }
  path_depth++;
  return path_depth >= params.max_depth;
}

@compute @workgroup_size(TRACE_WORKGROUP, TRACE_WORKGROUP)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  if (gid.x >= params.region_w || gid.y >= params.region_h) {
    return;
  }
  ray_count = 0u;
  loop_iterations = 0u;
  capped_traversals = 0u;
  let px = params.region_x + gid.x;
  let py = params.region_y + gid.y;
  let pixel = py * params.width + px;
  // Path regeneration: an invocation whose path ends starts its pixel's next sample at once, so the
  // invocations of a SIMD group (llvmpipe runs them in lockstep) stay busy until the last samples, instead
  // of waiting each bounce for the longest path of the group. Each sample is added to the accumulator as it
  // ends, in sample order: the sums are the same bits however the samples are split into dispatches.
  let index = params.accum_base + gid.y * params.region_w + gid.x;
  cone_spread = atan(2.0 * params.camera.tan_half_fov / f32(params.height));
  nee = (params.light_count > 0u || env_has_map() || params.punct_count > 0u) && (params.flags & FLAG_BSDF_ONLY) == 0u;
  var started = 0u;
  var alive = false;
  loop {
    loop_iterations++;
    if (!alive) {
      if (started >= params.sample_count) {
        break;
      }
      start_path(pixel, px, py, params.sample_start + started);
      started++;
      alive = true;
    }
    if (params.max_depth == 0u || bounce()) {
      alive = false;
      // A NaN or infinite sample (degenerate geometry) is dropped rather than poisoning the pixel.
      let at = select(index, 3u * index, AOVS);
      if (all(path_l == path_l) && max3(abs(path_l)) < 1e30) {
        accum[at] = accum[at] + vec4f(path_l, 0.0);
      } else {
        atomicAdd(&stats.dropped_samples, 1u);
      }
      // AOVs that are not finite (a normal of a zero-area triangle) are dropped the same way; componentwise
      // comparisons, as max() of a NaN may drop the NaN
      if (AOVS && all(abs(aov_albedo) < vec3f(2.0)) && all(abs(aov_normal) < vec3f(2.0))) {
        accum[at + 1u] = accum[at + 1u] + vec4f(aov_albedo, 0.0);
        accum[at + 2u] = accum[at + 2u] + vec4f(aov_normal, 0.0);
      }
    }
  }
  atomicAdd(&stats.rays, ray_count);
  atomicMax(&stats.loop_iterations, loop_iterations);
  if (capped_traversals > 0u) {
    atomicAdd(&stats.capped_traversals, capped_traversals);
  }
}
