// Types for the parts of oidn-web 0.4.0's bundle (dist/oidn.js) that octane uses. The package's own
// declarations (lib/*.d.ts) import their siblings without extensions, which Deno does not resolve.

/** A tensor read from a .tza file. */
export interface HostTensor {
  desc: unknown;
  data: Uint8Array;
}

/** A U-Net topology descriptor. */
export interface UNetModelSpec {
  id: string;
  family: string;
  receptiveField: number;
}

/** A model checked against its descriptor. */
export interface ValidatedUNetModel {
  spec: UNetModelSpec;
  inputChannels: number;
  outputChannels: number;
}

/** Parses a .tza weights file. */
export function parseTZA(buffer: ArrayBuffer): Map<string, HostTensor>;
/** The descriptor that fits the tensors. */
export function detectUNetModelSpec(tensors: Map<string, HostTensor>): UNetModelSpec;
/** Checks the tensors against a descriptor. */
export function validateUNetModel(tensors: Map<string, HostTensor>, spec: UNetModelSpec): ValidatedUNetModel;

/** Runs the U-Net as WGSL compute on a device. */
export class NativeUNetExecutor {
  constructor(
    device: GPUDevice,
    model: ValidatedUNetModel,
    options?: { precision?: "auto" | "fp16" | "fp32"; kernel?: string; shapeCacheSize?: number },
  );
  readonly precision: "fp16" | "fp32";
  /** Compiles the shape-independent pipelines. */
  prepare(): Promise<void>;
  /** Runs the network on interleaved channels (3 per input image), returns RGB. */
  executeCPU(interleavedInput: Float32Array, width: number, height: number): Promise<Float32Array>;
  dispose(): void;
}
