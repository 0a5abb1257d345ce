// The principled BSDF (glTF metallic-roughness with transmission and specular): a GGX metal lobe
// (weight metallic), and for the dielectric rest either a transmission lobe (weight transmission: smooth
// or rough GGX glass) or a GGX specular layer over a Lambertian base. Directions are in the local frame
// of the shading normal, which faces the outgoing direction wo (wo.z > 0).
//
// Sampling picks a lobe with probabilities that depend on wo only. Reflection lobes with a finite pdf
// (diffuse, rough metal, rough specular) are combined by one-sample MIS, and next-event estimation uses
// the same sum; mirror reflection and transmission are sampled alone and carry pdf 0 (no MIS).
//
// Layers (glTF's KHR_materials_sheen and KHR_materials_clearcoat, in the spec's order): a sheen lobe
// (Charlie distribution) over the base, which it dims by 1 - max(sheenColor) * E(wo), E the sheen's
// directional albedo (the sheen_table binding); over both a clear coat, a GGX dielectric of IOR 1.5 with its own
// roughness and normal, which reflects clearcoat * F(n_coat . wo) and passes the rest. Those weights depend
// on wo only, so they are also the layers' sampling probabilities: everything stays one-sample MIS.

// The layers live in layers.wgsl; HAS_LAYERS (a pipeline constant) compiles them out of scenes without them.

// Below this roughness metal and specular are perfect mirrors and glass is smooth.
const SMOOTH_ROUGHNESS: f32 = 0.01;

// HAS_SPECULAR, HAS_METAL, HAS_GLOSSY and HAS_TRANSMISSION (pipeline constants) compile out the lobes no
// material of the scene has: software GPUs run every branch.

struct BsdfSample {
  wi: vec3f,
  // f * cos / pdf
  weight: vec3f,
  // solid-angle pdf of the finite lobes; 0 for mirror and transmission samples
  pdf: f32,
  valid: bool,
}

struct BsdfEval {
  // f * cos of the finite lobes
  value: vec3f,
  pdf: f32,
}

// Lobe selection probabilities; they sum to 1.
struct Lobes {
  metal: f32,
  spec: f32,
  diffuse: f32,
  trans: f32,
}

fn ggx_alpha(roughness: f32) -> f32 {
  return max(roughness * roughness, 1e-4);
}

fn ggx_d(h: vec3f, a: f32) -> f32 {
  let a2 = a * a;
  let d = h.z * h.z * (a2 - 1.0) + 1.0;
  return a2 / (PI * d * d);
}

fn smith_lambda(w: vec3f, a: f32) -> f32 {
  let c2 = w.z * w.z;
  let t2 = max(0.0, 1.0 - c2) / max(c2, 1e-12);
  return 0.5 * (-1.0 + sqrt(1.0 + a * a * t2));
}

fn smith_g1(w: vec3f, a: f32) -> f32 {
  return 1.0 / (1.0 + smith_lambda(w, a));
}

fn smith_g2(wo: vec3f, wi: vec3f, a: f32) -> f32 {
  return 1.0 / (1.0 + smith_lambda(wo, a) + smith_lambda(wi, a));
}

// Visible-normal sampling (Heitz 2018); wo.z > 0.
fn sample_vndf(wo: vec3f, a: f32, u1: f32, u2: f32) -> vec3f {
  let vh = normalize(vec3f(a * wo.x, a * wo.y, wo.z));
  let lensq = vh.x * vh.x + vh.y * vh.y;
  let t1 = select(vec3f(1.0, 0.0, 0.0), vec3f(-vh.y, vh.x, 0.0) / sqrt(lensq), lensq > 0.0);
  let t2 = cross(vh, t1);
  let r = sqrt(u1);
  let phi = 2.0 * PI * u2;
  let p1 = r * cos(phi);
  let s = 0.5 * (1.0 + vh.z);
  let p2 = (1.0 - s) * sqrt(max(0.0, 1.0 - p1 * p1)) + s * r * sin(phi);
  let nh = p1 * t1 + p2 * t2 + sqrt(max(0.0, 1.0 - p1 * p1 - p2 * p2)) * vh;
  return normalize(vec3f(a * nh.x, a * nh.y, max(1e-6, nh.z)));
}

fn schlick(f0: vec3f, c: f32) -> vec3f {
  let m = clamp(1.0 - c, 0.0, 1.0);
  let m2 = m * m;
  return f0 + (vec3f(1.0) - f0) * (m2 * m2 * m);
}

// Unpolarised Fresnel reflectance; eta = eta_incident / eta_transmitted.
fn fresnel_dielectric(cos_i: f32, eta: f32) -> f32 {
  let c = clamp(cos_i, 0.0, 1.0);
  let sin2_t = eta * eta * (1.0 - c * c);
  if (sin2_t >= 1.0) {
    return 1.0;
  }
  let cos_t = sqrt(1.0 - sin2_t);
  let r_par = (c - eta * cos_t) / (c + eta * cos_t);
  let r_perp = (eta * c - cos_t) / (eta * c + cos_t);
  return 0.5 * (r_par * r_par + r_perp * r_perp);
}

// Reflectance of the dielectric specular layer (Schlick, F0 from the ior tinted by the specular colour,
// scaled by `specular`).
fn specular_fresnel(s: Surface, c: f32) -> vec3f {
  if (!HAS_SPECULAR) {
    return vec3f(0.0);
  }
  let r = (s.ior - 1.0) / (s.ior + 1.0);
  return min(vec3f(1.0), s.specular * schlick(min(vec3f(r * r) * s.specular_color, vec3f(1.0)), c));
}

fn is_smooth(s: Surface) -> bool {
  return s.roughness < SMOOTH_ROUGHNESS;
}

fn lobes(s: Surface, wo: vec3f) -> Lobes {
  let dielectric = 1.0 - s.metallic;
  let opaque = dielectric * (1.0 - s.transmission);
  let fs = max3(specular_fresnel(s, wo.z));
  return Lobes(s.metallic, opaque * fs, opaque * (1.0 - fs), dielectric * s.transmission);
}

// True where next-event estimation can be used: some lobe has a finite pdf.
fn bsdf_has_pdf(s: Surface) -> bool {
  let l = lobes(s, vec3f(0.0, 0.0, 1.0));
  let layered = HAS_LAYERS &&
    (max3(s.sheen_color) > 0.0 || (s.clearcoat > 0.0 && s.clearcoat_roughness >= SMOOTH_ROUGHNESS));
  return l.diffuse > 0.0 || (!is_smooth(s) && (l.metal > 0.0 || l.spec > 0.0)) || layered;
}

// f * cos and pdf of the finite (non-mirror, non-transmission) lobes.
fn bsdf_eval(s: Surface, wo: vec3f, wi: vec3f) -> BsdfEval {
  if (wo.z <= 0.0 || wi.z <= 0.0) {
    return BsdfEval(vec3f(0.0), 0.0);
  }
  let l = lobes(s, wo);
  let opaque = (1.0 - s.metallic) * (1.0 - s.transmission);
  var value = s.base * (opaque * (1.0 - max3(specular_fresnel(s, wo.z))) * wi.z * INV_PI);
  var pdf = l.diffuse * wi.z * INV_PI;
  if (HAS_GLOSSY && !is_smooth(s) && l.metal + l.spec > 0.0) {
    let a = ggx_alpha(s.roughness);
    let h = normalize(wo + wi);
    let d = ggx_d(h, a);
    let micro = d * smith_g2(wo, wi, a) / (4.0 * wo.z);
    let f_metal = schlick(s.base, dot(wi, h)) * s.metallic;
    let f_spec = opaque * specular_fresnel(s, dot(wi, h));
    value += (f_metal + f_spec) * micro;
    pdf += (l.metal + l.spec) * smith_g1(wo, a) * d / (4.0 * wo.z);
  }
  if (HAS_LAYERS) {
    return layers_eval(s, wo, wi, layers(s, wo), BsdfEval(value, pdf));
  }
  return BsdfEval(value, pdf);
}

// Glass: Fresnel picks reflection or refraction through a smooth or GGX-rough interface.
fn sample_transmission(s: Surface, wo: vec3f, entering: bool, u1: f32, u2: f32, u3: f32) -> BsdfSample {
  let eta = select(s.ior, 1.0 / s.ior, entering);
  var h = vec3f(0.0, 0.0, 1.0);
  var g = 1.0;
  let rough = !is_smooth(s);
  let a = ggx_alpha(s.roughness);
  if (rough) {
    h = sample_vndf(wo, a, u1, u2);
  }
  let f = fresnel_dielectric(dot(wo, h), eta);
  if (u3 < f) {
    let wi = reflect(-wo, h);
    if (rough) {
      g = smith_g2(wo, wi, a) / smith_g1(wo, a);
    }
    return BsdfSample(wi, vec3f(g), 0.0, wi.z > 0.0);
  }
  let wi = refract(-wo, h, eta);
  if (rough) {
    g = smith_g2(wo, -wi, a) / smith_g1(wo, a);
  }
  // Radiance is compressed by (eta_i / eta_t)^2 when it crosses into the denser medium.
  return BsdfSample(wi, s.base * (g * eta * eta), 0.0, wi.z < 0.0);
}

// entering: the ray arrives from the front side of the surface (matters for transmission only).
fn bsdf_sample(s: Surface, wo: vec3f, entering: bool) -> BsdfSample {
  var u0 = rand();
  let u1 = rand();
  let u2 = rand();
  let u3 = rand();
  var wi: vec3f;
  var layer = false;
  if (HAS_LAYERS) {
    let ly = layers(s, wo);
    if (u0 >= ly.base) {
      let u = u0 - ly.base;
      if (u >= ly.sheen && coat_smooth(s)) {
        // the coat's mirror: its reflectance over its probability, both ly.coat
        wi = reflect(-wo, s.coat_n);
        return BsdfSample(wi, vec3f(1.0), 0.0, wi.z > 0.0);
      }
      wi = layer_direction(s, wo, u < ly.sheen, u1, u2);
      layer = true;
    }
    // the base is picked: reuse u0, rescaled to [0, 1)
    u0 /= ly.base;
  }
  let l = lobes(s, wo);
  if (HAS_TRANSMISSION && !layer && u0 < l.trans) {
    return sample_transmission(s, wo, entering, u1, u2, u3);
  }
  let mirror = l.metal + l.spec;
  if (HAS_GLOSSY && !layer && u0 < l.trans + mirror && is_smooth(s)) {
    // metal and specular mirrors reflect the same way: one sample for both
    let opaque = (1.0 - s.metallic) * (1.0 - s.transmission);
    let f = schlick(s.base, wo.z) * s.metallic + opaque * specular_fresnel(s, wo.z);
    return BsdfSample(vec3f(-wo.x, -wo.y, wo.z), f / mirror, 0.0, true);
  }
  if (layer) {
    // wi is the layer's
  } else if (HAS_GLOSSY && u0 < l.trans + mirror) {
    wi = reflect(-wo, sample_vndf(wo, ggx_alpha(s.roughness), u1, u2));
  } else {
    wi = cosine_hemisphere(u1, u2);
  }
  let e = bsdf_eval(s, wo, wi);
  if (e.pdf <= 0.0) {
    return BsdfSample(wi, vec3f(0.0), 0.0, false);
  }
  return BsdfSample(wi, e.value / e.pdf, e.pdf, true);
}
