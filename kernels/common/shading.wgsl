// The evaluation of a surface point: interpolated attributes, textures (trilinear between mip levels chosen
// by ray cones, repeat, sRGB decoded for colour, texture coordinate sets 0 and 1) and normal mapping.

fn srgb_to_linear(c: vec3f) -> vec3f {
  return select(pow((c + 0.055) / 1.055, vec3f(2.4)), c / 12.92, c <= vec3f(0.04045));
}

fn fetch_texel(offset: u32, w: i32, h: i32, x: i32, y: i32, srgb: bool) -> vec4f {
  let xi = ((x % w) + w) % w;
  let yi = ((y % h) + h) % h;
  let c = unpack4x8unorm(texels[offset + u32(yi * w + xi)]);
  return select(c, vec4f(srgb_to_linear(c.rgb), c.a), srgb);
}

// Bilinear lookup in one mip level (texels from `offset`, w x h) with repeat wrapping; colour textures are
// decoded to linear before filtering.
fn sample_level(offset: u32, w: u32, h: u32, st: vec2f, srgb: bool) -> vec4f {
  let p = st * vec2f(f32(w), f32(h)) - 0.5;
  let f = floor(p);
  let t = p - f;
  let x = i32(f.x);
  let y = i32(f.y);
  let wi = i32(w);
  let hi = i32(h);
  let top = mix(fetch_texel(offset, wi, hi, x, y, srgb), fetch_texel(offset, wi, hi, x + 1, y, srgb), t.x);
  let bottom = mix(
    fetch_texel(offset, wi, hi, x, y + 1, srgb),
    fetch_texel(offset, wi, hi, x + 1, y + 1, srgb),
    t.x,
  );
  return mix(top, bottom, t.y);
}

// Where texture lookups happen at a hit: both texture coordinate sets and their ray-cone level of detail
// without the texture's own part, lod = ½·log2(UV area / world area) + log2(cone width / |cos θ|)
// (Akenine-Möller et al., Ray Tracing Gems ch. 20). A very negative lod reads level 0.
struct TexCoords {
  uv0: vec2f,
  uv1: vec2f,
  lod0: f32,
  lod1: f32,
}

// Trilinear lookup: the texture's coordinate set and UV transform, then the two mip levels nearest the
// ray cone's level of detail, lod + ½·log2(texels · |det UV transform|), each bilinear.
fn sample_texture(r: TexRef, tc: TexCoords, srgb: bool) -> vec4f {
  let set1 = r.tex_coord > 0.5;
  let uv = select(tc.uv0, tc.uv1, set1);
  let st = vec2f(dot(r.row0, vec3f(uv, 1.0)), dot(r.row1, vec3f(uv, 1.0)));
  let det = abs(r.row0.x * r.row1.y - r.row0.y * r.row1.x);
  let texel_area = f32(r.width) * f32(r.height) * max(det, 1e-30);
  let lod = clamp(select(tc.lod0, tc.lod1, set1) + 0.5 * log2(texel_area), 0.0, f32(r.levels - 1u));
  // bounded by the chain however the floats came (a NaN lod from crafted render data must not index
  // past the chain's header)
  let level = min(u32(floor(lod)), r.levels - 1u);
  let frac = lod - f32(level);
  // the chain's header holds each level's first texel; each level is half the one above (rounded down,
  // at least 1)
  let w = max(r.width >> level, 1u);
  let h = max(r.height >> level, 1u);
  let near = sample_level(r.offset + texels[r.offset + level], w, h, st, srgb);
  if (!(frac > 0.0) || level + 1u >= r.levels) {
    return near;
  }
  let far = sample_level(r.offset + texels[r.offset + level + 1u], max(w >> 1u, 1u), max(h >> 1u, 1u), st, srgb);
  return mix(near, far, frac);
}

// Everything the BSDF and the light transport need at a hit.
struct Surface {
  base: vec3f,
  alpha: f32,
  emission: vec3f,
  metallic: f32,
  roughness: f32,
  ior: f32,
  transmission: f32,
  specular: f32,
  // shading normal, unit, on the side the geometric normal `ng` points to
  ns: vec3f,
  // KHR_materials_specular's colour
  specular_color: vec3f,
  // KHR_materials_clearcoat: strength, roughness and the coat's normal (the interpolated normal, or its own
  // normal map's); the trace kernel turns coat_n into the local frame of `ns` (coat_to_local)
  clearcoat: f32,
  clearcoat_roughness: f32,
  coat_n: vec3f,
  // KHR_materials_sheen
  sheen_color: vec3f,
  sheen_roughness: f32,
  // KHR_materials_volume: absorption per unit length inside (transmissive materials)
  absorption: vec3f,
}

// Texture coordinates at barycentrics (b1, b2) of triangle `i`.
fn hit_uv(a: Attr, b1: f32, b2: f32) -> vec2f {
  let b0 = 1.0 - b1 - b2;
  return b0 * vec2f(a.u0, a.v0) + b1 * a.uv_vertex1 + b2 * a.uv_vertex2;
}

// Both texture coordinate sets of triangle `index` at barycentrics (b1, b2) and their level of detail for
// a ray cone `footprint` wide across the surface (cone width / |cos θ|; 0 reads level 0). A triangle whose
// mesh has no set 1 reads set 0 for it.
fn tex_coords(index: u32, b1: f32, b2: f32, footprint: f32) -> TexCoords {
  let a = attrs[index];
  let cone = select(-1e30, log2(footprint), footprint > 0.0);
  var tc = TexCoords(hit_uv(a, b1, b2), hit_uv(a, b1, b2), a.lod_bias + cone, a.lod_bias + cone);
  let record = tris[index].uv1_record;
  if (HAS_UV1 && record != 0u) {
    let r = uv1_record(record);
    tc.uv1 = (1.0 - b1 - b2) * r[0].xy + b1 * r[0].zw + b2 * r[1].xy;
    tc.lod1 = r[1].z + cone;
  }
  return tc;
}

// A triangle's record of texture coordinate set 1 (`record` is 1 + its index, not 0): (u0 v0 u1 v1),
// (u2 v2 LOD bias 0). The records follow the triangles' attributes, two per Attr.
fn uv1_record(record: u32) -> array<vec4f, 2> {
  let r = attrs[arrayLength(&tris) + (record - 1u) / 2u];
  let odd = (record - 1u) % 2u == 1u;
  // the Attr's first half (words 0-7) or its second (words 8-15)
  return array<vec4f, 2>(
    select(vec4f(r.n0, r.u0), vec4f(r.n2, r.lod_bias), odd),
    select(vec4f(r.n1, r.v0), vec4f(r.uv_vertex1, r.uv_vertex2), odd),
  );
}

// The vertices' texture coordinates of triangle `index` in set 0, or in set 1 where `set1` and its mesh
// has one.
fn vertex_uvs(index: u32, set1: bool) -> array<vec2f, 3> {
  let a = attrs[index];
  let record = tris[index].uv1_record;
  if (HAS_UV1 && set1 && record != 0u) {
    let r = uv1_record(record);
    return array<vec2f, 3>(r[0].xy, r[0].zw, r[1].xy);
  }
  return array<vec2f, 3>(vec2f(a.u0, a.v0), a.uv_vertex1, a.uv_vertex2);
}

// True where an alpha-masked material has a hole at this hit, or where a ray passes an alpha-blended one
// (with probability 1 - alpha: alpha is coverage).
fn is_cut_out(index: u32, b1: f32, b2: f32) -> bool {
  let mi = tris[index].material;
  let cutoff = materials[mi].alpha_cutoff;
  let blend = materials[mi].alpha_blend > 0.0;
  if (cutoff < 0.0 && !blend) {
    return false;
  }
  var alpha = materials[mi].alpha;
  if (HAS_TEXTURES && materials[mi].tex[SLOT_BASE_COLOR].levels != 0u) {
    // the finest level: a cut-out is point sampled, its edges are anti-aliased by the pixel's samples
    alpha *= sample_texture(materials[mi].tex[SLOT_BASE_COLOR], tex_coords(index, b1, b2, 0.0), true).a;
  }
  if (blend) {
    return rand() >= alpha;
  }
  return alpha < cutoff;
}

// Emitted radiance of triangle `index` at barycentrics (b1, b2), its texture read at the finest level
// (a light sample is a point).
fn emission_at(index: u32, b1: f32, b2: f32) -> vec3f {
  return emission_lod(index, tex_coords(index, b1, b2, 0.0));
}

// Emitted radiance of triangle `index` with its texture read at `uv`'s level of detail.
fn emission_lod(index: u32, uv: TexCoords) -> vec3f {
  let mi = tris[index].material;
  var e = materials[mi].emission;
  if (HAS_TEXTURES && materials[mi].tex[SLOT_EMISSIVE].levels != 0u) {
    e *= sample_texture(materials[mi].tex[SLOT_EMISSIVE], uv, true).rgb;
  }
  return e;
}

// The surface of triangle `index` at barycentrics (b1, b2), its textures read for a ray cone `footprint`
// wide across the surface (see tex_coords). Texture lookups take `uv` (both sets and their level of detail)
// as sample_texture(materials[mi].tex[SLOT], uv, srgb).
fn surface_at(index: u32, t: Tri, b1: f32, b2: f32, ng: vec3f, footprint: f32) -> Surface {
  let mi = t.material;
  let a = attrs[index];
  let uv = tex_coords(index, b1, b2, footprint);
  var s: Surface;
  s.base = materials[mi].base_color;
  s.alpha = materials[mi].alpha;
  s.emission = emission_lod(index, uv);
  s.metallic = materials[mi].metallic;
  s.roughness = materials[mi].roughness;
  s.ior = materials[mi].ior;
  s.transmission = materials[mi].transmission;
  s.specular = materials[mi].specular;
  if (HAS_TEXTURES && materials[mi].tex[SLOT_BASE_COLOR].levels != 0u) {
    let c = sample_texture(materials[mi].tex[SLOT_BASE_COLOR], uv, true);
    s.base *= c.rgb;
    s.alpha *= c.a;
  }
  if (HAS_TEXTURES && materials[mi].tex[SLOT_METALLIC_ROUGHNESS].levels != 0u) {
    let c = sample_texture(materials[mi].tex[SLOT_METALLIC_ROUGHNESS], uv, false);
    s.roughness *= c.g;
    s.metallic *= c.b;
  }
  surface_extensions(&s, mi, uv);
  // interpolated normal, or the geometric one where the mesh has none
  let b0 = 1.0 - b1 - b2;
  var n = b0 * a.n0 + b1 * a.n1 + b2 * a.n2;
  n = select(ng, normalize(n), dot(n, n) > 1e-12);
  if (dot(n, ng) < 0.0) {
    n = -n;
  }
  s.coat_n = n;
  if (HAS_LAYERS && HAS_TEXTURES && s.clearcoat > 0.0) {
    let coat_map = materials[mi].tex[SLOT_CLEARCOAT_NORMAL];
    if (coat_map.levels != 0u) {
      let c = sample_texture(coat_map, uv, false).xyz;
      let vuv = vertex_uvs(index, coat_map.tex_coord > 0.5);
      s.coat_n = normal_mapped(t, vuv, n, ng, c, materials[mi].clearcoat_normal_scale);
    }
  }
  if (HAS_TEXTURES && materials[mi].tex[SLOT_NORMAL].levels != 0u) {
    let c = sample_texture(materials[mi].tex[SLOT_NORMAL], uv, false).xyz;
    let vuv = vertex_uvs(index, materials[mi].tex[SLOT_NORMAL].tex_coord > 0.5);
    n = normal_mapped(t, vuv, n, ng, c, materials[mi].normal_scale);
  }
  s.ns = n;
  return s;
}

// The fields of the material extensions (specular colour, transmission and specular textures, clear coat,
// sheen, volume absorption) at texture coordinates uv.
fn surface_extensions(s: ptr<function, Surface>, mi: u32, uv: TexCoords) {
  (*s).specular_color = materials[mi].specular_color;
  (*s).clearcoat = 0.0;
  (*s).clearcoat_roughness = 0.0;
  (*s).sheen_color = vec3f(0.0);
  (*s).sheen_roughness = 0.0;
  (*s).absorption = materials[mi].absorption;
  if (HAS_TEXTURES && materials[mi].tex[SLOT_TRANSMISSION].levels != 0u) {
    (*s).transmission *= sample_texture(materials[mi].tex[SLOT_TRANSMISSION], uv, false).r;
  }
  if (HAS_TEXTURES && materials[mi].tex[SLOT_SPECULAR].levels != 0u) {
    (*s).specular *= sample_texture(materials[mi].tex[SLOT_SPECULAR], uv, false).a;
  }
  if (HAS_TEXTURES && materials[mi].tex[SLOT_SPECULAR_COLOR].levels != 0u) {
    (*s).specular_color *= sample_texture(materials[mi].tex[SLOT_SPECULAR_COLOR], uv, true).rgb;
  }
  if (!HAS_LAYERS) {
    return;
  }
  (*s).clearcoat = materials[mi].clearcoat;
  (*s).clearcoat_roughness = materials[mi].clearcoat_roughness;
  (*s).sheen_color = materials[mi].sheen_color;
  (*s).sheen_roughness = materials[mi].sheen_roughness;
  if (HAS_TEXTURES && materials[mi].tex[SLOT_CLEARCOAT].levels != 0u) {
    (*s).clearcoat *= sample_texture(materials[mi].tex[SLOT_CLEARCOAT], uv, false).r;
  }
  if (HAS_TEXTURES && materials[mi].tex[SLOT_CLEARCOAT_ROUGHNESS].levels != 0u) {
    (*s).clearcoat_roughness *= sample_texture(materials[mi].tex[SLOT_CLEARCOAT_ROUGHNESS], uv, false).g;
  }
  if (HAS_TEXTURES && materials[mi].tex[SLOT_SHEEN_COLOR].levels != 0u) {
    (*s).sheen_color *= sample_texture(materials[mi].tex[SLOT_SHEEN_COLOR], uv, true).rgb;
  }
  if (HAS_TEXTURES && materials[mi].tex[SLOT_SHEEN_ROUGHNESS].levels != 0u) {
    (*s).sheen_roughness *= sample_texture(materials[mi].tex[SLOT_SHEEN_ROUGHNESS], uv, false).a;
  }
}

// Normal `n` bent by tangent-space normal `c` (texel * 2 - 1 after the lookup; x and y scaled by k), in the
// tangent frame of triangle t's positions and texture coordinates; `n` where that frame is degenerate or the
// result faces away from ng.
fn normal_mapped(t: Tri, vuv: array<vec2f, 3>, n: vec3f, ng: vec3f, texel: vec3f, k: f32) -> vec3f {
  let duv1 = vuv[1] - vuv[0];
  let duv2 = vuv[2] - vuv[0];
  let det = duv1.x * duv2.y - duv1.y * duv2.x;
  if (abs(det) <= 1e-12) {
    return n;
  }
  let e1 = t.v1 - t.v0;
  let e2 = t.v2 - t.v0;
  let tu = (e1 * duv2.y - e2 * duv1.y) / det;
  let tv = (e2 * duv1.x - e1 * duv2.x) / det;
  let tangent = tu - n * dot(n, tu);
  if (dot(tangent, tangent) <= 1e-12) {
    return n;
  }
  let tn = normalize(tangent);
  let bn = cross(n, tn) * select(-1.0, 1.0, dot(cross(n, tn), tv) >= 0.0);
  let c = texel * 2.0 - 1.0;
  let mapped = normalize(tn * (c.x * k) + bn * (c.y * k) + n * max(c.z, 1e-3));
  return select(n, mapped, dot(mapped, ng) > 0.0);
}
