// The renderer's settings, regions, sample ranges and results.

/** Image-wide render settings that are not part of the scene. */
export interface RenderSettings {
  /** Image width in pixels. */
  width: number;
  /** Image height in pixels. */
  height: number;
  /** Seed of every random number, together with pixel and sample index. */
  seed: number;
  /** Longest path, in bounces. */
  maxDepth: number;
  /** "mis" (default): next-event estimation and BSDF sampling by MIS; "bsdf": BSDF sampling alone. */
  strategy?: "mis" | "bsdf";
  /**
   * Also accumulate each sample's first-hit albedo and shading normal (AOVs for a denoiser; see
   * {@linkcode TileResult.aovs}). The radiance is the same either way.
   */
  aovs?: boolean;
}

/** A rectangle of the image, in pixels. */
export interface Region {
  /** Left column. */
  x: number;
  /** Top row. */
  y: number;
  /** Width. */
  width: number;
  /** Height. */
  height: number;
}

/** A range of sample indices: [start, start + count). */
export interface SampleRange {
  /** First sample index. */
  start: number;
  /** Number of samples per pixel. */
  count: number;
}

/** What one render call returns. */
export interface TileResult {
  /** Per-pixel radiance sums over the range, 3 floats (rgb) per pixel of the region, row-major. */
  sums: Float32Array;
  /**
   * With {@linkcode RenderSettings.aovs}: per-pixel sums of the AOVs over the range, 6 floats per pixel of
   * the region (albedo rgb, then the world-space shading normal xyz), row-major. Each sample adds the albedo
   * and normal of the first surface along its path that is not a perfect mirror or smooth glass (roughness
   * below 0.01 and a mirror or refraction sampled there); a path that leaves the scene first adds the
   * environment's radiance clamped to [0, 1] and a zero normal.
   */
  aovs?: Float32Array;
  /** Rays traced (camera, bounce and shadow rays). */
  rays: number;
  /** Most loop iterations any one invocation ran in one dispatch (see SOFTWARE_LOOP_LIMIT in _dispatch_plan.ts). */
  loopIterations: number;
  /** Samples dropped because they were not finite (degenerate geometry); 0 in a healthy scene. */
  droppedSamples: number;
  /** BVH traversals cut short at the node count: 0 unless the render data is not a tree. */
  cappedTraversals: number;
}
