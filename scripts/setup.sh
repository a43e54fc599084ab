#!/usr/bin/env bash
# Installs everything the project needs on a fresh Debian machine and builds it. Idempotent: a second run
# only checks. Steps: apt packages (scripts/apt-packages/*.txt) -> npm packages -> QuickJS-ng sources
# (Debian testing's qjs-src) -> x0-runtime -> XDP programs -> the bundle.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive

step() { printf '\n== setup: %s\n' "$*"; }
now() { date +%s; }
t0=$(now)

need_root() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: installing Debian packages needs root; run as root or install by hand: $*" >&2
    exit 1
  fi
}

step "Debian packages"
packages=$(cat scripts/apt-packages/*.txt 2>/dev/null | sed 's/#.*//' | tr -s ' \t' '\n' | sed '/^$/d' | sort -u)
missing=()
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  need_root "${missing[*]}"
  echo "installing: ${missing[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "all $(echo "$packages" | wc -w) packages present"
fi

step "npm packages"
# `npm install` rather than `npm ci`: the lock file carries no registry addresses (this workplace's npm
# setting), which `npm ci` refuses; `npm install` follows the lock's versions just the same.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ] || [ package.json -nt node_modules/.package-lock.json ]; then
  npm install --no-audit --no-fund --loglevel=error
else
  echo "node_modules up to date"
fi

if [ -f scripts/fetch-qjs-src.sh ]; then
  step "QuickJS-ng sources (Debian qjs-src)"
  bash scripts/fetch-qjs-src.sh
fi

if [ -f src/native/Makefile ]; then
  step "x0-runtime"
  make -s -C src/native -j"$(nproc)"
fi

if [ -f bpf/Makefile ]; then
  step "XDP programs and x0-xdp"
  make -s -C bpf -j"$(nproc)"
fi

step "OpenWrt's ubusd, ubus and uci (from ../shared/vendor/openwrt, for the main job and the tests)"
bash scripts/openwrt-tools.sh libubox ubus uci

step "bundle"
npm run -s build

echo
echo "setup: done in $(( $(now) - t0 )) s"
