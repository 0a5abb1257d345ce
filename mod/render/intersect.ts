import { intersectKernel } from "../../kernels/mod.ts";
import type { Gpu } from "../gpu/mod.ts";
import {
  bindGroup,
  bindGroupLayout,
  HIT,
  INTERSECT_WORKGROUP,
  NO_HIT,
  pipelineConstants,
  RAY,
} from "../gpu_layout/mod.ts";
import type { RenderData } from "../render_data/mod.ts";
import { traversalLayout, traversalTexture } from "./traversal.ts";

/** The farthest distance a ray looks for a hit (the kernels' INF). */
const MISS_DISTANCE = 3.0e38;

/** The closest hit of one ray: distance and triangle index in render-data (BVH) order, or -1. */
export interface RayHit {
  /** Distance along the (normalised) direction; Infinity on a miss. */
  t: number;
  /** Triangle index in render-data order; -1 on a miss. */
  triangle: number;
}

/**
 * Finds the closest hit of every ray on the GPU through the BVH (for tests and traversal benchmarks).
 * @param rays 6 floats per ray: origin xyz, unit direction xyz
 * @param options rowShift: log2 of the traversal texture's row width (tests; by default as the renderer picks it)
 */
export async function intersectRays(
  gpu: Gpu,
  data: RenderData,
  rays: Float32Array,
  options: { rowShift?: number } = {},
): Promise<RayHit[]> {
  const device = gpu.device;
  const n = rays.length / 6;
  const packed = RAY.alloc(n);
  for (let i = 0; i < n; i++) {
    RAY.write(packed, i, {
      origin: rays.subarray(i * 6, i * 6 + 3),
      tmax: MISS_DISTANCE,
      dir: rays.subarray(i * 6 + 3, i * 6 + 6),
    });
  }
  device.pushErrorScope("validation");
  const upload = (label: string, bytes: ArrayBuffer) => {
    const b = device.createBuffer({
      label,
      size: Math.max(16, bytes.byteLength),
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
    });
    device.queue.writeBuffer(b, 0, bytes);
    return b;
  };
  const rayBuffer = upload("rays", packed);
  const { texture: scene, shift } = traversalTexture(device, traversalLayout(data), options.rowShift);
  const hits = device.createBuffer({
    label: "hits",
    size: Math.max(1, n) * HIT.size,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
  });
  const readback = device.createBuffer({
    label: "hits readback",
    size: Math.max(1, n) * HIT.size,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  const module = device.createShaderModule({ label: "intersect kernel", code: intersectKernel });
  const layout = bindGroupLayout(device, "intersect");
  const pipeline = await device.createComputePipelineAsync({
    label: "intersect pipeline",
    layout: device.createPipelineLayout({ label: "intersect pipeline layout", bindGroupLayouts: [layout] }),
    compute: {
      module,
      entryPoint: "main",
      constants: pipelineConstants({ TEXEL_ROW_SHIFT: shift, INTERSECT_WORKGROUP }),
    },
  });
  const group = bindGroup(device, "intersect", layout, {
    rays: rayBuffer,
    hits,
    scene_texels: scene.createView(),
  });
  const encoder = device.createCommandEncoder({ label: "intersect" });
  const pass = encoder.beginComputePass({ label: "intersect pass" });
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, group);
  pass.dispatchWorkgroups(Math.ceil(n / INTERSECT_WORKGROUP));
  pass.end();
  encoder.copyBufferToBuffer(hits, 0, readback, 0, n * HIT.size);
  device.queue.submit([encoder.finish()]);
  const error = await device.popErrorScope();
  try {
    if (error) throw new Error(`GPU intersection failed: ${error.message}`);
    await readback.mapAsync(GPUMapMode.READ);
    const mapped = readback.getMappedRange();
    const out: RayHit[] = [];
    for (let i = 0; i < n; i++) {
      const hit = HIT.read(mapped, i);
      out.push(hit.tri === NO_HIT ? { t: Infinity, triangle: -1 } : { t: hit.t, triangle: hit.tri });
    }
    readback.unmap();
    return out;
  } finally {
    for (const b of [rayBuffer, hits, readback]) b.destroy();
    scene.destroy();
  }
}
