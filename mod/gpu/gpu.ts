import { tmpdir } from "node:os";
import { getLogger } from "@logtape/logtape";

const log = getLogger(["octane", "gpu"]);

/** What a node reports about one GPU adapter. */
export interface AdapterSummary {
  /** Adapter description, e.g. "NVIDIA GeForce RTX 4090" or "llvmpipe (LLVM 15.0.6, 256 bits)". */
  name: string;
  /** Vendor id or name as the driver gives it. */
  vendor: string;
  /** True for a CPU (software) implementation. */
  software: boolean;
}

/** An opened WebGPU device with what it runs on. */
export interface Gpu {
  /** The adapter. */
  adapter: GPUAdapter;
  /** The device, with the adapter's largest buffer limits requested. */
  device: GPUDevice;
  /** Summary for reports and status lines. */
  summary: AdapterSummary;
}

/** Raised when no WebGPU adapter can be had. */
export class GpuUnavailableError extends Error {
  /** Creates the error with the standard advice. */
  constructor(detail: string, options?: ErrorOptions) {
    super(
      `No WebGPU adapter: ${detail}: install your GPU's Vulkan driver, or run install/setup.sh for Mesa's software Vulkan`,
      options,
    );
    this.name = "GpuUnavailableError";
  }
}

const SOFTWARE = /llvmpipe|lavapipe|swiftshader|software|warp|basic render/i;

function summarize(adapter: GPUAdapter): AdapterSummary {
  const info = adapter.info;
  const name = info.description || info.device || "unnamed adapter";
  return {
    name,
    vendor: String(info.vendor),
    software: SOFTWARE.test(name) || info.isFallbackAdapter === true,
  };
}

/**
 * Opens the best WebGPU adapter (high performance preferred) with its largest storage-buffer limits.
 * @throws {GpuUnavailableError} when there is no adapter or no device
 */
export async function openGpu(): Promise<Gpu> {
  quietMesa();
  if (!("gpu" in navigator) || !navigator.gpu) {
    throw new GpuUnavailableError("this Deno has no navigator.gpu");
  }
  const adapter = await navigator.gpu.requestAdapter({ powerPreference: "high-performance" });
  if (!adapter) throw new GpuUnavailableError("Deno found no adapter");
  const summary = summarize(adapter);
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({
      label: "octane device",
      requiredLimits: {
        maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
        maxBufferSize: adapter.limits.maxBufferSize,
      },
    });
  } catch (error: unknown) {
    throw new GpuUnavailableError(`cannot open "${summary.name}"`, { cause: error });
  }
  device.addEventListener("uncapturederror", (event) => {
    log.error("GPU error: {message}", { message: (event as GPUUncapturedErrorEvent).error.message });
  });
  device.lost.then((info) => {
    if (info.reason !== "destroyed") log.error("GPU device lost: {message}", { message: info.message });
  });
  log.debug("Opened GPU {name}", { name: summary.name });
  return { adapter, device, summary };
}

/** Mesa's Vulkan WSI prints an error at start-up when XDG_RUNTIME_DIR is unset (headless machines, CI). */
function quietMesa(): void {
  try {
    if (!Deno.env.get("XDG_RUNTIME_DIR")) Deno.env.set("XDG_RUNTIME_DIR", tmpdir());
  } catch {
    // without env permission the warning stays; rendering is unaffected
  }
}

/** Lists the distinct WebGPU adapters Deno offers (by power preference and the fallback adapter). */
export async function listAdapters(): Promise<AdapterSummary[]> {
  quietMesa();
  if (!("gpu" in navigator) || !navigator.gpu) return [];
  const found = new Map<string, AdapterSummary>();
  const requests: GPURequestAdapterOptions[] = [
    { powerPreference: "high-performance" },
    { powerPreference: "low-power" },
    { forceFallbackAdapter: true },
  ];
  for (const options of requests) {
    const adapter = await navigator.gpu.requestAdapter(options).catch(() => null);
    if (adapter) {
      const s = summarize(adapter);
      found.set(s.name, s);
    }
  }
  return [...found.values()];
}
