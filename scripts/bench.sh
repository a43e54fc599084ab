#!/usr/bin/env bash
# `npm run bench`: every benchmark in bench/ (not tests: they print figures, they do not assert).
# Usage: bash scripts/bench.sh [name-filter]   e.g. bash scripts/bench.sh foundation
set -uo pipefail
cd "$(dirname "$0")/.."
filter=${1:-}
rc=0
for file in bench/*.bench.ts bench/*.bench.sh; do
  [ -f "$file" ] || continue
  case "$file" in *"$filter"*) ;; *) continue ;; esac
  echo; echo "== $file"
  case "$file" in
    *.ts) node --import tsx "$file" || rc=1 ;;
    *.sh) bash "$file" || rc=1 ;;
  esac
done
exit $rc
