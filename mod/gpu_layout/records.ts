/**
 * Every record the kernels read and the render data holds, declared once. The WGSL structs are generated
 * from these tables (see `wgsl.ts`); the TypeScript side writes and reads them by field name. A field
 * added here is in both; its users are the only other places to change.
 *
 * The render data's sections (`.ocrd`, and what a master sends) hold these records byte for byte: a change
 * to a render-data record's size or field order is a change of the `.ocrd` format (bump `OCRD_VERSION`).
 * `reserved` fields are zero in render data and free for the next field.
 * @module
 */
import {
  array,
  atomicU32,
  f32,
  field,
  type Fields,
  type GpuRecord,
  record,
  u32,
  vec2f,
  vec2u,
  vec3f,
  vec3u,
  vec4f,
  vec4u,
} from "./record.ts";

/** The camera section, and the renderer's copy of it in {@linkcode PARAMS}. */
export const CAMERA = record(
  "Camera",
  "A pinhole or thin-lens camera: an orthonormal basis looking along +forward.",
  {
    position: field(vec3f, "Eye position."),
    tan_half_fov: field(f32, "tan of half the vertical field of view."),
    right: field(vec3f, "Unit vector to the image's right."),
    lens_radius: field(f32, "Thin-lens aperture radius; 0 for a pinhole."),
    up: field(vec3f, "Unit vector to the image's top."),
    focus_distance: field(f32, "Distance along forward that is in focus."),
    forward: field(vec3f, "Unit view direction."),
    aspect: field(
      f32,
      "Width / height. In render data the camera's own aspect ratio (0 for none; it sets the default image size); in Params the image's.",
    ),
  },
);

/** The environment section, and the renderer's copy of it in {@linkcode PARAMS}. */
export const ENVIRONMENT = record(
  "Environment",
  "The environment: a constant colour, or an equirectangular map of RGBE words in the texels with its sampling CDFs (a marginal over rows, then one conditional per row).",
  {
    color: field(vec3f, "Constant colour (linear), used where there is no map."),
    intensity: field(f32, "Scale of the colour or the map."),
    map_size: field(vec2u, "Map width and height in texels."),
    texel_offset: field(u32, "The map's first RGBE word, in 4-byte words of the texels."),
    cdf_offset: field(u32, "The CDFs' first word, in 4-byte words of the texels."),
    total_weight: field(f32, "Sum of the map's sampling weights (luminance x sin θ)."),
    has_map: field(u32, "1 where there is a map."),
    nee_share: field(
      f32,
      "Probability that next-event estimation picks the map. Zero in render data; the renderer sets it.",
    ),
    reserved0: field(u32, "Zero."),
    reserved1: field(vec4u, "Zero."),
  },
);

/** The renderer's uniform block, written per image and per dispatch. */
export const PARAMS = record(
  "Params",
  "What one dispatch of the path tracer renders: one invocation per pixel of the region, sample_count samples each.",
  {
    width: field(u32, "Image width."),
    height: field(u32, "Image height."),
    region_x: field(u32, "Left column of the dispatch's region."),
    region_y: field(u32, "Top row of the dispatch's region."),
    region_w: field(u32, "Width of the region."),
    region_h: field(u32, "Height of the region."),
    sample_start: field(u32, "First sample index."),
    sample_count: field(u32, "Samples per pixel of this dispatch."),
    seed: field(u32, "Seed of every random number, with pixel and sample index."),
    max_depth: field(u32, "Longest path, in bounces."),
    rr_depth: field(u32, "Bounce at which Russian roulette starts."),
    light_count: field(u32, "Emissive triangles (entries of the lights binding)."),
    punct_count: field(u32, "Punctual lights (records of the punctual binding)."),
    tri_share: field(
      f32,
      "Share of the picks that are not the environment's that go to emissive triangles (1 without punctual lights).",
    ),
    flags: field(u32, "Bit 0: BSDF sampling only, no next-event estimation (see PARAM_FLAGS)."),
    accum_base: field(
      u32,
      "Accumulator index of the region's first pixel (a dispatch may render some rows of a band).",
    ),
    camera: field(CAMERA, "The camera, with the image's aspect ratio."),
    env: field(ENVIRONMENT, "The environment, with the renderer's pick share."),
  },
);

/** Bits of {@linkcode PARAMS}' `flags`. */
export const PARAM_FLAGS = {
  /** BSDF sampling only (no next-event estimation): tests compare the MIS estimator with it. */
  bsdfOnly: 1,
} as const;

/** A texture reference inside {@linkcode MATERIAL}. */
export const TEX_REF = record(
  "TexRef",
  "A material's use of a texture: where its mip chain starts in the texels (a header of one word per level, that level's first texel counted from the chain's start, then the levels' RGBA8 texels), level 0's size, its number of levels (0: no texture), and the UV transform's rows.",
  {
    offset: field(u32, "The chain's first word in the texels."),
    width: field(u32, "Level 0's width."),
    height: field(u32, "Level 0's height."),
    levels: field(u32, "Mip levels; 0 where the slot has no texture."),
    row0: field(vec3f, "First row of the UV transform (KHR_texture_transform)."),
    tex_coord: field(f32, "The texture coordinate set read: 0 or 1."),
    row1: field(vec3f, "Second row of the UV transform."),
    reserved: field(f32, "Zero."),
  },
);

/**
 * Texture slots of a material, in order: the core four, then those of KHR_materials_clearcoat (4-6),
 * KHR_materials_sheen (7-8), KHR_materials_transmission (9) and KHR_materials_specular (10-11).
 */
export const TEXTURE_SLOTS = [
  "baseColor",
  "metallicRoughness",
  "normal",
  "emissive",
  "clearcoat",
  "clearcoatRoughness",
  "clearcoatNormal",
  "sheenColor",
  "sheenRoughness",
  "transmission",
  "specular",
  "specularColor",
] as const;

/** A material (glTF metallic-roughness and its extensions). */
export const MATERIAL = record(
  "Material",
  "A principled material (glTF metallic-roughness and KHR_materials_clearcoat, _sheen, _volume, _specular). Its texture slots are TEXTURE_SLOTS' (mod/gpu_layout/records.ts).",
  {
    base_color: field(vec3f, "Base colour (linear)."),
    alpha: field(f32, "Base alpha."),
    emission: field(vec3f, "Emitted radiance (emissive factor times strength)."),
    metallic: field(f32, "Metalness in [0, 1]."),
    roughness: field(f32, "Perceptual roughness in [0, 1]."),
    ior: field(f32, "Index of refraction."),
    transmission: field(f32, "KHR_materials_transmission's factor in [0, 1]."),
    specular: field(f32, "KHR_materials_specular's factor."),
    alpha_cutoff: field(
      f32,
      "Negative: opaque; else the alpha below which a surface is not there (glTF MASK).",
    ),
    normal_scale: field(f32, "Scale of the normal map's x and y."),
    alpha_blend: field(
      f32,
      "1 where alpha is coverage (glTF BLEND): a ray passes the surface with probability 1 - alpha; 0 otherwise.",
    ),
    reserved0: field(f32, "Zero."),
    reserved1: field(vec4f, "Zero."),
    reserved2: field(vec4f, "Zero."),
    tex: field(array(TEX_REF, TEXTURE_SLOTS.length), "Texture references, by TEXTURE_SLOTS."),
    clearcoat: field(f32, "KHR_materials_clearcoat's factor."),
    clearcoat_roughness: field(f32, "The coat's roughness."),
    clearcoat_normal_scale: field(f32, "Scale of the coat's normal map."),
    sheen_roughness: field(f32, "KHR_materials_sheen's roughness."),
    sheen_color: field(vec3f, "KHR_materials_sheen's colour."),
    reserved3: field(f32, "Zero."),
    absorption: field(
      vec3f,
      "Beer–Lambert absorption per unit length inside the volume (KHR_materials_volume: -ln(attenuationColor) / attenuationDistance); 0 for none.",
    ),
    reserved4: field(f32, "Zero."),
    specular_color: field(vec3f, "KHR_materials_specular's colour."),
    reserved5: field(f32, "Zero."),
  },
);

/** A triangle of the triangles section, in BVH order. */
export const TRI = record(
  "Tri",
  "A triangle: its vertices, material, light pick probability and texture coordinate set 1 record.",
  {
    v0: field(vec3f, "First vertex."),
    material: field(u32, "Index of its material."),
    v1: field(vec3f, "Second vertex."),
    light_prob: field(f32, "Probability that next-event estimation picks it (0 if not emissive)."),
    v2: field(vec3f, "Third vertex."),
    uv1_record: field(
      u32,
      "1 + index of its texture coordinate set 1 record (UV1); 0 where its mesh has none.",
    ),
  },
);

/** A triangle's shading attributes, in the attributes section. */
export const ATTR = record(
  "Attr",
  "A triangle's shading attributes: vertex normals and texture coordinates (set 0) with set 0's level-of-detail bias. After the triangles' attributes the section holds the UV1 records, two per Attr.",
  {
    n0: field(vec3f, "Vertex 0's normal (zero where the mesh has none)."),
    u0: field(f32, "Vertex 0's u."),
    n1: field(vec3f, "Vertex 1's normal."),
    v0: field(f32, "Vertex 0's v."),
    n2: field(vec3f, "Vertex 2's normal."),
    lod_bias: field(f32, "½·log2(UV area / world area) of set 0 (lodBias in mod/gpu_layout/records.ts)."),
    uv_vertex1: field(vec2f, "Vertex 1's texture coordinates."),
    uv_vertex2: field(vec2f, "Vertex 2's texture coordinates."),
  },
);

/** A triangle's record of texture coordinate set 1: half an {@linkcode ATTR}, after the triangles' ones. */
export const UV1 = record(
  "Uv1",
  "A triangle's texture coordinates in set 1 and their level-of-detail bias (two records per Attr).",
  {
    uv_vertex0: field(vec2f, "Vertex 0's coordinates."),
    uv_vertex1: field(vec2f, "Vertex 1's coordinates."),
    uv_vertex2: field(vec2f, "Vertex 2's coordinates."),
    lod_bias: field(f32, "½·log2(UV area / world area) of set 1."),
    reserved: field(f32, "Zero."),
  },
);

/** An emissive triangle of the lights section. */
export const LIGHT_ENTRY = record(
  "LightEntry",
  "One emissive triangle: its index and the cumulative pick probability up to and including it.",
  {
    tri: field(u32, "Triangle index."),
    cdf: field(f32, "Cumulative probability."),
  },
);

/** The punctual section's first record. */
export const PUNCTUAL_HEADER = record(
  "PunctualHeader",
  "The punctual section's header: the light count and how next-event estimation shares its picks between the light sources, by power.",
  {
    count: field(u32, "Punctual lights after the header."),
    env_share: field(f32, "Probability of picking the environment map."),
    triangle_share: field(f32, "Probability of picking the emissive triangles (all together)."),
    punctual_share: field(f32, "Probability of picking the punctual lights (all together)."),
    reserved0: field(vec4u, "Zero."),
    reserved1: field(vec4u, "Zero."),
    reserved2: field(vec4u, "Zero."),
  },
);

/** Kinds of punctual light, as stored in {@linkcode PUNCTUAL}'s `kind`. */
export const PUNCTUAL_KIND = { point: 0, spot: 1, directional: 2 } as const;

/** A punctual light (KHR_lights_punctual), after the header of the punctual section. */
export const PUNCTUAL = record(
  "PunctualLight",
  "A point, spot or directional light (KHR_lights_punctual). It has no area: next-event estimation alone finds it.",
  {
    position: field(vec3f, "Position (point, spot)."),
    kind: field(f32, "0 point, 1 spot, 2 directional (PUNCTUAL_KIND), as a float."),
    direction: field(vec3f, "The direction it shines along (spot axis, directional travel)."),
    cdf: field(f32, "Cumulative pick probability among the punctual lights."),
    intensity: field(vec3f, "W/sr for point and spot, W/m² for directional."),
    prob: field(f32, "Pick probability among the punctual lights."),
    cos_outer: field(f32, "Spot: cos of the outer cone angle."),
    cos_inner: field(f32, "Spot: cos of the inner cone angle."),
    inv_band: field(f32, "Spot: 1 / (cos inner - cos outer), at most 1e4."),
    reserved: field(f32, "Zero."),
  },
);

/** A BVH node of the nodes section (the kernels read the traversal texture made from it). */
export const NODE = record(
  "Node",
  "A BVH node. Interior: children at first and first + 1, count 0. Leaf: triangles [first, first + count).",
  {
    bmin: field(vec3f, "Box minimum."),
    first: field(u32, "First child, or first triangle."),
    bmax: field(vec3f, "Box maximum."),
    count: field(u32, "Triangles of a leaf; 0 for an interior node."),
  },
);

/**
 * The traversal texture's first record (4 texels of 16 bytes; mod/render/traversal.ts). The kernels read it
 * with textureLoad, texel by texel, in the order of these fields (kernels/common/bvh.wgsl).
 */
export const TRAVERSAL_HEADER = record("TraversalHeader", "The traversal texture's header.", {
  root_min: field(vec3f, "The root's box minimum."),
  root_entry: field(u32, "The root's entry word (index << 4 | leaf count)."),
  root_max: field(vec3f, "The root's box maximum."),
  max_steps: field(u32, "Most steps a traversal may take (interior nodes plus triangles)."),
  triangle_texel: field(u32, "The first triangle record's texel."),
  reserved0: field(vec3u, "Zero."),
  reserved1: field(vec4u, "Zero."),
});

/** An interior node of the traversal texture: its two children's boxes and entry words (4 texels). */
export const TRAVERSAL_NODE = record("TraversalNode", "An interior node of the traversal texture.", {
  a_min: field(vec3f, "First child's box minimum."),
  a_entry: field(u32, "First child's entry word."),
  a_max: field(vec3f, "First child's box maximum."),
  reserved0: field(u32, "Zero."),
  b_min: field(vec3f, "Second child's box minimum."),
  b_entry: field(u32, "Second child's entry word."),
  b_max: field(vec3f, "Second child's box maximum."),
  reserved1: field(u32, "Zero."),
});

/** A closest hit, as the traversal returns it and the intersect kernel writes it. */
export const HIT = record("Hit", "A closest hit: distance, triangle (NO_HIT on a miss) and barycentrics.", {
  t: field(f32, "Distance along the ray."),
  tri: field(u32, "Triangle index in BVH order, or NO_HIT."),
  u: field(f32, "Barycentric of vertex 1."),
  v: field(f32, "Barycentric of vertex 2."),
});

/** A ray of the intersect kernel's input. */
export const RAY = record("Ray", "A ray to intersect.", {
  origin: field(vec3f, "Origin."),
  tmax: field(f32, "Farthest hit distance."),
  dir: field(vec3f, "Unit direction."),
  reserved: field(f32, "Zero."),
});

/** What the path tracer counts per dispatch (the stats binding). */
export const STATS = record("Stats", "Counters of one dispatch, added to atomically.", {
  rays: field(atomicU32, "Rays traced (camera, bounce and shadow rays)."),
  loop_iterations: field(
    atomicU32,
    "Most loop iterations one invocation ran (llvmpipe ends loops past 65535).",
  ),
  dropped_samples: field(atomicU32, "Samples dropped as not finite."),
  capped_traversals: field(
    atomicU32,
    "BVH traversals cut short at the node count (render data that is not a tree).",
  ),
});

/** One pixel of the accumulator without AOVs; with AOVs a pixel is three of these. */
export const ACCUM_PIXEL = record(
  "AccumPixel",
  "A pixel's running sums (radiance, or an AOV) and a spare word.",
  {
    sum: field(vec3f, "Sum over the pixel's samples."),
    reserved: field(f32, "Zero."),
  },
);

/** Records the kernels declare, in the order their WGSL structs are emitted. */
export const KERNEL_RECORDS: readonly GpuRecord<Fields>[] = [
  CAMERA,
  ENVIRONMENT,
  PARAMS,
  TEX_REF,
  MATERIAL,
  TRI,
  ATTR,
  LIGHT_ENTRY,
  PUNCTUAL,
  HIT,
  RAY,
  STATS,
];

/**
 * ½·log2(UV area / world area) of a triangle, the texture-independent part of its ray-cone level of detail
 * (Akenine-Möller et al., Ray Tracing Gems ch. 20): a texture of w×h texels is read at level
 * lodBias + ½·log2(w·h·|det UV transform|) + log2(cone width / |cos θ|). A triangle without UV area or world
 * area gets -126 (level 0).
 */
export function lodBias(uvArea: number, worldArea: number): number {
  const ratio = uvArea / worldArea;
  return ratio > 0 && Number.isFinite(ratio) ? Math.max(-126, Math.min(126, 0.5 * Math.log2(ratio))) : -126;
}
