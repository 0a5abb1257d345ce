// Shading bindings of the path tracer (group 0, bindings 3 and 4).

@group(0) @binding(3) var<storage, read> materials: array<Material>;
@group(0) @binding(4) var<storage, read> lights: array<LightEntry>;

fn tri_material(t: Tri) -> u32 {
  return bitcast<u32>(t.v0.w);
}
