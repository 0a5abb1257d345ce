// Frames and warps.

// Orthonormal basis around n (Duff et al. 2017); columns are tangent, bitangent, normal.
fn basis(n: vec3f) -> mat3x3f {
  let s = select(-1.0, 1.0, n.z >= 0.0);
  let a = -1.0 / (s + n.z);
  let b = n.x * n.y * a;
  let t = vec3f(1.0 + s * n.x * n.x * a, s * b, -s * n.x);
  let bt = vec3f(b, s + n.y * n.y * a, -n.y);
  return mat3x3f(t, bt, n);
}

fn to_local(f: mat3x3f, v: vec3f) -> vec3f {
  return vec3f(dot(v, f[0]), dot(v, f[1]), dot(v, f[2]));
}

fn cosine_hemisphere(u1: f32, u2: f32) -> vec3f {
  let r = sqrt(u1);
  let phi = 2.0 * PI * u2;
  return vec3f(r * cos(phi), r * sin(phi), sqrt(max(0.0, 1.0 - u1)));
}

// Concentric map of the unit square onto the unit disk (Shirley and Chiu).
fn concentric_disk(u1: f32, u2: f32) -> vec2f {
  let o = vec2f(2.0 * u1 - 1.0, 2.0 * u2 - 1.0);
  if (o.x == 0.0 && o.y == 0.0) {
    return vec2f(0.0);
  }
  if (abs(o.x) > abs(o.y)) {
    let t = PI / 4.0 * (o.y / o.x);
    return o.x * vec2f(cos(t), sin(t));
  }
  let t = PI / 2.0 - PI / 4.0 * (o.x / o.y);
  return o.y * vec2f(cos(t), sin(t));
}

fn max3(v: vec3f) -> f32 {
  return max(v.x, max(v.y, v.z));
}

fn luminance(c: vec3f) -> f32 {
  return dot(c, vec3f(0.2126, 0.7152, 0.0722));
}

fn power_heuristic(a: f32, b: f32) -> f32 {
  let a2 = a * a;
  return a2 / (a2 + b * b);
}
