/**
 * WebGPU access: opening a device and listing adapters.
 * @module
 */
export {
  type AdapterSummary,
  type Gpu,
  GpuUnavailableError,
  listAdapters,
  MAX_BINDING_ENV,
  openGpu,
} from "./gpu.ts";
