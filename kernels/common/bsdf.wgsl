// Scattering: Lambertian diffuse, GGX conductor, smooth and rough GGX dielectric. All directions are in
// the local frame of the shading normal, which faces the outgoing direction wo (wo.z > 0).

const KIND_DIFFUSE: u32 = 0u;
const KIND_CONDUCTOR: u32 = 1u;
const KIND_DIELECTRIC: u32 = 2u;
// Below this roughness a conductor is a perfect mirror and a dielectric smooth glass.
const SMOOTH_ROUGHNESS: f32 = 0.01;

struct BsdfSample {
  wi: vec3f,
  // f * cos / pdf
  weight: vec3f,
  // solid-angle pdf; 0 for delta lobes
  pdf: f32,
  valid: bool,
}

struct BsdfEval {
  // f * cos
  value: vec3f,
  pdf: f32,
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

// True where next-event estimation can be used: lobes with a finite pdf.
fn bsdf_has_pdf(m: Material) -> bool {
  return m.kind == KIND_DIFFUSE || (m.kind == KIND_CONDUCTOR && m.roughness >= SMOOTH_ROUGHNESS);
}

fn bsdf_eval(m: Material, wo: vec3f, wi: vec3f) -> BsdfEval {
  if (wo.z <= 0.0 || wi.z <= 0.0) {
    return BsdfEval(vec3f(0.0), 0.0);
  }
  if (m.kind == KIND_DIFFUSE) {
    return BsdfEval(m.color * (wi.z * INV_PI), wi.z * INV_PI);
  }
  // rough conductor
  let a = ggx_alpha(m.roughness);
  let h = normalize(wo + wi);
  let d = ggx_d(h, a);
  let f = schlick(m.color, dot(wi, h));
  return BsdfEval(f * (d * smith_g2(wo, wi, a) / (4.0 * wo.z)), smith_g1(wo, a) * d / (4.0 * wo.z));
}

// entering: the ray arrives from the front side of the surface (matters for dielectrics only).
fn bsdf_sample(m: Material, wo: vec3f, entering: bool) -> BsdfSample {
  let u1 = rand();
  let u2 = rand();
  let u3 = rand();
  var s = BsdfSample(vec3f(0.0), vec3f(0.0), 0.0, false);
  if (m.kind == KIND_DIFFUSE) {
    let wi = cosine_hemisphere(u1, u2);
    s = BsdfSample(wi, m.color, wi.z * INV_PI, wi.z > 0.0);
  } else if (m.kind == KIND_CONDUCTOR) {
    if (m.roughness < SMOOTH_ROUGHNESS) {
      s = BsdfSample(vec3f(-wo.x, -wo.y, wo.z), schlick(m.color, wo.z), 0.0, true);
    } else {
      let a = ggx_alpha(m.roughness);
      let h = sample_vndf(wo, a, u1, u2);
      let wi = reflect(-wo, h);
      if (wi.z > 0.0) {
        let g1 = smith_g1(wo, a);
        let weight = schlick(m.color, dot(wo, h)) * (smith_g2(wo, wi, a) / g1);
        s = BsdfSample(wi, weight, g1 * ggx_d(h, a) / (4.0 * wo.z), true);
      }
    }
  } else {
    let eta = select(m.ior, 1.0 / m.ior, entering);
    var h = vec3f(0.0, 0.0, 1.0);
    var g = 1.0;
    let rough = m.roughness >= SMOOTH_ROUGHNESS;
    let a = ggx_alpha(m.roughness);
    if (rough) {
      h = sample_vndf(wo, a, u1, u2);
    }
    let f = fresnel_dielectric(dot(wo, h), eta);
    if (u3 < f) {
      let wi = reflect(-wo, h);
      if (rough) {
        g = smith_g2(wo, wi, a) / smith_g1(wo, a);
      }
      s = BsdfSample(wi, vec3f(g), 0.0, wi.z > 0.0);
    } else {
      let wi = refract(-wo, h, eta);
      if (rough) {
        g = smith_g2(wo, -wi, a) / smith_g1(wo, a);
      }
      // Radiance is compressed by (eta_i / eta_t)^2 when it crosses into the denser medium.
      s = BsdfSample(wi, m.color * (g * eta * eta), 0.0, wi.z < 0.0);
    }
  }
  return s;
}
