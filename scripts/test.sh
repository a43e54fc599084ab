#!/usr/bin/env bash
# The README's test command: set up (idempotent), then run every suite and finish with one line
# `N passed, N failed, N skipped`. Suites:
#   typecheck            tsc over src/ and test/
#   lint                 biome check (format and lint rules in biome.json)
#   node:<area>          uvu on Node over test/<area>/*.test.ts and *.node.test.ts
#   qjs                  the engine-neutral tests bundled and run inside build/x0-runtime (QuickJS-ng)
#   shell:<area>         test/<area>/run.sh (XDP in network namespaces, the QEMU lab, ...)
# Usage: bash scripts/test.sh [--no-setup] [SUITE...]   (a SUITE is a name above, e.g. node:agent, shell:xdp, qjs,
#   or a bare area, e.g. xdp: both node:xdp and shell:xdp; none: every suite)
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

setup=1
areas=()
for arg in "$@"; do
  case "$arg" in
    --no-setup) setup=0 ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) areas+=("$arg") ;;
  esac
done

# A name that matches no suite is an error, not a silent empty run.
known=(typecheck lint qjs)
for dir in test/*/; do
  area=$(basename "$dir"); [ "$area" = lib ] && continue
  known+=("$area")
  ls "$dir" | grep -qE '\.test\.ts$' && known+=("node:$area")
  [ -f "$dir/run.sh" ] && known+=("shell:$area")
done
for a in "${areas[@]}"; do
  [[ " ${known[*]} " == *" $a "* ]] || { echo "test: no suite '$a'; known: ${known[*]}" >&2; exit 2; }
done


if [ "$setup" = 1 ]; then
  bash scripts/setup.sh || { echo "test: setup failed (see above)"; echo "0 passed, 1 failed"; exit 1; }
fi

export NO_COLOR=1 FORCE_COLOR=0
logdir="$root/build/test-logs"
mkdir -p "$logdir"
passed=0 failed=0 skipped=0
summary=()

# uvu picks test files by this pattern: every *.test.ts but the QuickJS-only *.qjs.test.ts.
node_tests='^(?!.*\.qjs\.test\.ts$).*\.test\.ts$'

# wanted SUITE [AREA]: run it when nothing was asked for, or when its name or its bare area was.
wanted() {
  [ ${#areas[@]} -eq 0 ] && return 0
  local a
  for a in "${areas[@]}"; do [ "$a" = "$1" ] || [ "$a" = "${2:-$1}" ] && return 0; done
  return 1
}

record() { # suite-name passed failed skipped seconds
  passed=$((passed + $2)); failed=$((failed + $3)); skipped=$((skipped + $4))
  summary+=("$(printf '%-22s %4d passed %3d failed %3d skipped %5ss' "$1" "$2" "$3" "$4" "$5")")
}

strip() { sed -e 's/\x1b\[[0-9;]*m//g'; }

# Runs a command whose output ends with uvu's Total/Passed/Skipped block.
run_uvu() { # name timeout-seconds command...
  local name=$1 limit=$2; shift 2
  local log="$logdir/${name//[:\/]/_}.log" start=$(date +%s)
  echo; echo "== $name"
  timeout --kill-after=10 "$limit" "$@" 2>&1 | strip | tee "$log"
  local rc=${PIPESTATUS[0]} total ok skip
  total=$(grep -E '^\s*Total:' "$log" | tail -1 | awk '{print $2}')
  ok=$(grep -E '^\s*Passed:' "$log" | tail -1 | awk '{print $2}')
  skip=$(grep -E '^\s*Skipped:' "$log" | tail -1 | awk '{print $2}')
  total=${total:-0} ok=${ok:-0} skip=${skip:-0}
  local bad=$((total - ok))
  if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
    bad=1
    [ "$rc" -eq 124 ] && echo "$name: timed out after ${limit}s" || echo "$name: exited with $rc"
  fi
  record "$name" "$ok" "$bad" "$skip" $(( $(date +%s) - start ))
}

# Runs a shell suite whose last line is `N passed, N failed[, N skipped]`.
run_shell() { # name timeout-seconds script
  local name=$1 limit=$2 script=$3
  local log="$logdir/${name//[:\/]/_}.log" start=$(date +%s)
  echo; echo "== $name"
  timeout --kill-after=20 "$limit" bash "$script" 2>&1 | strip | tee "$log"
  local rc=${PIPESTATUS[0]} line ok bad skip
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
  ok=$(echo "$line" | sed -nE 's/^([0-9]+) passed.*/\1/p'); ok=${ok:-0}
  bad=$(echo "$line" | sed -nE 's/.* ([0-9]+) failed.*/\1/p'); bad=${bad:-0}
  skip=$(echo "$line" | sed -nE 's/.* ([0-9]+) skipped.*/\1/p'); skip=${skip:-0}
  if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
    bad=1
    [ "$rc" -eq 124 ] && echo "$name: timed out after ${limit}s" || echo "$name: exited with $rc"
  fi
  record "$name" "$ok" "$bad" "$skip" $(( $(date +%s) - start ))
}

if wanted typecheck; then
  echo; echo "== typecheck"
  start=$(date +%s)
  if npx tsc -p tsconfig.json; then record typecheck 1 0 0 $(( $(date +%s) - start ))
  else record typecheck 0 1 0 $(( $(date +%s) - start )); fi
fi

# Formatter and linter (Biome, biome.json): the tree as committed must already be formatted and lint-clean.
if wanted lint; then
  echo; echo "== lint"
  start=$(date +%s)
  if npx biome check; then record lint 1 0 0 $(( $(date +%s) - start ))
  else record lint 0 1 0 $(( $(date +%s) - start )); fi
fi

for dir in test/*/; do
  area=$(basename "$dir")
  [ "$area" = lib ] && continue
  wanted "node:$area" "$area" || continue
  if ls "$dir" | grep -qE '\.test\.ts$'; then
    run_uvu "node:$area" 900 node --import tsx node_modules/uvu/bin.js "$dir" "$node_tests"
  fi
done

if wanted qjs; then
  run_uvu "qjs" 1200 node scripts/test-qjs.mjs
fi

for script in test/*/run.sh; do
  [ -f "$script" ] || continue
  area=$(basename "$(dirname "$script")")
  wanted "shell:$area" "$area" || continue
  run_shell "shell:$area" 1500 "$script"
done

echo
echo "== summary"
printf '%s\n' "${summary[@]}"
echo "logs: build/test-logs/"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
