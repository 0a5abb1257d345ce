// Ray queries against the flattened BVH. Expects `nodes: array<Node>` and `tris: array<Tri>` bindings.

// Loop iterations this invocation has run, in every loop. llvmpipe (Mesa's software GPU) silently ends
// all loops of an invocation after 65535 iterations in total, so the host checks this count.
var<private> loop_iterations: u32;
// Traversals cut short: a tree's traversal visits each node at most once, so one that visits more nodes than
// there are is walking a BVH that is not a tree (the loader refuses those; this is the second guard).
var<private> capped_traversals: u32;

fn safe_inverse(d: vec3f) -> vec3f {
  let s = select(vec3f(1.0), vec3f(-1.0), d < vec3f(0.0));
  return 1.0 / select(d, s * 1e-20, abs(d) < vec3f(1e-20));
}

// Entry distance into the box, or INF when the ray misses it within [0, tmax].
fn hit_box(o: vec3f, inv_d: vec3f, bmin: vec3f, bmax: vec3f, tmax: f32) -> f32 {
  let t0 = (bmin - o) * inv_d;
  let t1 = (bmax - o) * inv_d;
  let lo = min(t0, t1);
  let hi = max(t0, t1);
  let near = max(max(lo.x, lo.y), max(lo.z, 0.0));
  let far = min(min(hi.x, hi.y), min(hi.z, tmax));
  return select(INF, near, near <= far);
}

// Möller-Trumbore; returns (t, u, v) with t = INF on a miss.
fn hit_triangle(o: vec3f, d: vec3f, tri: Tri) -> vec3f {
  let e1 = tri.v1.xyz - tri.v0.xyz;
  let e2 = tri.v2.xyz - tri.v0.xyz;
  let p = cross(d, e2);
  let det = dot(e1, p);
  if (abs(det) < 1e-20) {
    return vec3f(INF, 0.0, 0.0);
  }
  let inv_det = 1.0 / det;
  let s = o - tri.v0.xyz;
  let u = dot(s, p) * inv_det;
  if (u < 0.0 || u > 1.0) {
    return vec3f(INF, 0.0, 0.0);
  }
  let q = cross(s, e1);
  let v = dot(d, q) * inv_det;
  if (v < 0.0 || u + v > 1.0) {
    return vec3f(INF, 0.0, 0.0);
  }
  let t = dot(e2, q) * inv_det;
  return vec3f(select(INF, t, t > 0.0), u, v);
}

// Closest hit within (0, tmax), or with any_hit the first one found. `tests` counts node visits.
fn trace_ray(o: vec3f, d: vec3f, tmax: f32, any_hit: bool) -> Hit {
  var hit = Hit(tmax, NO_HIT, 0.0, 0.0);
  let inv_d = safe_inverse(d);
  let root = nodes[0];
  if (hit_box(o, inv_d, root.bmin, root.bmax, tmax) == INF) {
    return hit;
  }
  var stack: array<u32, 64>;
  var sp = 0u;
  var index = 0u;
  let max_visits = arrayLength(&nodes);
  var visits = 0u;
  loop {
    loop_iterations++;
    visits++;
    if (visits > max_visits) {
      capped_traversals++;
      break;
    }
    let node = nodes[index];
    if (node.count > 0u) {
      for (var i = node.first; i < node.first + node.count; i++) {
        loop_iterations++;
        let r = hit_triangle(o, d, tris[i]);
        if (r.x < hit.t) {
          hit = Hit(r.x, i, r.y, r.z);
          if (any_hit) {
            return hit;
          }
        }
      }
      if (sp == 0u) {
        break;
      }
      sp--;
      index = stack[sp];
      continue;
    }
    let a = nodes[node.first];
    let b = nodes[node.first + 1u];
    var ta = hit_box(o, inv_d, a.bmin, a.bmax, hit.t);
    var tb = hit_box(o, inv_d, b.bmin, b.bmax, hit.t);
    var near = node.first;
    var far = node.first + 1u;
    if (tb < ta) {
      let t = ta;
      ta = tb;
      tb = t;
      near = node.first + 1u;
      far = node.first;
    }
    if (ta == INF) {
      if (sp == 0u) {
        break;
      }
      sp--;
      index = stack[sp];
      continue;
    }
    index = near;
    if (tb != INF && sp < 64u) {
      stack[sp] = far;
      sp++;
    }
  }
  return hit;
}
