import { tmpdir } from "node:os";
import { getLogger } from "@logtape/logtape";

const log = getLogger(["octane", "gpu"]);

/** What a node reports about one GPU adapter. */
export interface AdapterSummary {
  /** Adapter description, e.g. "NVIDIA GeForce RTX 4090" or "llvmpipe (LLVM 15.0.6, 256 bits)". */
  name: string;
  /** Vendor name ("NVIDIA", "Mesa"), from the driver's vendor id where it gives a number. */
  vendor: string;
  /** The vendor as the driver gives it, where that differs from `vendor`: a PCI or Khronos id ("0x10de"). */
  vendorId?: string;
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
  /**
   * Bytes of the largest storage buffer octane binds on this device: the device's binding and buffer limits,
   * lowered by {@linkcode MAX_BINDING_ENV} where that is set.
   */
  maxBindingBytes: number;
}

/**
 * Diagnostic and test knob: an environment variable that caps the bytes of every storage binding below the
 * device's limit, so that tests on any adapter make renders split their accumulator into tiles as a GPU
 * with small limits would. Not meant for rendering.
 */
export const MAX_BINDING_ENV = "OCTANE_DIAG_MAX_BINDING_BYTES";

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

/** PCI vendor ids of GPU makers, and the Khronos ids of vendors without one (Mesa's drivers report 0x10005). */
const VENDORS: Record<number, string> = {
  0x1002: "AMD",
  0x1022: "AMD",
  0x10de: "NVIDIA",
  0x8086: "Intel",
  0x106b: "Apple",
  0x13b5: "ARM",
  0x5143: "Qualcomm",
  0x1010: "Imagination",
  0x14e4: "Broadcom",
  0x1414: "Microsoft",
  0x15ad: "VMware",
  0x1af4: "Red Hat (virtio)",
  0x10001: "Vivante",
  0x10002: "VeriSilicon",
  0x10003: "Kazan",
  0x10004: "Codeplay",
  0x10005: "Mesa",
  0x10006: "PoCL",
};

/**
 * A readable vendor for what the driver reports: a known id (decimal, as Deno gives it, or 0x hex) becomes the
 * maker's name with the id kept in hex; a name is kept as it is.
 */
export function vendorName(reported: string): { vendor: string; vendorId?: string } {
  const text = reported.trim();
  if (!/^(\d+|0x[0-9a-f]+)$/i.test(text)) return { vendor: text };
  const id = Number(text);
  const hex = `0x${id.toString(16).padStart(4, "0")}`;
  return { vendor: VENDORS[id] ?? `unknown vendor ${hex}`, vendorId: hex };
}

function summarize(adapter: GPUAdapter): AdapterSummary {
  const info = adapter.info;
  const name = info.description || info.device || "unnamed adapter";
  return {
    name,
    ...vendorName(String(info.vendor)),
    software: SOFTWARE.test(name) || info.isFallbackAdapter === true,
  };
}

/**
 * Opens the best WebGPU adapter (high performance preferred) with its largest storage-buffer and 2D texture
 * limits.
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
        // the BVH and triangles are one texture 4096 texels wide (mod/render/traversal.ts): its rows
        maxTextureDimension2D: adapter.limits.maxTextureDimension2D,
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
  const limit = Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
  return { adapter, device, summary, maxBindingBytes: Math.min(limit, bindingCap() ?? limit) };
}

/** The binding cap set by {@linkcode MAX_BINDING_ENV}, if any. */
function bindingCap(): number | undefined {
  let text: string | undefined;
  try {
    text = Deno.env.get(MAX_BINDING_ENV);
  } catch {
    return undefined; // without env permission there is no knob
  }
  if (text === undefined || text === "") return undefined;
  const bytes = Number(text);
  if (!Number.isInteger(bytes) || bytes < 16) {
    throw new RangeError(
      `Cannot use ${MAX_BINDING_ENV}="${text}": it takes a whole number of bytes, at least 16; unset it to use the GPU's limit`,
    );
  }
  return bytes;
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
