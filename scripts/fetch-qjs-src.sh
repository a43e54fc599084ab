#!/usr/bin/env bash
# Fetches the QuickJS-ng sources that x0-runtime embeds: Debian testing's `qjs-src` package, downloaded through
# a PRIVATE apt configuration under .cache/ (the system's /etc/apt is only read, for its mirror URI), checked
# against a pinned sha256 and unpacked into .cache/qjs-src/ (sources in .cache/qjs-src/usr/src/quickjs-ng/).
# Idempotent: when the unpacked tree matches the pinned .deb, it only checks.
#
# Upgrade: QJS_SRC_VERSION=0.18.0-1 QJS_SRC_SHA256=<sha256 of the .deb> bash scripts/fetch-qjs-src.sh
# Offline: put the .deb at .cache/qjs-apt/archives/qjs-src_<version>_all.deb (same sha256) and re-run.
set -euo pipefail
cd "$(dirname "$0")/.."

version=${QJS_SRC_VERSION:-0.17.0-1}
sha256=${QJS_SRC_SHA256:-04631979bdadaccffd76c1cb0aff5d07389aa889a90b6a902eba858a3a3b3988}
suite=${QJS_SRC_SUITE:-testing}
keyring=/usr/share/keyrings/debian-archive-keyring.gpg

cache=$(pwd)/.cache
apt_dir=$cache/qjs-apt
deb=$apt_dir/archives/qjs-src_${version}_all.deb
dest=$cache/qjs-src
stamp=$dest/.unpacked-from
src_dir=$dest/usr/src/quickjs-ng

fail() {
  echo "fetch-qjs-src: $*" >&2
  exit 1
}

# The pin names the exact .deb; anything else in its place is rejected, never used.
verify_deb() {
  local got
  got=$(sha256sum "$1" | awk '{print $1}')
  [ "$got" = "$sha256" ] || { echo "fetch-qjs-src: $1 has sha256 $got, expected $sha256" >&2; return 1; }
}

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$version $sha256" ] && [ -f "$src_dir/quickjs.c" ]; then
  echo "qjs-src $version already unpacked in ${src_dir#"$(pwd)"/}"
  exit 0
fi

# The main Debian mirror from the system's own sources: deb822 first, then the one-line format.
mirror_uri() {
  local f=/etc/apt/sources.list.d/debian.sources
  if [ -f "$f" ]; then
    awk 'BEGIN{RS=""; FS="\n"}
         { uri=""; main=0
           for (i = 1; i <= NF; i++) {
             if ($i ~ /^URIs:/) { sub(/^URIs:[ \t]*/, "", $i); split($i, u, /[ \t]+/); uri = u[1] }
             if ($i ~ /^Suites:/ && $i !~ /-security/) main = 1
           }
           if (main && uri != "" && uri !~ /security/) { print uri; exit } }' "$f"
    return
  fi
  if [ -f /etc/apt/sources.list ]; then
    sed -nE 's/^deb[ \t]+(\[[^]]*\][ \t]+)?([^ \t]+)[ \t]+.*/\2/p' /etc/apt/sources.list | grep -v security | head -1
  fi
}

if [ -f "$deb" ] && ! verify_deb "$deb"; then
  echo "fetch-qjs-src: removing the mismatching $deb and downloading again" >&2
  rm -f "$deb"
fi

if [ ! -f "$deb" ]; then
  command -v apt-get >/dev/null || fail "apt-get not found; this script needs a Debian system (or put qjs-src_${version}_all.deb in ${apt_dir#"$(pwd)"/}/archives/)"
  [ -f "$keyring" ] || fail "$keyring is missing; install it with: apt-get install debian-archive-keyring"
  uri=${QJS_SRC_MIRROR:-$(mirror_uri)}
  [ -n "$uri" ] || fail "cannot find a Debian mirror URI in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list; set QJS_SRC_MIRROR=http://deb.debian.org/debian"
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial"
  echo "deb [signed-by=$keyring] $uri $suite main" >"$apt_dir/sources.list"
  apt_opts=(
    -o "Dir::Etc::SourceList=$apt_dir/sources.list"
    -o "Dir::Etc::SourceParts=/dev/null"
    -o "Dir::State::Lists=$apt_dir/lists"
    -o "Dir::Cache=$apt_dir/cache"
    -o "Dir::State::status=/dev/null"
    -o "APT::Sandbox::User=root"
    -o "Debug::NoLocking=1"
  )
  mkdir -p "$apt_dir/cache/archives/partial"
  echo "fetching the Debian $suite package index from $uri (private apt configuration in ${apt_dir#"$(pwd)"/})"
  apt-get "${apt_opts[@]}" -qq update ||
    fail "apt-get update of $uri $suite failed (network or mirror down?); retry, or set QJS_SRC_MIRROR to another Debian mirror"
  echo "downloading qjs-src=$version"
  (cd "$apt_dir/archives" && apt-get "${apt_opts[@]}" -qq download "qjs-src=$version") ||
    fail "cannot download qjs-src=$version from $uri $suite (no longer in testing?); pick the current version with 'apt-cache policy' and set QJS_SRC_VERSION and QJS_SRC_SHA256, or place the .deb in ${apt_dir#"$(pwd)"/}/archives/"
  [ -f "$deb" ] || fail "apt-get download did not produce $deb"
  verify_deb "$deb" || { rm -f "$deb"; fail "refusing the downloaded qjs-src: sha256 mismatch (set QJS_SRC_SHA256 only if you checked the new package)"; }
fi

rm -rf "$dest"
mkdir -p "$dest"
dpkg-deb -x "$deb" "$dest" || fail "dpkg-deb -x $deb failed"
[ -f "$src_dir/quickjs.c" ] || fail "$deb unpacked, but $src_dir/quickjs.c is not there; the package layout changed"
echo "$version $sha256" >"$stamp"
echo "qjs-src $version unpacked in ${src_dir#"$(pwd)"/}"
