/**
 * WebGPU access: opening a device and listing adapters.
 * @module
 */
export { type AdapterSummary, type Gpu, GpuUnavailableError, listAdapters, openGpu } from "./gpu.ts";
