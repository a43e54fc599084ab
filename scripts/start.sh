#!/usr/bin/env bash
# The README's main command: set up (idempotent), then start two agents on the native runtime
# (x0-runtime running the bundle's precompiled bytecode) that exchange signed hellos over loopback UDP.
# Usage: bash scripts/start.sh [--no-setup] [--port-a N] [--port-b N]
set -euo pipefail
cd "$(dirname "$0")/.."

setup=1 port_a=${X0_PORT_A:-7401} port_b=${X0_PORT_B:-7402}
while [ $# -gt 0 ]; do
  case "$1" in
    --no-setup) setup=0 ;;
    --port-a) port_a=$2; shift ;;
    --port-b) port_b=$2; shift ;;
    -h|--help) sed -n '2,4p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "start: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

[ "$setup" = 1 ] && bash scripts/setup.sh

runtime=build/x0-runtime
[ -x "$runtime" ] || { echo "start: $runtime is missing; run 'bash scripts/setup.sh'" >&2; exit 1; }
[ -f dist/x0tta6bl4.js ] || { echo "start: dist/x0tta6bl4.js is missing; run 'npm run build'" >&2; exit 1; }

# A router does not parse JavaScript at every start: run the bytecode, as the package does.
"$runtime" --compile dist/x0tta6bl4.js -o build/x0tta6bl4.jsbc
echo "start: bytecode build/x0tta6bl4.jsbc ($(stat -c %s build/x0tta6bl4.jsbc) bytes) from dist/x0tta6bl4.js ($(stat -c %s dist/x0tta6bl4.js) bytes)"
echo "start: two agents on $runtime, udp 127.0.0.1:$port_a <-> 127.0.0.1:$port_b"

"$runtime" build/x0tta6bl4.jsbc hello --name alpha --listen "127.0.0.1:$port_a" --peer "127.0.0.1:$port_b" &
pid_a=$!
"$runtime" build/x0tta6bl4.jsbc hello --name bravo --listen "127.0.0.1:$port_b" --peer "127.0.0.1:$port_a" &
pid_b=$!
trap 'kill $pid_a $pid_b 2>/dev/null || true' EXIT

rc=0
wait $pid_a || rc=$?
wait $pid_b || rc=$?
trap - EXIT
if [ "$rc" -eq 0 ]; then echo "start: both agents verified each other's signed hello"; else echo "start: an agent failed (exit $rc)" >&2; fi
exit "$rc"
