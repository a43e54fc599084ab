#!/usr/bin/env bash
# Serves luci-app-x0tta6bl4 on LuCI's own runtime for a developer's browser: a router-shaped root in a temp dir
# (test/luci/lib.sh) with ubusd, procd, rpcd and uhttpd built from the pinned OpenWrt sources, LuCI from the
# pinned tarball, the app from this tree, and an agent that registers the x0tta6bl4 ubus object.
# Usage: bash scripts/luci.sh [--port 8080] [--listen 127.0.0.1] [--luci 24.10|master] [--agent COMMAND]
#                             [--scenario baseline|node-down|revoked|healed] [--real]
#   --real   the real agent: build/x0-runtime running dist/x0tta6bl4.js `agent` (a one-anchor mesh on loopback,
#            config from test/luci/x0tta6bl4.agent.config; npm run build after changing src/).
#   --agent  run with sh -c, with UBUS_SOCKET and X0_CONFIG (the root's /etc/config/x0tta6bl4) set; default:
#            the scratch provider (test/luci/provider.ts) serving a known six-node mesh (--scenario picks the state;
#            change it while running: echo revoked > ROOT/scenario).
# Log in as root / x0-luci-root (admin) or viewer / x0-luci-viewer (read-only ACL). Ctrl-C stops everything.
# Needs root (chroot, mknod); run bash scripts/setup.sh first.
set -euo pipefail
cd "$(dirname "$0")/.."
luci_repo=$(pwd)
source test/luci/lib.sh

port=8080 listen=127.0.0.1 version=master agent='' scenario=baseline
while [ $# -gt 0 ]; do
  case "$1" in
    --port) port=$2; shift 2 ;;
    --listen) listen=$2; shift 2 ;;
    --luci) version=$2; shift 2 ;;
    --agent) agent=$2; shift 2 ;;
    --scenario) scenario=$2; shift 2 ;;
    --real) agent="exec '$luci_repo/build/x0-runtime' '$luci_repo/dist/x0tta6bl4.js' agent --config \"\$X0_CONFIG\""; shift ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) luci_die "unknown argument $1 (--help)" ;;
  esac
done
[ "$(id -u)" -eq 0 ] || luci_die "needs root (chroot, mknod): run as root"
[[ "$port" =~ ^[0-9]+$ ]] && [ "$port" -ge 1 ] && [ "$port" -le 65535 ] || luci_die "--port $port: a port 1..65535"

nice bash scripts/openwrt-tools.sh ucode rpcd uhttpd lucihttp procd >/dev/null || luci_die "building OpenWrt's tools failed (bash scripts/openwrt-tools.sh ucode rpcd uhttpd lucihttp procd)"
root=$(mktemp -d /tmp/x0-luci.XXXXXX)
trap 'luci_stop; rm -rf "$root"' EXIT
trap 'exit 0' INT TERM
echo "$scenario" >"$root/scenario"
provider=''
[ -n "$agent" ] || provider=1 agent="cd '$luci_repo' && exec node --import tsx test/luci/provider.ts --scenario-file '$root/scenario'"
luci_listen=$listen
luci_layout "$root" "$version" "$luci_repo/luci-app-x0tta6bl4"
[ -z "$provider" ] && luci_agent_config "$root" $((port + 1000))
luci_start "$root" "$port" "$agent" || { for f in "$root"/log/*.log; do echo "== $f"; tail -n 8 "$f"; done; exit 1; }
cat <<EOT

LuCI $version with luci-app-x0tta6bl4: http://$listen:$port/cgi-bin/luci/admin/services/x0tta6bl4
  admin:     root / $luci_root_password
  read-only: viewer / $luci_viewer_password
  root dir:  $root (logs in $root/log; scenario: echo node-down > $root/scenario)
Ctrl-C stops.
EOT
wait
