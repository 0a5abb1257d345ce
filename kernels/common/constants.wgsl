// Mathematical constants. The data layouts, bindings and pipeline constants are generated from
// mod/gpu_layout/ and come before every kernel's chunks.

const PI: f32 = 3.14159265358979;
const INV_PI: f32 = 0.318309886183791;
const INF: f32 = 3.0e38;

// Loop iterations this invocation has run, in every loop. llvmpipe (Mesa's software GPU) silently ends
// all loops of an invocation after 65535 iterations in total, so the host checks this count (Stats).
var<private> loop_iterations: u32;
// Traversals cut short: a tree's traversal visits each node at most once, so one that visits more nodes than
// there are is walking a BVH that is not a tree (the loader refuses those; this is the second guard).
var<private> capped_traversals: u32;
