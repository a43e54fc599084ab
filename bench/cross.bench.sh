#!/usr/bin/env bash
# Router CPUs under emulation (issue 19): for each cross-built target (build/cross/<target>/, scripts/cross.sh)
# the binary sizes, start-up of the shipped bytecode (`x0 version`), x0:crypto throughput (bench/cross/crypto.js)
# and peak RSS of a running gossip node, each next to the x86-64 run of the same benchmark in the same command,
# as a ratio. qemu-user is not a router: the ratios say how much slower the emulated CPU is on THIS machine, not
# how fast a router is; RSS under qemu includes qemu itself, so the table shows the increment over an idle
# runtime as well. Not a test: prints, never asserts.
# Usage: bash bench/cross.bench.sh [--runs N] [--budget-ms N] [TARGET...]   (default: every built target)
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

runs=10
budget=1000
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    --runs) runs=${2:-}; shift ;;
    --budget-ms) budget=${2:-}; shift ;;
    -*) echo "cross.bench: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) targets+=("$1") ;;
  esac
  shift
done
[[ "$runs" =~ ^[1-9][0-9]{0,2}$ ]] || { echo "cross.bench: --runs wants 1-999, not '$runs'" >&2; exit 2; }
[[ "$budget" =~ ^[1-9][0-9]{1,4}$ ]] || { echo "cross.bench: --budget-ms wants 10-99999, not '$budget'" >&2; exit 2; }
if [ ${#targets[@]} -eq 0 ]; then
  for t in mips_24kc mipsel_24kc arm_cortex-a7 aarch64_cortex-a53; do
    [ -x "build/cross/$t/x0-runtime" ] && targets+=("$t")
  done
fi
if [ ${#targets[@]} -eq 0 ]; then
  echo "cross.bench: no cross build in build/cross/; run 'bash scripts/cross.sh' first (skipped)"
  exit 0
fi
[ -x build/x0-runtime ] && [ -f dist/x0tta6bl4.js ] || { echo "cross.bench: run 'bash scripts/setup.sh' first" >&2; exit 1; }

work=$root/build/bench/cross
mkdir -p "$work"
build/x0-runtime --compile dist/x0tta6bl4.js -o "$work/x0tta6bl4.x86_64.jsbc" || exit 1
printf 'import * as os from "qjs:os";\nos.sleep(2000);\n' >"$work/idle.js"

now_ns() { date +%s%N; }

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) m = v[(NR + 1) / 2]; else m = (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.2f\n", m }'; }

one_run_ms() { # command... -> ms of one `command version`
  local start end
  start=$(now_ns)
  "$@" version >/dev/null || return 1
  end=$(now_ns)
  echo "scale=2; ($end - $start) / 1000000" | bc
}

# The machine is shared: x86-64 and the target run alternately, and the medians are compared, so that load
# changes hit both sides alike.
startup_pair() { # target-command... -> "target-ms x86-ms" (medians of $runs alternating runs each)
  local a=() b=() i
  for i in $(seq "$runs"); do
    b+=("$(one_run_ms build/x0-runtime "$work/x0tta6bl4.x86_64.jsbc")") || return 1
    a+=("$(one_run_ms "$@")") || return 1
  done
  echo "$(printf '%s\n' "${a[@]}" | median) $(printf '%s\n' "${b[@]}" | median)"
}

# Peak RSS (VmHWM, kB) of a command, polled from /proc until it exits.
peak_rss_kb() {
  "$@" >/dev/null 2>&1 &
  local pid=$! hwm=0 v
  while kill -0 "$pid" 2>/dev/null; do
    v=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null)
    [ -n "$v" ] && hwm=$v
    sleep 0.05
  done
  wait "$pid" 2>/dev/null
  echo "$hwm"
}

port=$((20000 + $$ % 20000))
gossip_node() { # command... : one gossip node that runs 4 s (its peer is absent: it keeps sending rounds)
  exec "$@" gossip run --plain --name a --listen "127.0.0.1:$port" --peer "b@127.0.0.1:$((port + 1))" --run-for 4s
}

ratio() { echo "scale=1; $1 / $2" | bc; }
fmt() { printf '%.0f' "$1" | sed -e ':a' -e 's/\([0-9]\)\([0-9]\{3\}\)\($\|,\)/\1,\2\3/' -e 'ta'; }

echo "Router CPUs under qemu-user ($(date -u +%F), load average $(cut -d' ' -f1-3 /proc/loadavg)); runs=$runs, budget=${budget} ms"
echo
echo "| target | libc, linkage | x0-runtime bytes | x0tta6bl4.jsbc bytes | x0-xdp bytes |"
echo "|---|---|---:|---:|---:|"
printf '| x86_64 (host build) | glibc, dynamic | %s | %s | %s |\n' "$(fmt "$(stat -c %s build/x0-runtime)")" \
  "$(fmt "$(stat -c %s "$work/x0tta6bl4.x86_64.jsbc")")" "$([ -f build/x0-xdp ] && fmt "$(stat -c %s build/x0-xdp)" || echo -)"
for t in "${targets[@]}"; do
  d=build/cross/$t
  libc=$(sed -n 's/^libc: \(musl\|glibc\).*/\1/p' "$d/build-info.txt" 2>/dev/null)
  link=$(sed -n 's/^linkage: //p' "$d/build-info.txt" 2>/dev/null)
  printf '| %s | %s, %s | %s | %s | %s |\n' "$t" "${libc:-?}" "${link:-?}" "$(fmt "$(stat -c %s "$d/x0-runtime")")" \
    "$([ -f "$d/x0tta6bl4.jsbc" ] && fmt "$(stat -c %s "$d/x0tta6bl4.jsbc")" || echo -)" \
    "$([ -f "$d/x0-xdp" ] && fmt "$(stat -c %s "$d/x0-xdp")" || echo -)"
done

echo
echo "Start-up (median of $runs runs of \`x0-runtime x0tta6bl4.jsbc version\`, each target's own bytecode) and"
echo "x0:crypto (ops/s, ${budget} ms per operation, median of 3); x86-64 and the target run alternately:"
echo
echo "| target | start-up ms | x86-64 ms | ratio | ed25519-sign ops/s | ratio | ed25519-verify ops/s | ratio | x25519 ops/s | ratio | secretbox-1400B ops/s | ratio | sha512-1400B ops/s | ratio |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
declare -A rss_rows
for t in "${targets[@]}"; do
  read -r -a emu <<<"$(bash scripts/cross.sh --emulator "$t" 2>/dev/null)"
  bin=build/cross/$t/x0-runtime
  bc=build/cross/$t/x0tta6bl4.jsbc
  [ -f "$bc" ] || { echo "| $t | (no x0tta6bl4.jsbc: run scripts/cross.sh) |"; continue; }
  read -r t_start x86_start <<<"$(startup_pair "${emu[@]}" "$bin" "$bc")"
  # Crypto: three alternating rounds, the median per operation.
  x86_runs=() t_runs=()
  for _ in 1 2 3; do
    x86_runs+=("$(build/x0-runtime bench/cross/crypto.js "$budget")")
    t_runs+=("$("${emu[@]}" "$bin" bench/cross/crypto.js "$budget")")
  done
  row="| $t | $t_start | $x86_start | $(ratio "$t_start" "$x86_start")× slower"
  for op in ed25519-sign ed25519-verify x25519 secretbox-1400B sha512-1400B; do
    a=$(for j in "${t_runs[@]}"; do node -e "console.log(JSON.parse(process.argv[1])[process.argv[2]])" "$j" "$op"; done | median)
    b=$(for j in "${x86_runs[@]}"; do node -e "console.log(JSON.parse(process.argv[1])[process.argv[2]])" "$j" "$op"; done | median)
    row+=" | $(fmt "$a") | $(ratio "$b" "$a")× slower"
  done
  echo "$row |"
  x86_idle=$(peak_rss_kb build/x0-runtime "$work/idle.js")
  x86_node=$(peak_rss_kb gossip_node build/x0-runtime "$work/x0tta6bl4.x86_64.jsbc")
  t_idle=$(peak_rss_kb "${emu[@]}" "$bin" "$work/idle.js")
  t_node=$(peak_rss_kb gossip_node "${emu[@]}" "$bin" "$bc")
  rss_rows[$t]="| $t | $(fmt "$t_node") | $(fmt "$t_idle") | $(fmt $((t_node - t_idle))) | $(fmt "$x86_node") | $(fmt "$x86_idle") | $(fmt $((x86_node - x86_idle))) |"
done

echo
echo "Peak RSS (kB, VmHWM) of a gossip node running 4 s (\`x0 gossip run\`, bytecode) and of an idle runtime"
echo "(a script that sleeps 2 s); under emulation both include qemu, so compare the increments:"
echo
echo "| target | node (qemu) | idle (qemu) | node − idle | node x86-64 | idle x86-64 | node − idle x86-64 |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for t in "${targets[@]}"; do [ -n "${rss_rows[$t]:-}" ] && echo "${rss_rows[$t]}"; done
