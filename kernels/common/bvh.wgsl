// Ray queries against the BVH in the traversal layout (geometry.wgsl's node_texels and tri_texels).

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
fn hit_triangle(o: vec3f, d: vec3f, v0: vec3f, v1: vec3f, v2: vec3f) -> vec3f {
  let e1 = v1 - v0;
  let e2 = v2 - v0;
  let p = cross(d, e2);
  let det = dot(e1, p);
  if (abs(det) < 1e-20) {
    return vec3f(INF, 0.0, 0.0);
  }
  let inv_det = 1.0 / det;
  let s = o - v0;
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

// Closest hit within (0, tmax), or with any_hit the first one found. An entry word is index << 4 | count:
// count 0 an interior node, else a leaf of `count` triangles from triangle `index`.
fn trace_ray(o: vec3f, d: vec3f, tmax: f32, any_hit: bool) -> Hit {
  var hit = Hit(tmax, NO_HIT, 0.0, 0.0);
  let inv_d = safe_inverse(d);
  let h0 = textureLoad(node_texels, vec2u(0u, 0u), 0);
  let h1 = textureLoad(node_texels, vec2u(1u, 0u), 0);
  if (h0.w == 0xffffffffu || hit_box(o, inv_d, bitcast<vec3f>(h0.xyz), bitcast<vec3f>(h1.xyz), tmax) == INF) {
    return hit;
  }
  var stack: array<u32, 64>;
  var sp = 0u;
  var entry = h0.w;
  let max_visits = h1.w;
  var visits = 0u;
  loop {
    loop_iterations++;
    visits++;
    if (visits > max_visits) {
      capped_traversals++;
      break;
    }
    let count = entry & 15u;
    let first = entry >> 4u;
    if (count > 0u) {
      for (var i = first; i < first + count; i++) {
        loop_iterations++;
        let at = texel_at(i * 4u);
        let v0 = textureLoad(tri_texels, at, 0);
        let v1 = textureLoad(tri_texels, at + vec2u(1u, 0u), 0);
        let v2 = textureLoad(tri_texels, at + vec2u(2u, 0u), 0);
        let r = hit_triangle(o, d, bitcast<vec3f>(v0.xyz), bitcast<vec3f>(v1.xyz), bitcast<vec3f>(v2.xyz));
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
      entry = stack[sp];
      continue;
    }
    let at = texel_at((first + 1u) * 4u);
    let a0 = textureLoad(node_texels, at, 0);
    let a1 = textureLoad(node_texels, at + vec2u(1u, 0u), 0);
    let b0 = textureLoad(node_texels, at + vec2u(2u, 0u), 0);
    let b1 = textureLoad(node_texels, at + vec2u(3u, 0u), 0);
    var ta = hit_box(o, inv_d, bitcast<vec3f>(a0.xyz), bitcast<vec3f>(a1.xyz), hit.t);
    var tb = hit_box(o, inv_d, bitcast<vec3f>(b0.xyz), bitcast<vec3f>(b1.xyz), hit.t);
    var near = a0.w;
    var far = b0.w;
    if (tb < ta) {
      let t = ta;
      ta = tb;
      tb = t;
      near = b0.w;
      far = a0.w;
    }
    if (ta == INF) {
      if (sp == 0u) {
        break;
      }
      sp--;
      entry = stack[sp];
      continue;
    }
    entry = near;
    if (tb != INF && sp < 64u) {
      stack[sp] = far;
      sp++;
    }
  }
  return hit;
}
