// Ray queries against the BVH and the triangles in the traversal layout of mod/render/traversal.ts, read
// from the scene_texels texture: software GPUs read a texel of 16 bytes for a SIMD group at once, a storage
// word one lane at a time.

// Texel k of the traversal texture.
fn texel_at(k: u32) -> vec2u {
  return vec2u(k & ((1u << TEXEL_ROW_SHIFT) - 1u), k >> TEXEL_ROW_SHIFT);
}

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
// count 0 an interior node, else a leaf of `count` triangles from triangle `index`. Each step reads the four
// texels of one interior node or one triangle and does the work of either: a SIMD group of invocations
// (llvmpipe runs every branch for all of them) fetches once per step, whichever each invocation is at.
fn trace_ray(o: vec3f, d: vec3f, tmax: f32, any_hit: bool) -> Hit {
  var hit = Hit(tmax, NO_HIT, 0.0, 0.0);
  let inv_d = safe_inverse(d);
  let h0 = textureLoad(scene_texels, vec2u(0u, 0u), 0);
  let h1 = textureLoad(scene_texels, vec2u(1u, 0u), 0);
  if (h0.w == 0xffffffffu || hit_box(o, inv_d, bitcast<vec3f>(h0.xyz), bitcast<vec3f>(h1.xyz), tmax) == INF) {
    return hit;
  }
  let tri_base = textureLoad(scene_texels, vec2u(2u, 0u), 0).x;
  var stack: array<u32, 64>;
  var sp = 0u;
  var entry = h0.w;
  let max_steps = h1.w;
  var steps = 0u;
  loop {
    loop_iterations++;
    steps++;
    if (steps > max_steps) {
      capped_traversals++;
      break;
    }
    let count = entry & 15u;
    let first = entry >> 4u;
    let leaf = count > 0u;
    let at = texel_at(select((first + 1u) * 4u, tri_base + first * 4u, leaf));
    let t0 = textureLoad(scene_texels, at, 0);
    let t1 = textureLoad(scene_texels, at + vec2u(1u, 0u), 0);
    let t2 = textureLoad(scene_texels, at + vec2u(2u, 0u), 0);
    let t3 = textureLoad(scene_texels, at + vec2u(3u, 0u), 0);
    if (leaf) {
      let r = hit_triangle(o, d, bitcast<vec3f>(t0.xyz), bitcast<vec3f>(t1.xyz), bitcast<vec3f>(t2.xyz));
      if (r.x < hit.t) {
        hit = Hit(r.x, first, r.y, r.z);
        if (any_hit) {
          return hit;
        }
      }
      if (count > 1u) {
        // the leaf's next triangle
        entry += 15u;
        continue;
      }
      if (sp == 0u) {
        break;
      }
      sp--;
      entry = stack[sp];
      continue;
    }
    var ta = hit_box(o, inv_d, bitcast<vec3f>(t0.xyz), bitcast<vec3f>(t1.xyz), hit.t);
    var tb = hit_box(o, inv_d, bitcast<vec3f>(t2.xyz), bitcast<vec3f>(t3.xyz), hit.t);
    var near = t0.w;
    var far = t2.w;
    if (tb < ta) {
      let t = ta;
      ta = tb;
      tb = t;
      near = t2.w;
      far = t0.w;
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
