// Closest-hit queries for a batch of rays: used to test BVH traversal and to measure it.

@compute @workgroup_size(INTERSECT_WORKGROUP)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  if (gid.x >= arrayLength(&rays)) {
    return;
  }
  let r = rays[gid.x];
  hits[gid.x] = trace_ray(r.origin, r.dir, r.tmax, false);
}
