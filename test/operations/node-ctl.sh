#!/usr/bin/env bash
# node-ctl: what an operator does on one router over ssh, for the runbook tests' routers on loopback
# (docs/operations/README.md). Each router NAME is a directory in the mesh directory (the current one):
#   NAME/config/x0tta6bl4   its UCI file (/etc/config/x0tta6bl4)      NAME/state   its state_dir (/etc/x0tta6bl4)
#   NAME/agent.log          its log (logread -e x0tta6bl4)           NAME/ubus.sock its ubusd socket
# usage: node-ctl NAME start|stop|restart|kill|reload|running|log
#        node-ctl NAME ubus METHOD [JSON]           (ubus call x0tta6bl4 METHOD [JSON])
#        node-ctl NAME wait-running [SECONDS]       (until ubus status says running; default 30 s)
#        node-ctl all stop                          (every router of this mesh)
#        node-ctl monitor start|stop|restart        the monitoring host's telemetry consumer: x0 watch --json
#                                                   on $BROKER with the trust bundle monitor/bundle.cbor,
#                                                   appending every message to telemetry.jsonl
# Needs X0_RUNTIME, X0_BUNDLE and OPENWRT_PREFIX in the environment (the test sets them).
# Exit 0 ok, 1 failure (the message says which router and why), 2 bad usage.
set -u
usage() { sed -n '2,14s/^# \{0,1\}//p' "$0" >&2; exit 2; }
[ $# -ge 2 ] || usage
name=$1 action=$2
shift 2
ubus_bin() { LD_LIBRARY_PATH="$OPENWRT_PREFIX/lib" "$OPENWRT_PREFIX/bin/ubus" "$@"; }
alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

stop_pid() { # PIDFILE SIGNAL: signal it, wait up to 10 s for it to go, then SIGKILL
  local pidfile=$1 signal=$2 pid i
  alive "$pidfile" || { rm -f "$pidfile"; return 0; }
  pid=$(cat "$pidfile")
  kill "-$signal" "$pid" 2>/dev/null
  for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  rm -f "$pidfile"
}

if [ "$name" = all ]; then
  [ "$action" = stop ] || usage
  # Every process at once (TERM), then each waited for (KILL after 10 s): a mesh stops in the time of its slowest.
  pids=()
  for pidfile in */agent.pid */ubusd.pid */watch.pid; do
    alive "$pidfile" && { pids+=("$(cat "$pidfile")"); kill -TERM "$(cat "$pidfile")" 2>/dev/null; }
    rm -f "$pidfile"
  done
  for _ in $(seq 1 100); do
    running=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && running=1; done
    [ "$running" = 0 ] && exit 0
    sleep 0.1
  done
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null; done
  exit 0
fi

if [ "$name" = monitor ]; then
  mkdir -p monitor
  monitor_start() {
    local before i
    before=$(grep -c subscribed telemetry.jsonl 2>/dev/null || true)
    setsid x0 watch --json --broker "$BROKER" --trust monitor/bundle.cbor --duration 1h \
      </dev/null >>telemetry.jsonl 2>&1 &
    echo $! >monitor/watch.pid
    for i in $(seq 1 100); do
      [ "$(grep -c subscribed telemetry.jsonl 2>/dev/null || true)" -gt "${before:-0}" ] && return 0
      sleep 0.2
    done
    echo "node-ctl: the monitor did not subscribe to $BROKER in 20 s; see telemetry.jsonl" >&2
    return 1
  }
  case "$action" in
    start) monitor_start ;;
    stop) stop_pid monitor/watch.pid TERM ;;
    restart) stop_pid monitor/watch.pid TERM; monitor_start ;;
    *) usage ;;
  esac
  exit $?
fi
[ -d "$name" ] || { echo "node-ctl: no router '$name' here ($(pwd))" >&2; exit 1; }

start() {
  if ! alive "$name/ubusd.pid"; then
    rm -f "$name/ubus.sock"
    LD_LIBRARY_PATH="$OPENWRT_PREFIX/lib" setsid "$OPENWRT_PREFIX/sbin/ubusd" -s "$name/ubus.sock" </dev/null >/dev/null 2>&1 &
    echo $! >"$name/ubusd.pid"
    for _ in $(seq 1 50); do [ -S "$name/ubus.sock" ] && break; sleep 0.05; done
  fi
  alive "$name/agent.pid" && { echo "node-ctl: $name is already running" >&2; return 0; }
  setsid "$X0_RUNTIME" "$X0_BUNDLE" agent --config "$name/config/x0tta6bl4" </dev/null >>"$name/agent.log" 2>&1 &
  echo $! >"$name/agent.pid"
}

case "$action" in
  start) start ;;
  stop) stop_pid "$name/agent.pid" TERM ;;
  kill) stop_pid "$name/agent.pid" KILL ;;
  restart) stop_pid "$name/agent.pid" TERM; start ;;
  reload) alive "$name/agent.pid" && kill -HUP "$(cat "$name/agent.pid")" ;;
  running) alive "$name/agent.pid" ;;
  log) cat "$name/agent.log" ;;
  ubus) [ $# -ge 1 ] || usage; ubus_bin -s "$name/ubus.sock" -t 3 call x0tta6bl4 "$@" ;;
  wait-running)
    deadline=$(( $(date +%s) + ${1:-30} ))
    while [ "$(date +%s)" -le "$deadline" ]; do
      state=$(ubus_bin -s "$name/ubus.sock" -t 2 call x0tta6bl4 status 2>/dev/null | jq -r .state 2>/dev/null)
      [ "$state" = running ] && exit 0
      sleep 0.3
    done
    echo "node-ctl: $name is not running after ${1:-30} s (state: ${state:-no answer}); its log: $name/agent.log" >&2
    tail -n 5 "$name/agent.log" >&2
    exit 1 ;;
  *) usage ;;
esac
