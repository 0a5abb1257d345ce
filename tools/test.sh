#!/usr/bin/env bash
# The project's test command: sets up what is missing (Deno, a WebGPU adapter), type-checks, runs every
# test on the real adapter and ends with the line `N passed, N failed`. Extra arguments go to `deno test`.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
deno=$(bash install/setup.sh --print-deno | tail -n1) || exit 1
[ -x "$deno" ] || { echo "0 passed, 1 failed"; exit 1; }
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
export NO_COLOR=1
perms=(--allow-read --allow-write --allow-net --allow-env --allow-sys --allow-run)
"$deno" check --quiet main.ts tools/ || { echo "0 passed, 1 failed"; exit 1; }
report=$(mktemp --suffix=.xml)
"$deno" test --no-prompt "${perms[@]}" --junit-path="$report" "$@"
rc=$?
"$deno" run --quiet --allow-read tools/junit_summary.ts "$report" "$rc"
rm -f "$report"
exit $rc
