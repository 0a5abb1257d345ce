// The path tracer's pipeline: its module, its explicit layout (from the binding table) and its pipeline
// constants (from the scene's recorded features and the render settings).
import { traceKernel } from "../../kernels/mod.ts";
import {
  bindGroupLayout,
  featureConstants,
  pipelineConstants,
  type SceneFeatures,
} from "../gpu_layout/mod.ts";

/** What the pipeline is compiled for. */
export interface TraceVariant {
  /** The scene's features. */
  features: SceneFeatures;
  /** Accumulate AOVs too. */
  aovs: boolean;
  /** log2 of the traversal texture's row width. */
  rowShift: number;
}

/** The compiled path tracer and the layout of its bind group. */
export interface TracePipeline {
  /** The pipeline. */
  pipeline: GPUComputePipeline;
  /** Its bind group's layout (group 0). */
  layout: GPUBindGroupLayout;
}

/**
 * Compiles the path tracer for a scene's features (a scene pays only for the code it uses: software GPUs
 * run every branch of a SIMD group).
 * @throws {Error} when the kernel does not compile (a message per error, with its line)
 */
export async function tracePipeline(device: GPUDevice, variant: TraceVariant): Promise<TracePipeline> {
  const module = device.createShaderModule({ label: "trace kernel", code: traceKernel });
  const info = await module.getCompilationInfo();
  const errors = info.messages.filter((m) => m.type === "error");
  if (errors.length > 0) {
    throw new Error(
      `Cannot compile the trace kernel: ${errors.map((m) => `line ${m.lineNum}: ${m.message}`).join("; ")}`,
    );
  }
  const layout = bindGroupLayout(device, "trace");
  const pipeline = await device.createComputePipelineAsync({
    label: "trace pipeline",
    layout: device.createPipelineLayout({ label: "trace pipeline layout", bindGroupLayouts: [layout] }),
    compute: {
      module,
      entryPoint: "main",
      constants: pipelineConstants({
        ...featureConstants(variant.features),
        AOVS: variant.aovs,
        TEXEL_ROW_SHIFT: variant.rowShift,
      }),
    },
  });
  return { pipeline, layout };
}
