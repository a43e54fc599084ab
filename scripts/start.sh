#!/usr/bin/env bash
# The README's main command: set up (idempotent), then (1) two agents on the native runtime (x0-runtime running
# the bundle's precompiled bytecode) exchange signed hellos over loopback UDP; (2) two nodes, one on x0-runtime
# and one on Node, publish signed telemetry over MQTT and `x0 watch` verifies it against the mesh CA. With no
# broker configured (--broker, X0_MQTT_BROKER) x0 watch runs an embedded one (aedes) in its own process.
# Usage: bash scripts/start.sh [--no-setup] [--port-a N] [--port-b N] [--broker HOST:PORT] [--mqtt-port N]
#                              [--demo-dir DIR] [--telemetry-only]
set -euo pipefail
cd "$(dirname "$0")/.."

setup=1 hello=1 port_a=${X0_PORT_A:-7401} port_b=${X0_PORT_B:-7402}
broker=${X0_MQTT_BROKER:-} mqtt_port=${X0_MQTT_PORT:-7403} demo=build/demo
while [ $# -gt 0 ]; do
  case "$1" in
    --no-setup) setup=0 ;;
    --port-a) port_a=$2; shift ;;
    --port-b) port_b=$2; shift ;;
    --broker) broker=$2; shift ;;
    --mqtt-port) mqtt_port=$2; shift ;;
    --demo-dir) demo=$2; shift ;;
    --telemetry-only) hello=0 ;;
    -h|--help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
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
x0=("$runtime" build/x0tta6bl4.jsbc)
x0node=(node --import tsx src/entry/node.ts)

pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT

hello_step() {
  echo "start: two agents on $runtime, udp 127.0.0.1:$port_a <-> 127.0.0.1:$port_b"
  "${x0[@]}" hello --name alpha --listen "127.0.0.1:$port_a" --peer "127.0.0.1:$port_b" &
  local pid_a=$!
  "${x0[@]}" hello --name bravo --listen "127.0.0.1:$port_b" --peer "127.0.0.1:$port_a" &
  local pid_b=$! rc=0
  pids=("$pid_a" "$pid_b")
  wait "$pid_a" || rc=$?
  wait "$pid_b" || rc=$?
  if [ "$rc" -ne 0 ]; then echo "start: an agent failed (exit $rc)" >&2; return "$rc"; fi
  echo "start: both agents verified each other's signed hello"
}

# The mesh the telemetry demo signs with, made the way an operator makes one: a CA, then per node a join
# token, a join request (the node's own keys) and the signed certificate chain.
demo_mesh() {
  rm -rf "$demo"
  mkdir -p "$demo"
  echo "start: telemetry: mesh CA (trust domain demo.x0) and identities for alpha and bravo in $demo (x0 ca, x0 cert on $runtime)"
  "${x0[@]}" ca init --trust-domain demo.x0 --dir "$demo/ca" >/dev/null
  local node token
  for node in alpha bravo; do
    token=$("${x0[@]}" ca issue-token --node "$node" --dir "$demo/ca")
    "${x0[@]}" cert request --token "$token" --dir "$demo/$node" >/dev/null
    "${x0[@]}" ca sign --request "$demo/$node/join-request.cbor" --out "$demo/$node/node.chain" --bundle-out "$demo/$node/bundle.cbor" --dir "$demo/ca" >/dev/null
  done
}

telemetry_step() {
  local started=$SECONDS mqtt=5 watch_args=() rc=0
  demo_mesh
  if [ -z "$broker" ]; then
    broker=127.0.0.1:$mqtt_port mqtt=3.1.1 watch_args=(--embedded-broker)
    echo "start: telemetry: no MQTT broker configured (--broker or X0_MQTT_BROKER): x0 watch runs an embedded one (aedes, MQTT 3.1.1) on $broker"
  else
    echo "start: telemetry: MQTT broker $broker"
  fi
  # x0 watch ends by itself once both nodes sent verified telemetry and then their signed 'offline' status.
  "${x0node[@]}" watch "${watch_args[@]}" --broker "$broker" --mqtt "$mqtt" --bundle "$demo/ca/bundle.cbor" \
    --expect-nodes 2 --until-offline --duration-ms 25000 2> >(tee "$demo/watch.err" >&2) &
  local watch=$!
  pids=("$watch")
  for _ in $(seq 300); do
    grep -q '^subscribed' "$demo/watch.err" 2>/dev/null && break
    kill -0 "$watch" 2>/dev/null || break
    sleep 0.1
  done
  grep -q '^subscribed' "$demo/watch.err" 2>/dev/null || { echo "start: telemetry: x0 watch did not subscribe (see above)" >&2; return 1; }
  echo "start: telemetry: alpha on $runtime and bravo on Node publish 5 signed telemetry messages each, 400 ms apart"
  "${x0[@]}" uplink --dir "$demo/alpha" --broker "$broker" --mqtt "$mqtt" --simulate 1 --count 5 --interval-ms 400 &
  local alpha=$!
  "${x0node[@]}" uplink --dir "$demo/bravo" --broker "$broker" --mqtt "$mqtt" --simulate 2 --count 5 --interval-ms 400 &
  local bravo=$!
  pids=("$watch" "$alpha" "$bravo")
  wait "$alpha" || rc=$?
  wait "$bravo" || rc=$?
  wait "$watch" || rc=$?
  if [ "$rc" -ne 0 ]; then echo "start: telemetry: failed (exit $rc)" >&2; return "$rc"; fi
  echo "start: telemetry: x0 watch verified the signed telemetry of both nodes (alpha on x0-runtime, bravo on Node) in $((SECONDS - started)) s"
}

if [ "$hello" = 1 ]; then hello_step; fi
telemetry_step
trap - EXIT
