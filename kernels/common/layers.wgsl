// The layers of the principled BSDF (bsdf.wgsl): glTF's KHR_materials_sheen and KHR_materials_clearcoat.
// Compiled out (HAS_LAYERS false) of scenes without such materials.

const COAT_IOR: f32 = 1.5;

// The layers' weights at wo: the coat's reflectance (also its sampling probability), the sheen lobe's
// sampling probability, the factor on the base (its probability too), and the sheen lobe's normalisation.
struct Layers {
  coat: f32,
  sheen: f32,
  base: f32,
  // multiplies the sheen lobe: (1 - coat) / max(E, 1), so it never reflects more than it receives
  sheen_scale: f32,
}

// The coat normal (world space) in the local frame of the shading normal; a coat normal facing away from
// the outgoing direction wo falls back to the shading normal.
fn coat_to_local(frame: mat3x3f, n: vec3f, wo: vec3f) -> vec3f {
  let c = to_local(frame, n);
  return select(vec3f(0.0, 0.0, 1.0), c, dot(c, wo) > 0.0);
}

fn coat_smooth(s: Surface) -> bool {
  return s.clearcoat_roughness < SMOOTH_ROUGHNESS;
}

fn layers(s: Surface, wo: vec3f) -> Layers {
  var coat = 0.0;
  let c = dot(s.coat_n, wo);
  if (s.clearcoat > 0.0 && c > 0.0) {
    coat = s.clearcoat * fresnel_dielectric(c, 1.0 / COAT_IOR);
  }
  let m = max3(s.sheen_color);
  var e = 0.0;
  if (m > 0.0) {
    e = sheen_albedo(wo.z, s.sheen_roughness);
  }
  let es = m * min(e, 1.0);
  return Layers(coat, (1.0 - coat) * es, (1.0 - coat) * (1.0 - es), (1.0 - coat) / max(e, 1.0));
}

// Entry k of the sheen table (row-major, packed 4 to a vec4f).
fn sheen_e(k: u32) -> f32 {
  return sheen_table[k / 4u][k % 4u];
}

// Bilinear lookup of the sheen's directional albedo, over sqrt(cos) and roughness.
fn sheen_albedo(mu: f32, roughness: f32) -> f32 {
  let n = f32(SHEEN_TABLE_SIZE - 1u);
  let x = sqrt(clamp(mu, 0.0, 1.0)) * n;
  let y = clamp(roughness, 0.0, 1.0) * n;
  let i = min(u32(x), SHEEN_TABLE_SIZE - 2u);
  let j = min(u32(y), SHEEN_TABLE_SIZE - 2u);
  let fx = x - f32(i);
  let fy = y - f32(j);
  let k = i * SHEEN_TABLE_SIZE + j;
  let top = mix(sheen_e(k), sheen_e(k + 1u), fy);
  let bottom = mix(sheen_e(k + SHEEN_TABLE_SIZE), sheen_e(k + SHEEN_TABLE_SIZE + 1u), fy);
  return mix(top, bottom, fx);
}

// Estevez and Kulla's fit of the Charlie distribution's Lambda (as in the glTF sheen spec's appendix).
fn charlie_l(x: f32, a: f32) -> f32 {
  let t = (1.0 - a) * (1.0 - a);
  let p0 = vec4f(25.3245, 3.32435, 0.16801, -1.27393);
  let p1 = vec4f(21.5473, 3.82987, 0.19823, -1.9776);
  let p = mix(p1, p0, t);
  let e = mix(-4.32054, -4.85967, t);
  return p.x / (1.0 + p.y * pow(x, p.z)) + p.w * x + e;
}

fn charlie_lambda(c: f32, a: f32) -> f32 {
  if (c < 0.5) {
    return exp(charlie_l(c, a));
  }
  return exp(2.0 * charlie_l(0.5, a) - charlie_l(1.0 - c, a));
}

// f * cos of the sheen lobe with a white sheen colour; wo.z, wi.z > 0.
fn sheen_lobe(s: Surface, wo: vec3f, wi: vec3f) -> f32 {
  let r = max(s.sheen_roughness, SHEEN_MIN_ROUGHNESS);
  let a = r * r;
  let h = normalize(wo + wi);
  let sin2 = max(0.0, 1.0 - h.z * h.z);
  if (sin2 <= 0.0) {
    return 0.0;
  }
  let d = (2.0 + 1.0 / a) * pow(sin2, 0.5 / a) * (0.5 * INV_PI);
  let v = 1.0 / ((1.0 + charlie_lambda(wo.z, a) + charlie_lambda(wi.z, a)) * 4.0 * wo.z);
  return d * v;
}

// GGX reflection of the coat in its own frame: (f * cos without the Fresnel weight, pdf of VNDF sampling).
fn coat_lobe(s: Surface, wo: vec3f, wi: vec3f) -> vec2f {
  let f = basis(s.coat_n);
  let o = to_local(f, wo);
  let i = to_local(f, wi);
  if (o.z <= 0.0 || i.z <= 0.0) {
    return vec2f(0.0);
  }
  let a = ggx_alpha(s.clearcoat_roughness);
  let d = ggx_d(normalize(o + i), a);
  return vec2f(d * smith_g2(o, i, a), smith_g1(o, a) * d) / (4.0 * o.z);
}

// Adds the sheen and the rough coat to the base's f * cos and pdf (wo.z, wi.z > 0).
fn layers_eval(s: Surface, wo: vec3f, wi: vec3f, ly: Layers, base: BsdfEval) -> BsdfEval {
  var value = base.value * ly.base;
  var pdf = base.pdf * ly.base;
  if (ly.sheen > 0.0) {
    value += s.sheen_color * (ly.sheen_scale * sheen_lobe(s, wo, wi));
    pdf += ly.sheen * wi.z * INV_PI;
  }
  if (ly.coat > 0.0 && !coat_smooth(s)) {
    let c = coat_lobe(s, wo, wi) * ly.coat;
    value += vec3f(c.x);
    pdf += c.y;
  }
  return BsdfEval(value, pdf);
}

// A direction sampled from the sheen (cosine-weighted) or the rough coat (its visible normals).
fn layer_direction(s: Surface, wo: vec3f, sheen: bool, u1: f32, u2: f32) -> vec3f {
  if (sheen) {
    return cosine_hemisphere(u1, u2);
  }
  let f = basis(s.coat_n);
  let o = to_local(f, wo);
  return f * reflect(-o, sample_vndf(o, ggx_alpha(s.clearcoat_roughness), u1, u2));
}
