#!/usr/bin/env bash
# Installs the agent's packages into an image's root file system the way OpenWrt's image builder does: the
# x86_64 .ipk files from scripts/package.sh, installed by the real opkg (scripts/openwrt-tools.sh opkg) in
# offline mode with IPKG_INSTROOT=ROOT, so the maintainer scripts run as they do for an image (when ROOT has
# OpenWrt's /etc/rc.common and /lib/functions.sh they enable the init script; the first-boot script waits for
# the first boot). The libraries the image already carries for the router's libc, libsodium, libmbedtls and libbpf packages
# are recorded as those packages in ROOT's opkg database, so opkg resolves the packages' Depends.
# Usage: bash scripts/image-install.sh [--help] [--xdp] ROOT
#   --xdp   also install x0tta6bl4-xdp (x0-xdp and its BPF program)
# Prints one line per installed file ("installed: /path (N bytes)"), for the image's manifest.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
prefix=${X0_OPENWRT_PREFIX:-$root/build/openwrt/prefix}

fail() { echo "image-install: $*" >&2; exit 1; }
xdp=0 target=""
for arg in "$@"; do
  case "$arg" in
    -h | --help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    --xdp) xdp=1 ;;
    -*) fail "unknown option $arg (--help)" ;;
    *) [ -z "$target" ] || fail "one ROOT only (--help)"; target=$arg ;;
  esac
done
[ -n "$target" ] || fail "which ROOT? (--help)"
mkdir -p "$target"
target=$(cd "$target" && pwd)
[ "$target" != / ] || fail "refusing to install into / (this is for image roots)"

[ -x "$prefix/bin/opkg-cl" ] || bash scripts/openwrt-tools.sh opkg >&2 || fail "building opkg failed"
out=$root/build/packages
bash scripts/package.sh --format ipk --out "$out" x86_64 >/dev/null || fail "scripts/package.sh x86_64 failed"
version=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' package.json)
pkgs=("$out/x86_64/x0tta6bl4_${version}-1_x86_64.ipk")
[ "$xdp" = 0 ] || pkgs+=("$out/x86_64/x0tta6bl4-xdp_${version}-1_x86_64.ipk")
for p in "${pkgs[@]}"; do [ -f "$p" ] || fail "no $p after scripts/package.sh"; done

mkdir -p "$target/usr/lib/opkg" "$target/etc" "$target/tmp" "$target/var/lock"
[ -f "$target/etc/opkg.conf" ] || printf 'dest root /\nlists_dir ext /var/opkg-lists\noption overlay_root /overlay\n' > "$target/etc/opkg.conf"
status=$target/usr/lib/opkg/status
for lib in libc libsodium libmbedtls libbpf; do
  grep -qx "Package: $lib" "$status" 2>/dev/null && continue
  printf 'Package: %s\nVersion: 0-image\nStatus: install user installed\nArchitecture: x86_64\nInstalled-Time: 0\n\n' "$lib" >> "$status"
  mkdir -p "$target/usr/lib/opkg/info"; : > "$target/usr/lib/opkg/info/$lib.list"
done
IPKG_INSTROOT=$target LD_LIBRARY_PATH=$prefix/lib "$prefix/bin/opkg-cl" --offline-root "$target" --force-postinstall \
  --add-dest root:/ --add-arch all:100 --add-arch x86_64:200 --force-reinstall install "${pkgs[@]}" >&2 ||
  fail "opkg could not install ${pkgs[*]} into $target"
for p in x0tta6bl4 x0tta6bl4-xdp; do
  list=$target/usr/lib/opkg/info/$p.list
  [ -f "$list" ] || continue
  while read -r f; do echo "installed: $f ($(stat -c %s "$target$f") bytes) from $p"; done < "$list"
done
