// Stand-ins for layers.wgsl in scenes without a clear coat or a sheen: HAS_LAYERS is false, so bsdf.wgsl
// and the trace kernel never call these; they keep the module complete.

const HAS_LAYERS: bool = false;

struct Layers {
  coat: f32,
  sheen: f32,
  base: f32,
  sheen_scale: f32,
}

fn layers(s: Surface, wo: vec3f) -> Layers {
  return Layers(0.0, 0.0, 1.0, 1.0);
}

fn coat_smooth(s: Surface) -> bool {
  return true;
}

fn coat_to_local(frame: mat3x3f, n: vec3f, wo: vec3f) -> vec3f {
  return vec3f(0.0, 0.0, 1.0);
}

fn layers_eval(s: Surface, wo: vec3f, wi: vec3f, ly: Layers, base: BsdfEval) -> BsdfEval {
  return base;
}

fn layer_direction(s: Surface, wo: vec3f, sheen: bool, u1: f32, u2: f32) -> vec3f {
  return wo;
}
