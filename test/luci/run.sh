#!/usr/bin/env bash
# luci-app-x0tta6bl4 in headless Chromium on LuCI's own runtime: for each LuCI version (24.10, master) a
# router-shaped root (test/luci/lib.sh) with ubusd, procd, rpcd and uhttpd built from the pinned sources, the
# agent's ubus object, and test/luci/browser.mjs driving Debian's chromium. Also checks the app's files
# (ACL vs the methods the views call, menu, JSON). Last line: `N passed, N failed, N skipped`.
# Usage: bash test/luci/run.sh [--versions "24.10 master"] [--agent COMMAND] [--shots DIR] [--keep]
#   Default runs: each version against the scratch provider (test/luci/provider.ts, known mesh states), then
#   the last version against the real agent: build/x0-runtime running dist/x0tta6bl4.js `agent`.
#   --agent   instead, only this command for each version: it must register the x0tta6bl4 ubus object; run
#             with sh -c outside the root, with UBUS_SOCKET (ubusd's socket) and X0_CONFIG (the root's
#             /etc/config/x0tta6bl4, written from test/luci/x0tta6bl4.agent.config) in its environment.
#   --shots   write screenshots of every view (1280 and 375 px) into DIR/<version>/.
#   --keep    keep the root directories (printed) for a look afterwards.
# Needs root (chroot, mknod). Env: X0_LUCI_VERSIONS, X0_LUCI_AGENT.
set -uo pipefail
cd "$(dirname "$0")/../.."
luci_repo=$(pwd)
# shellcheck source=lib.sh
source test/luci/lib.sh

versions=${X0_LUCI_VERSIONS:-24.10 master}
agent=${X0_LUCI_AGENT:-}
shots=''
keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    --versions) versions=$2; shift 2 ;;
    --agent) agent=$2; shift 2 ;;
    --shots) shots=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument $1 (--help)"; echo "0 passed, 1 failed, 0 skipped"; exit 1 ;;
  esac
done

passed=0 failed=0 skipped=0
pass() { passed=$((passed + 1)); echo "ok - $*"; }
fail() { failed=$((failed + 1)); echo "not ok - $*"; }
skip() { skipped=$((skipped + 1)); echo "skip - $*"; }
finish() { echo "$passed passed, $failed failed, $skipped skipped"; [ "$failed" -eq 0 ]; exit; }

if [ "$(id -u)" -ne 0 ]; then
  skip "LuCI browser tests: need root for chroot and mknod (run as root)"
  finish
fi

# ---- static checks of the app's files ----
app=luci-app-x0tta6bl4
if node -e '
  const fs = require("fs"), app = process.argv[1];
  for (const f of ["root/usr/share/rpcd/acl.d/luci-app-x0tta6bl4.json", "root/usr/share/luci/menu.d/luci-app-x0tta6bl4.json"]) JSON.parse(fs.readFileSync(`${app}/${f}`, "utf8"));
' "$app" 2>&1; then pass "app: ACL and menu files are valid JSON"; else fail "app: ACL and menu files are valid JSON"; fi

# Every x0tta6bl4 method a view declares is in the ACL, and the ACL grants nothing the views do not call.
acl_check=$(node -e '
  const fs = require("fs"), path = require("path"), app = process.argv[1];
  const acl = JSON.parse(fs.readFileSync(`${app}/root/usr/share/rpcd/acl.d/luci-app-x0tta6bl4.json`, "utf8"));
  const granted = new Set();
  for (const group of Object.values(acl)) for (const mode of ["read", "write"]) for (const m of group[mode]?.ubus?.x0tta6bl4 ?? []) granted.add(m);
  const called = new Set();
  const dir = `${app}/htdocs/luci-static/resources`;
  const walk = (d) => fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)]);
  for (const f of walk(dir).filter((f) => f.endsWith(".js"))) {
    for (const m of fs.readFileSync(f, "utf8").matchAll(/object:\s*.x0tta6bl4.,\s*method:\s*.(\w+)./g)) called.add(m[1]);
  }
  const missing = [...called].filter((m) => !granted.has(m)), extra = [...granted].filter((m) => !called.has(m));
  const read = new Set(acl["luci-app-x0tta6bl4"].read.ubus.x0tta6bl4), admin = acl["luci-app-x0tta6bl4-admin"].write.ubus.x0tta6bl4;
  const leaked = admin.filter((m) => read.has(m));
  console.log(missing.length || extra.length || leaked.length ? `called but not granted: ${missing}; granted but never called: ${extra}; admin methods in the read group: ${leaked}` : "");
' "$app" 2>&1)
if [ -z "$acl_check" ]; then pass "app: ACL grants exactly the x0tta6bl4 methods the views call; admin methods only in the admin group"
else fail "app: ACL vs views: $acl_check"; fi

# The guard above must catch a method a view calls without a grant: plant one and expect the complaint.
planted=$(mktemp -d)
cp -R "$app" "$planted/"
echo "rpc.declare({ object: 'x0tta6bl4', method: 'wipe' });" >>"$planted/$app/htdocs/luci-static/resources/x0tta6bl4/api.js"
if node -e '
  const fs = require("fs"), src = fs.readFileSync(process.argv[1], "utf8");
  const acl = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
  const granted = new Set(Object.values(acl).flatMap((g) => ["read", "write"].flatMap((m) => g[m]?.ubus?.x0tta6bl4 ?? [])));
  const called = [...src.matchAll(/object:\s*.x0tta6bl4.,\s*method:\s*.(\w+)./g)].map((m) => m[1]);
  process.exit(called.some((m) => !granted.has(m)) ? 0 : 1);
' "$planted/$app/htdocs/luci-static/resources/x0tta6bl4/api.js" "$planted/$app/root/usr/share/rpcd/acl.d/luci-app-x0tta6bl4.json"; then
  pass "app: the ACL guard catches a planted ungranted method"
else fail "app: the ACL guard misses a planted ungranted method"; fi
rm -rf "$planted"

if bash scripts/luci-pot.sh --check; then pass "app: po/templates/x0tta6bl4.pot holds every translatable string"
else fail "app: po/templates/x0tta6bl4.pot is out of date (bash scripts/luci-pot.sh)"; fi

js_bad=''
for f in $(find "$app/htdocs" -name '*.js'); do
  node -e 'new Function(require("fs").readFileSync(process.argv[1], "utf8"))' "$f" 2>/dev/null || js_bad="$js_bad $f"
done
[ -z "$js_bad" ] && pass "app: every view parses as JavaScript" || fail "app: syntax errors in$js_bad"

# ---- the servers ----
if ! nice bash scripts/openwrt-tools.sh ucode rpcd uhttpd lucihttp procd >/tmp/x0-luci-tools.log 2>&1; then
  tail -20 /tmp/x0-luci-tools.log
  fail "build ubusd, rpcd, uhttpd, ucode, lucihttp, procd from the pinned sources (log: /tmp/x0-luci-tools.log)"
  finish
fi
pass "OpenWrt tools built from the pinned sources (ubusd rpcd uhttpd ucode lucihttp procd)"
command -v chromium >/dev/null || [ -n "${CHROMIUM:-}" ] || { fail "chromium is missing: bash scripts/setup.sh installs it (scripts/apt-packages/luci.txt)"; finish; }
[ -d node_modules/puppeteer-core ] || { fail "node_modules/puppeteer-core is missing: npm install"; finish; }

roots=()
cleanup() {
  luci_stop
  [ "$keep" = 1 ] && { printf 'kept: %s\n' "${roots[@]}"; return; }
  local r
  for r in "${roots[@]}"; do rm -rf "$r"; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# One run: "VERSION provider" (scratch provider), "VERSION agent" (the real agent on x0-runtime) or "VERSION custom".
runs=()
if [ -n "$agent" ]; then
  for v in $versions; do runs+=("$v custom"); done
else
  for v in $versions; do runs+=("$v provider"); done
  runs+=("${versions##* } agent")
  [ -x build/x0-runtime ] && [ -f dist/x0tta6bl4.js ] ||
    { fail "the real agent needs build/x0-runtime and dist/x0tta6bl4.js: run bash scripts/setup.sh"; finish; }
fi

port=$((18200 + RANDOM % 500))
for run in "${runs[@]}"; do
  version=${run% *} kind=${run#* }
  # Skip ports something already listens on (uhttpd's, and the agent's peers at +1000).
  while (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null || (echo >"/dev/tcp/127.0.0.1/$((port + 1000))") 2>/dev/null; do port=$((port + 1)); done
  root=$(mktemp -d /tmp/x0-luci.XXXXXX)
  roots+=("$root")
  scenario_args=()
  case "$kind" in
    provider)
      agent_cmd="cd '$luci_repo' && exec node --import tsx test/luci/provider.ts --scenario-file '$root/scenario'"
      scenario_args=(--scenario-file "$root/scenario" --provider-log "$root/log/agent.log") ;;
    agent) agent_cmd="exec '$luci_repo/build/x0-runtime' '$luci_repo/dist/x0tta6bl4.js' agent --config \"\$X0_CONFIG\"" ;;
    custom) agent_cmd=$agent ;;
  esac
  if ! (luci_layout "$root" "$version" "$luci_repo/$app") >"$root.layout.log" 2>&1; then
    cat "$root.layout.log"; fail "LuCI $version ($kind): lay out the root"; continue
  fi
  rm -f "$root.layout.log"
  [ "$kind" = provider ] || luci_agent_config "$root" $((port + 1000))
  if ! luci_start "$root" "$port" "$agent_cmd"; then
    for f in "$root"/log/*.log; do echo "== $f"; tail -n 8 "$f"; done
    fail "LuCI $version ($kind): start ubusd, procd, rpcd, the agent and uhttpd"; luci_stop; continue
  fi
  pass "LuCI $version ($kind): ubusd, procd, rpcd, the agent and uhttpd up on 127.0.0.1:$port"
  shot_args=()
  [ -n "$shots" ] && shot_args=(--shots "$shots/$version$([ "$kind" = provider ] || echo "-$kind")")
  out=$(timeout --kill-after=10 300 node --import tsx test/luci/browser.mjs --base "http://127.0.0.1:$port" --root "$root" \
    --label "LuCI $version ($kind)" "${scenario_args[@]}" "${shot_args[@]}" 2>&1)
  rc=$?
  echo "$out" | grep -vE '^[0-9]+ passed, [0-9]+ failed'
  line=$(echo "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -1)
  if [ -z "$line" ]; then
    fail "LuCI $version ($kind): browser checks ended without a summary (exit $rc)"
  else
    passed=$((passed + $(echo "$line" | sed -E 's/^([0-9]+) passed.*/\1/')))
    failed=$((failed + $(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')))
    skipped=$((skipped + $(echo "$line" | sed -E 's/.* ([0-9]+) skipped.*/\1/')))
  fi
  if [ "$failed" -gt 0 ]; then for f in "$root"/log/*.log; do echo "== $f (last lines)"; tail -n 5 "$f"; done; fi
  luci_stop
  port=$((port + 1))
done
finish
