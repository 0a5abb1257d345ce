#!/usr/bin/env bash
# Prepares .device/ (git-ignored) for a run on a lent GPU machine (the `device` tool), which starts bare and
# reaches nothing outside: this project's Deno (xz, ~31 MB), its npm packages (a DENO_DIR), the Vulkan and
# EGL loaders from Debian (the machine has NVIDIA's driver but may lack the loaders), and the shared scenes
# the benchmarks read. Idempotent; run it here once, then carry ".device" in the device call that runs
# tools/device_bench.sh. Everything stays under 64 MiB, the limit of what travels.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out="$root/.device"
mkdir -p "$out"
deno=$(bash "$root/install/setup.sh" --print-deno | tail -n1)

if [ ! -s "$out/deno.xz" ]; then
  echo "device: compressing Deno ($("$deno" --version | head -n1))"
  xz -T0 -6 -c "$deno" >"$out/deno.xz.part" && mv "$out/deno.xz.part" "$out/deno.xz"
fi

echo "device: caching the npm packages into .device/denodir"
DENO_DIR="$out/denodir" "$deno" cache --quiet "$root/main.ts" "$root/tools/bench.ts" "$root/tools/bench_kernel.ts" \
  "$root/tools/net_bench.ts"
rm -f "$out/denodir"/*cache_v2* # type-check caches: rebuilt there, not worth carrying

if ! ls "$out"/gl/*.deb >/dev/null 2>&1; then
  echo "device: downloading the Vulkan and EGL loaders (amd64)"
  mkdir -p "$out/gl" /tmp/octane-amd64/partial
  o=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/octane-amd64)
  apt-get "${o[@]}" update -qq
  (cd "$out/gl" && apt-get "${o[@]}" download -qq libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
fi

if [ -d "$root/../shared/scenes" ]; then
  echo "device: copying ../shared/scenes (read by the benchmarks; never committed)"
  mkdir -p "$out/shared"
  rm -rf "$out/shared/scenes"
  cp -r "$root/../shared/scenes" "$out/shared/scenes"
fi
du -sh "$out"
echo "device: ready; run with carry [\".device\"]: bash tools/device_bench.sh"
