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
// not emissive), v2.w = 1 + index of its record of texture coordinate set 1 (bits; 0: its mesh has none).
struct Tri {
  v0: vec4f,
  v1: vec4f,
  v2: vec4f,
}

// Shading attributes of a triangle, 64 bytes: vertex normals, texture coordinates (set 0), and in n2.w
// set 0's LOD bias, ½·log2(UV area / world area). After the triangles' attributes come the records of
// texture coordinate set 1, two per Attr: (u0 v0 u1 v1), (u2 v2 LOD bias 0).
struct Attr {
  n0_u0: vec4f,
  n1_v0: vec4f,
  n2: vec4f,
  uv12: vec4f,
}

// A material's use of a texture: where its mip chain starts (a header of one word per level, that level's
// first texel counted from the chain's start, then the levels' RGBA8 texels), level 0's size, its number of
// levels (0: no texture), and the UV transform rows; row0.w is the texture coordinate set (0 or 1).
struct TexRef {
  offset: u32,
  width: u32,
  height: u32,
  valid: u32,
  row0: vec4f,
  row1: vec4f,
}

// A principled material (glTF metallic-roughness), 736 bytes. Texture slots: 0 base colour (sRGB),
// 1 metallic-roughness (linear, G roughness, B metallic), 2 normal map (linear), 3 emission (sRGB),
// 4 clearcoat (R), 5 clearcoat roughness (G), 6 clearcoat normal map, 7 sheen colour (sRGB),
// 8 sheen roughness (A), 9 transmission (R), 10 specular (A), 11 specular colour (sRGB).
struct Material {
  base_color: vec4f,
  emission: vec3f,
  metallic: f32,
  roughness: f32,
  ior: f32,
  transmission: f32,
  specular: f32,
  // negative: opaque; else surfaces with alpha below it are not there
  alpha_cutoff: f32,
  normal_scale: f32,
  pad0: f32,
  pad1: f32,
  reserved0: vec4f,
  reserved1: vec4f,
  tex: array<TexRef, 12>,
  // extensions (KHR_materials_clearcoat, _sheen, _volume, _specular colour)
  clearcoat: f32,
  clearcoat_roughness: f32,
  clearcoat_normal_scale: f32,
  sheen_roughness: f32,
  sheen_color: vec3f,
  pad2: f32,
  // Beer–Lambert absorption per unit length inside the volume; 0 for none
  absorption: vec3f,
  pad3: f32,
  specular_color: vec3f,
  pad4: f32,
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
