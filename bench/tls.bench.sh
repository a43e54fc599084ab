#!/usr/bin/env bash
# What TLS (x0:tls, mbedtls; src/native/tls.c) costs x0-runtime on this machine (x86-64): the stripped binary
# built three ways by src/native/Makefile — TLS=0 (x0:tls answers tls-unavailable), TLS=1 linked to the shared
# libmbedtls as OpenWrt links it (the libraries are then the router's libmbedtls package, not the binary), and
# TLS=1 TLS_STATIC=1 with mbedtls' static archives inside — and the shared libraries' own sizes. Builds into
# build/tls-size/ from copies of build/native/qjs (QuickJS is not recompiled). Not a test: prints, never asserts.
# Usage: bash bench/tls.bench.sh [--help]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
case "${1:-}" in
  -h | --help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  "") ;;
  *) echo "tls.bench: unknown argument '$1' (see --help)" >&2; exit 2 ;;
esac
[ -d build/native/qjs ] || { echo "tls.bench: build/native/qjs is missing: run 'make -C src/native' first" >&2; exit 1; }

size_of() { stat -c %s "$1"; }
build_variant() { # name make-args...
  local name=$1; shift
  local out=$root/build/tls-size/$name
  rm -rf "$out"; mkdir -p "$out/native"
  cp -rp build/native/qjs build/native/qjs-patched "$out/native/"
  nice make -s -C src/native BUILD="$out" "$@" >/dev/null
  size_of "$out/x0-runtime"
}

none=$(build_variant none TLS=0)
dynamic=$(build_variant dynamic TLS=1)
static=$(build_variant static TLS=1 TLS_STATIC=1)
libdir=/usr/lib/$(cc -print-multiarch)
shared=0
for lib in libmbedtls libmbedx509 libmbedcrypto; do
  shared=$((shared + $(size_of "$(readlink -f "$libdir/$lib.so")")))
done
version=$(dpkg-query -W -f '${Version}' libmbedtls-dev 2>/dev/null || echo unknown)

printf '%-44s %10s %10s\n' "x0-runtime (x86-64, -Os, stripped)" bytes "vs TLS=0"
printf '%-44s %10d %10s\n' "TLS=0 (no mbedtls)" "$none" "-"
printf '%-44s %10d %+10d\n' "TLS=1, libmbedtls shared (as on OpenWrt)" "$dynamic" $((dynamic - none))
printf '%-44s %10d %+10d\n' "TLS=1 TLS_STATIC=1, mbedtls inside" "$static" $((static - none))
printf '%-44s %10d\n' "libmbedtls+x509+crypto .so (Debian $version)" "$shared"
