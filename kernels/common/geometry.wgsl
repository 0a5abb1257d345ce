// Geometry bindings of every kernel that traces rays (group 0): the triangles (binding 2, for shading), and
// the BVH and triangles in the traversal layout of mod/render/traversal.ts (binding 9): software GPUs
// read a texel of 16 bytes for a SIMD group at once, a storage word one lane at a time.

@group(0) @binding(2) var<storage, read> tris: array<Tri>;
@group(0) @binding(9) var scene_texels: texture_2d<u32>;

// Pipeline constant: log2 of the traversal texture's texels a row (mod/render/traversal.ts textureShift).
override TEXEL_ROW_SHIFT: u32 = 12u;

// Texel k of the traversal texture.
fn texel_at(k: u32) -> vec2u {
  return vec2u(k & ((1u << TEXEL_ROW_SHIFT) - 1u), k >> TEXEL_ROW_SHIFT);
}
