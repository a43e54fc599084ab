#!/usr/bin/env bash
# Where the agent package's bytes go, per target, and what each form of the bundle would cost: reads the
# x0tta6bl4 .ipk files scripts/package.sh made (build/packages/<target>/, or --out DIR) and the current
# dist/x0tta6bl4.js, and prints (gzip -9 sizes, as the .ipk's data.tar.gz compresses them):
#   1. per target: the .ipk, its x0-runtime and its bytecode, raw and gzip'd;
#   2. the bundle in three forms, made here by build/x0-runtime: bytecode as packaged (--compile: source text
#      dropped, file/line/column tables kept), bytecode with --strip-debug (no positions in stack traces), and the
#      minified JavaScript source; with each one's start-up (`x0 version`, fastest of N runs on this host) and
#      peak RSS;
#   3. per target, the .ipk each form of the current bundle would make: the .ipk's size - its bytecode's gzip'd
#      size + the form's (an estimate: the forms are the same length on every target, only mips_24kc's byte
#      order differs; a target whose packaged bytecode is not the current bundle's is marked "stale").
# Usage: bash scripts/package-sizes.sh [--help] [--out DIR] [--runs N]   (after npm run build and scripts/package.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out=$root/build/packages
runs=9
fail() { echo "package-sizes: $*" >&2; exit 1; }
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    --out) [ $# -ge 2 ] || fail "--out needs a directory"; out=$2; shift ;;
    --runs) [ $# -ge 2 ] || fail "--runs needs a number"; runs=$2; shift ;;
    *) fail "unknown argument $1 (--help)" ;;
  esac
  shift
done
[[ "$runs" =~ ^[1-9][0-9]?$ ]] || fail "--runs is 1..99, not '$runs'"
[ -x build/x0-runtime ] || fail "build/x0-runtime is missing: bash scripts/setup.sh (make -C src/native)"
[ -f dist/x0tta6bl4.js ] || fail "dist/x0tta6bl4.js is missing: npm run build"
command -v /usr/bin/time >/dev/null 2>&1 || fail "/usr/bin/time is missing: apt-get install time"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
gz() { gzip -9 -n -c "$1" | wc -c; }
kb() { awk -v b="$1" 'BEGIN { printf "%.0f KB", b / 1024 }'; }

# 1. The packages as built.
declare -A ipk_size=() bc_gz=() bc_raw=()
targets=()
printf '%-20s %12s %22s %22s\n' target ".ipk bytes" "x0-runtime raw/gz" "bytecode raw/gz"
for dir in "$out"/*/; do
  t=$(basename "$dir")
  f=$(ls "$dir"x0tta6bl4_*_"$t".ipk 2>/dev/null | head -1 || true)
  [ -n "$f" ] || continue
  mkdir -p "$work/$t"
  tar -xzOf "$f" ./data.tar.gz | tar -xz -C "$work/$t" ./usr/bin/x0-runtime ./usr/lib/x0tta6bl4/x0tta6bl4.jsbc ||
    fail "$f: no x0-runtime or bytecode in its data.tar.gz"
  rt=$work/$t/usr/bin/x0-runtime bc=$work/$t/usr/lib/x0tta6bl4/x0tta6bl4.jsbc
  ipk_size[$t]=$(stat -c %s "$f"); bc_gz[$t]=$(gz "$bc"); bc_raw[$t]=$(stat -c %s "$bc"); targets+=("$t")
  printf '%-20s %12s %22s %22s\n' "$t" "${ipk_size[$t]}" "$(stat -c %s "$rt")/$(gz "$rt")" "$(stat -c %s "$bc")/${bc_gz[$t]}"
done
[ ${#targets[@]} -gt 0 ] || fail "no x0tta6bl4 .ipk in $out/<target>/: bash scripts/package.sh"

# 2. The bundle's forms, on this host.
build/x0-runtime --compile dist/x0tta6bl4.js -o "$work/debug.jsbc"
build/x0-runtime --compile dist/x0tta6bl4.js --strip-debug -o "$work/stripped.jsbc"
cp dist/x0tta6bl4.js "$work/source.js"
fastest() { # FILE: "MS PEAK-RSS-KB" of the fastest of $runs runs of `x0-runtime FILE version`
  local i
  local i start end
  for i in $(seq "$runs"); do
    start=$(date +%s%N)
    /usr/bin/time -f '%M' -o "$work/time" build/x0-runtime "$1" version >/dev/null || fail "x0-runtime $1 version failed"
    end=$(date +%s%N)
    echo "$(( (end - start) / 1000000 )) $(cat "$work/time")"
  done | sort -n | head -1
}
echo
echo "bundle: dist/x0tta6bl4.js $(stat -c %s dist/x0tta6bl4.js) bytes; start-up = x0 version, fastest of $runs; load $(cut -d' ' -f1 /proc/loadavg)"
printf '%-34s %10s %10s %12s %12s\n' form bytes gzip start-up "peak RSS"
declare -A form_gz=()
for form in debug stripped source; do
  case $form in
    debug) file=$work/debug.jsbc label="bytecode (as packaged)" ;;
    stripped) file=$work/stripped.jsbc label="bytecode --strip-debug" ;;
    source) file=$work/source.js label="JavaScript source (minified)" ;;
  esac
  form_gz[$form]=$(gz "$file")
  read -r ms rss < <(fastest "$file")
  printf '%-34s %10s %10s %9s ms %9s KB\n' "$label" "$(stat -c %s "$file")" "${form_gz[$form]}" "$ms" "$rss"
done

# 3. The package each form would make.
echo
echo ".ipk of the current bundle in each form (goal: 600 KB = 614400 bytes)"
printf '%-20s %18s %18s %18s %18s\n' target "built" "bytecode" "--strip-debug" "source"
debug_raw=$(stat -c %s "$work/debug.jsbc")
for t in "${targets[@]}"; do
  base=$(( ipk_size[$t] - bc_gz[$t] ))
  built="${ipk_size[$t]}"
  [ "${bc_raw[$t]}" = "$debug_raw" ] || built="$built stale"
  printf '%-20s %18s' "$t" "$built"
  for form in debug stripped source; do printf ' %18s' "$(( base + form_gz[$form] )) ($(kb $(( base + form_gz[$form] ))))"; done
  echo
done
