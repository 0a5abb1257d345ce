#!/usr/bin/env bash
# Runs on a lent GPU machine (the `device` tool; prepare with tools/device_prepare.sh and carry ".device"):
# installs the carried loaders, unpacks Deno, prints the WebGPU adapter, runs the render benchmarks
# (tools/bench.ts, tools/bench_kernel.ts) and the network benchmark (tools/net_bench.ts), and writes their
# figures to $OUT (bench.json, bench_kernel.json, bench.log). One call gives every figure; name the device with each.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
out="${OUT:-/tmp/octane-device-out}"
mkdir -p "$out"
exec > >(tee "$out/bench.log") 2>&1

# OCTANE_DEVICE_SKIP_LOADERS=1: a dry run on a machine with its own loaders (never unpack them over this one)
if [ -z "${OCTANE_DEVICE_SKIP_LOADERS:-}" ]; then
  for f in .device/gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
if [ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ]; then
  export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
fi
xz -dc .device/deno.xz >/tmp/deno && chmod +x /tmp/deno
export DENO_DIR="$root/.device/denodir" XDG_RUNTIME_DIR=/tmp
[ -e ../shared ] || ln -s "$root/.device/shared" ../shared

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
run() { /tmp/deno run --quiet --cached-only --no-prompt --allow-all --config deno.json "$@"; }
run main.ts info
run tools/bench.ts --spp "${SPP:-256}" --big-spp "${BIG_SPP:-64}" --json "$out/bench.json"
run tools/bench_kernel.ts --spp "${KERNEL_SPP:-256}" --batch 64 --json "$out/bench_kernel.json"
run tools/net_bench.ts
