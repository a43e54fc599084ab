#!/usr/bin/env bash
# Start-up of x0-runtime running the bundle (`dist/x0tta6bl4.js version`) from source and from bytecode, and the
# binary size. Not a test. Usage: bash bench/native-startup.sh [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-50}
rt=build/x0-runtime
src=dist/x0tta6bl4.js
bc=build/bench/x0tta6bl4.jsbc
[ -x "$rt" ] && [ -f "$src" ] || { echo "native-startup: run 'bash scripts/setup.sh' first" >&2; exit 1; }
mkdir -p build/bench
"$rt" --compile "$src" -o "$bc"
time_runs() { # file -> mean ms per run
  local start end
  start=$(date +%s%N)
  for _ in $(seq "$runs"); do "$rt" "$1" version >/dev/null; done
  end=$(date +%s%N)
  echo "scale=2; ($end - $start) / 1000000 / $runs" | bc
}
s=$(time_runs "$src"); b=$(time_runs "$bc")
printf '%-28s %10s\n' "x0-runtime (stripped)" "$(stat -c %s "$rt") B"
printf '%-28s %10s\n' "bundle source" "$(stat -c %s "$src") B"
printf '%-28s %10s\n' "bundle bytecode" "$(stat -c %s "$bc") B"
printf '%-28s %10s ms\n' "start-up from source" "$s"
printf '%-28s %10s ms\n' "start-up from bytecode" "$b"
printf '%-28s %10s\n' "source / bytecode" "$(echo "scale=2; $s / $b" | bc)"
