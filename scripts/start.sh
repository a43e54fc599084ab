#!/usr/bin/env bash
# The README's main command: set up (idempotent), then the product on this machine: five routers' agents on
# x0-runtime (the bundle's bytecode) on loopback, each configured only by its own UCI file and each with its own
# real ubusd: enrolment with join tokens, a Raft leader among the three anchors, the mesh document converged by
# gossip, signed telemetry verified by `x0 watch` (embedded MQTT broker), a degraded leader healed by its own MAPE-K
# loop (a partial partition made with nftables: run as root), then the leader killed and the mesh noticing. Prints
# what each step proves. About 30 s after set-up. Files and logs: build/demo/.
# Usage: bash scripts/start.sh [--no-setup] [--demo-dir DIR] [--base-port N] [--mqtt-port N] [--self-healing off]
set -euo pipefail
cd "$(dirname "$0")/.."

setup=1 demo=build/demo base_port=${X0_BASE_PORT:-7410} mqtt_port=${X0_MQTT_PORT:-7403} healing=on
while [ $# -gt 0 ]; do
  case "$1" in
    --no-setup) setup=0 ;;
    --demo-dir) demo=$2; shift ;;
    --base-port) base_port=$2; shift ;;
    --mqtt-port) mqtt_port=$2; shift ;;
    --self-healing) healing=$2; shift ;;
    -h|--help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "start: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

[ "$setup" = 1 ] && bash scripts/setup.sh

runtime=build/x0-runtime
[ -x "$runtime" ] || { echo "start: $runtime is missing; run 'bash scripts/setup.sh'" >&2; exit 1; }
[ -f dist/x0tta6bl4.js ] || { echo "start: dist/x0tta6bl4.js is missing; run 'npm run build'" >&2; exit 1; }
[ -x build/openwrt/prefix/sbin/ubusd ] || bash scripts/openwrt-tools.sh libubox ubus

# A router does not parse JavaScript at every start: run the bytecode, as the package does.
"$runtime" --compile dist/x0tta6bl4.js -o build/x0tta6bl4.jsbc
echo "start: bytecode build/x0tta6bl4.jsbc ($(stat -c %s build/x0tta6bl4.jsbc) bytes) from dist/x0tta6bl4.js ($(stat -c %s dist/x0tta6bl4.js) bytes)"
exec node --import tsx scripts/demo.ts --dir "$demo" --base-port "$base_port" --mqtt-port "$mqtt_port" --self-healing "$healing"
