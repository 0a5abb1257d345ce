import { intersectKernel } from "../../kernels/mod.ts";
import type { Gpu } from "../gpu/mod.ts";
import type { RenderData } from "../render_data/mod.ts";
import { traversalLayout, traversalTexture } from "./traversal.ts";

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
  const packed = new Float32Array(n * 8);
  for (let i = 0; i < n; i++) {
    packed.set(rays.subarray(i * 6, i * 6 + 3), i * 8);
    packed.set(rays.subarray(i * 6 + 3, i * 6 + 6), i * 8 + 4);
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
  const rayBuffer = upload("rays", packed.buffer);
  const { texture: scene, shift } = traversalTexture(device, traversalLayout(data), options.rowShift);
  const hits = device.createBuffer({
    label: "hits",
    size: n * 16,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
  });
  const readback = device.createBuffer({
    label: "hits readback",
    size: n * 16,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  const module = device.createShaderModule({ label: "intersect kernel", code: intersectKernel });
  const pipeline = await device.createComputePipelineAsync({
    label: "intersect pipeline",
    layout: "auto",
    compute: { module, entryPoint: "main", constants: { TEXEL_ROW_SHIFT: shift } },
  });
  const bindGroup = device.createBindGroup({
    label: "intersect bind group",
    layout: pipeline.getBindGroupLayout(0),
    entries: [
      { binding: 0, resource: { buffer: rayBuffer } },
      { binding: 5, resource: { buffer: hits } },
      { binding: 9, resource: scene.createView() },
    ],
  });
  const encoder = device.createCommandEncoder({ label: "intersect" });
  const pass = encoder.beginComputePass({ label: "intersect pass" });
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bindGroup);
  pass.dispatchWorkgroups(Math.ceil(n / 64));
  pass.end();
  encoder.copyBufferToBuffer(hits, 0, readback, 0, n * 16);
  device.queue.submit([encoder.finish()]);
  const error = await device.popErrorScope();
  try {
    if (error) throw new Error(`GPU intersection failed: ${error.message}`);
    await readback.mapAsync(GPUMapMode.READ);
    const view = new DataView(readback.getMappedRange());
    const out: RayHit[] = [];
    for (let i = 0; i < n; i++) {
      const tri = view.getUint32(i * 16 + 4, true);
      out.push(
        tri === 0xffffffff
          ? { t: Infinity, triangle: -1 }
          : { t: view.getFloat32(i * 16, true), triangle: tri },
      );
    }
    readback.unmap();
    return out;
  } finally {
    for (const b of [rayBuffer, hits, readback]) b.destroy();
    scene.destroy();
  }
}
