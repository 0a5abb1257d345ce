#!/usr/bin/env bash
# The project's test command: sets up what is missing (Deno, a WebGPU adapter), type-checks, runs the tests on
# the real adapter and ends with one line `N passed, N failed` over all of them (exit status non-zero when any
# failed).
#
#   tools/test.sh          every test (what CI runs)
#   tools/test.sh unit     the unit tests: every *_test.ts outside tests/ (mod/, kernels/, tools/)
#   tools/test.sh e2e      the end-to-end tests: tests/
#   tools/test.sh ARGS...  `deno test ARGS` (files, folders, --filter ...), one file after another
#
# $DENO_JOBS sets how many files run at once; $OCTANE_TEST_REPORTS names a folder to keep the junit reports in.
#
# Test files run in parallel, $DENO_JOBS at once, all in one Deno process. The default, 4, was measured on the
# 2-core development machine (GPU tests on its software adapter are CPU bound, network tests mostly wait;
# other work shared the machine): the whole run took 343 s with 2 at once, 285 s with 3, 239 s with 4.
# Every port comes from the OS (tests/_harness.ts). Files that need a process to themselves run one after
# another in a second Deno process beside the first: the namespace-LAN tests (tests/lan/: root, real
# namespaces whose names hold the process id) and the fuzzer's short pass (it bounds its process's memory).
# That step's output is printed when it ends.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
deno=$(bash install/setup.sh --print-deno | tail -n1) || exit 1
[ -x "$deno" ] || { echo "0 passed, 1 failed"; exit 1; }
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
export NO_COLOR=1
export DENO_JOBS="${DENO_JOBS:-4}"
perms=(--allow-read --allow-write --allow-net --allow-env --allow-sys --allow-run)
# the files that run apart, one after another (see above)
apart=(tests/lan/ tests/fuzz_test.ts)
# the files that take longest, started first so that no long file starts last (measured on the development
# machine; the others follow in name order)
slow=(tests/net_test.ts mod/denoise/denoiser_test.ts tests/cli_test.ts tests/user_test.ts
  kernels/common/bsdf_test.ts tests/hostile_test.ts mod/render/gpu_renderer_test.ts tests/camera_flags_test.ts
  tests/security_test.ts tests/daemon_test.ts tests/live_view_test.ts tests/scenes_test.ts mod/render_data/ocrd_test.ts)
# the test folders: every top-level folder that holds a *_test.ts (so a new one is never left out); the unit
# tests are all but tests/
test_dirs=$(find . -name "*_test.ts" -not -path "./.tools/*" -not -path "./out/*" -not -path "./.git/*" |
  cut -d/ -f2 | sort -u)
mapfile -t unit_dirs < <(grep -vx tests <<<"$test_dirs")
# the test files under the folders $@, slow ones first, without those that run apart (deno test's --ignore is
# lost when mod/ is among the paths)
files() {
  local all
  all=$(find "$@" -name "*_test.ts" -not -path "tests/lan/*" -not -path "tests/fuzz_test.ts" | sort)
  for f in "${slow[@]}"; do grep -qx "$f" <<<"$all" && echo "$f"; done
  grep -vxF -f <(printf '%s\n' "${slow[@]}") <<<"$all"
}
case "${1:-}" in
  "") mapfile -t parallel < <(files "${unit_dirs[@]}" tests); serial=("${apart[@]}"); checked=(main.ts "${unit_dirs[@]}" tests) ;;
  unit) mapfile -t parallel < <(files "${unit_dirs[@]}"); serial=(); checked=(main.ts "${unit_dirs[@]}") ;;
  e2e) mapfile -t parallel < <(files tests); serial=("${apart[@]}"); checked=(main.ts tools/ tests/) ;;
  *) parallel=(); serial=("$@"); checked=(main.ts tools/) ;;
esac
# one type check first, so that the two test processes below find it cached rather than both doing it
"$deno" check --quiet "${checked[@]}" || { echo "0 passed, 1 failed"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
summary=()
serial_pid=""
if [ ${#serial[@]} -gt 0 ] && [ ${#parallel[@]} -gt 0 ]; then
  # beside the parallel step; its output waits in a file
  "$deno" test --no-prompt "${perms[@]}" --junit-path="$tmp/apart.xml" "${serial[@]}" >"$tmp/apart.log" 2>&1 &
  serial_pid=$!
elif [ ${#serial[@]} -gt 0 ]; then
  "$deno" test --no-prompt "${perms[@]}" --junit-path="$tmp/apart.xml" "${serial[@]}"
  summary+=("$tmp/apart.xml" "$?")
fi
if [ ${#parallel[@]} -gt 0 ]; then
  "$deno" test --no-prompt --parallel "${perms[@]}" --junit-path="$tmp/parallel.xml" "${parallel[@]}"
  summary+=("$tmp/parallel.xml" "$?")
fi
if [ -n "$serial_pid" ]; then
  wait "$serial_pid"
  rc=$?
  echo
  echo "=== run apart, one after another: ${serial[*]}"
  cat "$tmp/apart.log"
  summary+=("$tmp/apart.xml" "$rc")
fi
# $OCTANE_TEST_REPORTS: a folder to keep the junit reports in (per-test times, for CI artifacts)
if [ -n "${OCTANE_TEST_REPORTS:-}" ]; then mkdir -p "$OCTANE_TEST_REPORTS" && cp "$tmp"/*.xml "$OCTANE_TEST_REPORTS"/; fi
"$deno" run --quiet --allow-read tools/junit_summary.ts "${summary[@]}"
