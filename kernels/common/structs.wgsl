// Shared GPU data layouts. Keep in step with mod/render_data/layout.ts.

const PI: f32 = 3.14159265358979;
const INV_PI: f32 = 0.318309886183791;
const INF: f32 = 3.0e38;
const NO_HIT: u32 = 0xffffffffu;

// BVH node, 32 bytes. Interior: children at `first` and `first + 1`, count = 0. Leaf: triangles
// [first, first + count).
struct Node {
  bmin: vec3f,
  first: u32,
  bmax: vec3f,
  count: u32,
}

// Triangle, 48 bytes: v0.w = material index (bits), v1.w = probability of picking it as a light (0 if
// not emissive), v2.w unused.
struct Tri {
  v0: vec4f,
  v1: vec4f,
  v2: vec4f,
}

// Material, 48 bytes. kind: 0 diffuse, 1 conductor (GGX), 2 dielectric.
struct Material {
  color: vec3f,
  kind: u32,
  emission: vec3f,
  roughness: f32,
  ior: f32,
  pad0: f32,
  pad1: f32,
  pad2: f32,
}

// One emissive triangle: its index and the cumulative probability up to and including it.
struct LightEntry {
  tri: u32,
  cdf: f32,
}

struct Hit {
  t: f32,
  tri: u32,
  u: f32,
  v: f32,
}
