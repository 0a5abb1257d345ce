// The environment: a constant colour, or an equirectangular map (+Y up; u = φ / 2π with φ = atan2(z, x),
// v = θ / π from +Y) stored as RGBE words in `texels`, importance sampled by its luminance x sin θ
// through a marginal CDF over rows and a conditional CDF per row (the Environment record in params.env).

fn env_has_map() -> bool {
  return HAS_ENV_MAP && params.env.has_map != 0u;
}

fn env_texel(x: u32, y: u32) -> vec3f {
  let c = unpack4x8unorm(texels[params.env.texel_offset + y * params.env.map_size.x + x]) * 255.0;
  return select(c.rgb * exp2(c.w - 136.0), vec3f(0.0), c.w == 0.0);
}

fn env_uv(d: vec3f) -> vec2f {
  var u = atan2(d.z, d.x) / (2.0 * PI);
  u = select(u, u + 1.0, u < 0.0);
  return vec2f(u, acos(clamp(d.y, -1.0, 1.0)) / PI);
}

fn env_texel_of(uv: vec2f) -> vec2u {
  let size = params.env.map_size;
  return min(vec2u(uv * vec2f(size)), size - 1u);
}

fn env_radiance(d: vec3f) -> vec3f {
  if (!env_has_map()) {
    return params.env.color * params.env.intensity;
  }
  let t = env_texel_of(env_uv(d));
  return env_texel(t.x, t.y) * params.env.intensity;
}

// Solid-angle pdf of sampling direction d (0 without a map).
fn env_pdf(d: vec3f) -> f32 {
  if (!env_has_map()) {
    return 0.0;
  }
  let uv = env_uv(d);
  let sin_theta = sin(PI * uv.y);
  if (sin_theta <= 0.0) {
    return 0.0;
  }
  let t = env_texel_of(uv);
  let size = vec2f(params.env.map_size);
  let weight = luminance(env_texel(t.x, t.y)) * sin(PI * (f32(t.y) + 0.5) / size.y);
  return weight / params.env.total_weight * size.x * size.y / (2.0 * PI * PI * sin_theta);
}

fn env_cdf(i: u32) -> f32 {
  return bitcast<f32>(texels[params.env.cdf_offset + i]);
}

// First index in [first, first + count) whose CDF value exceeds u.
fn env_search(first: u32, count: u32, u: f32) -> u32 {
  var lo = 0u;
  var hi = count - 1u;
  while (lo < hi) {
    loop_iterations++;
    let mid = (lo + hi) / 2u;
    if (env_cdf(first + mid) > u) {
      hi = mid;
    } else {
      lo = mid + 1u;
    }
  }
  return lo;
}

// A direction drawn in proportion to the map's luminance; its pdf is env_pdf.
fn env_sample(u1: f32, u2: f32, u3: f32, u4: f32) -> vec3f {
  let w = params.env.map_size.x;
  let h = params.env.map_size.y;
  // the CDFs start at cdf_offset: the marginal over rows (h values), then one conditional per row (w each)
  let y = env_search(0u, h, u1);
  let x = env_search(h + y * w, w, u2);
  let uv = vec2f((f32(x) + u3) / f32(w), (f32(y) + u4) / f32(h));
  let theta = PI * uv.y;
  let phi = 2.0 * PI * uv.x;
  return vec3f(sin(theta) * cos(phi), cos(theta), sin(theta) * sin(phi));
}
