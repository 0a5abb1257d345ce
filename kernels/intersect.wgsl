// Closest-hit queries for a batch of rays: used to test BVH traversal and to measure it.

struct Ray {
  origin: vec4f,
  dir: vec4f,
}

@group(0) @binding(0) var<storage, read> rays: array<Ray>;
@group(0) @binding(5) var<storage, read_write> hits: array<Hit>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  if (gid.x >= arrayLength(&rays)) {
    return;
  }
  let r = rays[gid.x];
  hits[gid.x] = trace_ray(r.origin.xyz, r.dir.xyz, INF, false);
}
