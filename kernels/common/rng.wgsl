// Counter-based random numbers: the stream of a path depends only on (pixel, sample index, seed), never
// on which node, dispatch or batch renders it. This is what makes split and distributed renders exact.

var<private> rng_state: u32;

fn pcg_hash(v: u32) -> u32 {
  let state = v * 747796405u + 2891336453u;
  let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
  return (word >> 22u) ^ word;
}

fn rng_seed(pixel: u32, sample_index: u32, seed: u32) {
  rng_state = pcg_hash(pixel ^ pcg_hash(sample_index ^ pcg_hash(seed ^ 0x9e3779b9u)));
}

// A float in [0, 1).
fn rand() -> f32 {
  rng_state = rng_state * 747796405u + 2891336453u;
  let word = ((rng_state >> ((rng_state >> 28u) + 4u)) ^ rng_state) * 277803737u;
  return f32(((word >> 22u) ^ word) >> 8u) * (1.0 / 16777216.0);
}
