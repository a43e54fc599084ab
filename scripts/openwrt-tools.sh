#!/usr/bin/env bash
# Builds OpenWrt's own userland tools from the pinned sources in ../shared/vendor/openwrt/ (checksums verified
# against its SHA256SUMS) into build/openwrt/prefix, for the tests that need the real thing (ubusd, rpcd, uhttpd,
# opkg, apk-tools, procd, ...). Each target is built once and skipped afterwards (a stamp per target and commit).
# Usage: bash scripts/openwrt-tools.sh [--list] [TARGET...]   (no target: every target)
# Environment: X0_OPENWRT_VENDOR (default ../shared/vendor/openwrt), X0_OPENWRT_PREFIX (default build/openwrt/prefix)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
vendor=${X0_OPENWRT_VENDOR:-$root/../shared/vendor/openwrt}
work=$root/build/openwrt
prefix=${X0_OPENWRT_PREFIX:-$work/prefix}
jobs=$(nproc)

die() { echo "openwrt-tools: $*" >&2; exit 1; }

# One line per target: name, vendor tarball (prefix of its file name), targets it needs first.
# Build functions are named build_<name with - as _>.
targets_table() {
  cat <<'EOF'
libubox       libubox-1aa36ee774c8
ubus          ubus-3cc98db1a422          libubox
uci           uci-66127cd76c5d           libubox
opkg          opkg-lede-38eccbb1fd69     libubox
apk-tools     apk-tools-7e92634afe99
ucode         ucode-81205a25437a         libubox ubus uci
rpcd          rpcd-4476687403d8          libubox ubus uci ucode
uhttpd        uhttpd-f682ccabee9e        libubox ubus ucode
lucihttp      lucihttp-9b5b683fbb2b      ucode
udebug        udebug-875e1a7af6ca        libubox ubus ucode
procd         procd-2c1834abae17         libubox ubus uci udebug
procd-setlbf  procd-2c1834abae17         libubox ubus uci udebug
EOF
}

# Unpacks a vendor tarball into build/openwrt/src/<name> after checking its sha256; prints the directory.
unpack() { # target tarball-stem
  local name=$1 stem=$2 file dir
  file=$(ls "$vendor"/"$stem"*.tar.gz 2>/dev/null | head -1)
  [ -n "$file" ] || die "no $stem*.tar.gz in $vendor (see its README.md)"
  ( cd "$vendor" && grep " $(basename "$file")\$" SHA256SUMS | sha256sum -c --quiet - ) >&2 ||
    die "checksum mismatch for $file: the vendor folder is damaged; restore it from ../shared"
  dir=$work/src/$name
  rm -rf "$dir"; mkdir -p "$dir"
  tar -xzf "$file" -C "$dir" --strip-components=1
  echo "$dir"
}

cmake_build() { # source-dir extra cmake args...
  local src=$1; shift
  cmake -S "$src" -B "$src/_build" -DCMAKE_INSTALL_PREFIX="$prefix" -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_BUILD_TYPE=Release "$@" >"$src/_build.log" 2>&1 || { tail -30 "$src/_build.log" >&2; return 1; }
  cmake --build "$src/_build" -j"$jobs" >>"$src/_build.log" 2>&1 || { tail -30 "$src/_build.log" >&2; return 1; }
  cmake --install "$src/_build" >>"$src/_build.log" 2>&1 || { tail -30 "$src/_build.log" >&2; return 1; }
}

build_libubox() { cmake_build "$1" -DBUILD_LUA=OFF -DBUILD_EXAMPLES=OFF; }
build_ubus() { cmake_build "$1" -DBUILD_LUA=OFF -DBUILD_EXAMPLES=OFF "-DCMAKE_C_FLAGS=-I$prefix/include"; }
build_uci() { cmake_build "$1" -DBUILD_LUA=OFF "-DCMAKE_C_FLAGS=-I$prefix/include"; }
# opkg-lede as OpenWrt 24.10 ships it: no usign (signatures are not what the package tests check).
build_opkg() { cmake_build "$1" -DBUILD_TESTS=OFF -DENABLE_USIGN=OFF -DVERSION=38eccbb1fd69 "-DCMAKE_C_FLAGS=-I$prefix/include"; }
# apk-tools v3 (OpenWrt 25.12's package manager), meson: no docs, help, Lua, Python or tests.
build_apk_tools() {
  local src=$1
  { meson setup "$src/_build" "$src" --prefix="$prefix" --libdir=lib -Ddocs=disabled -Dhelp=disabled -Dlua=disabled \
      -Dpython=disabled -Dtests=disabled -Dzstd=enabled &&
    ninja -C "$src/_build" -j"$jobs" && ninja -C "$src/_build" install; } >"$src/_build.log" 2>&1 ||
    { tail -30 "$src/_build.log" >&2; return 1; }
}
# ucode, rpcd, uhttpd, lucihttp: LuCI's server side (test/luci). Flags from the vendor README: no netlink
# modules (no libnl-tiny here); rpc-sys and iwinfo off (strlcpy, libiwinfo); TLS and Lua off in uhttpd.
build_ucode() {
  cmake_build "$1" -DUBUS_SUPPORT=ON -DUCI_SUPPORT=ON -DULOOP_SUPPORT=ON -DRTNL_SUPPORT=OFF -DNL80211_SUPPORT=OFF \
    -DZLIB_SUPPORT=OFF -DDIGEST_SUPPORT=OFF -DDIGEST_SUPPORT_EXTENDED=OFF "-DCMAKE_C_FLAGS=-I$prefix/include" \
    "-DCMAKE_EXE_LINKER_FLAGS=-Wl,-rpath,$prefix/lib" "-DCMAKE_SHARED_LINKER_FLAGS=-Wl,-rpath,$prefix/lib"
}
build_rpcd() {
  cmake_build "$1" -DIWINFO_SUPPORT=OFF -DRPCSYS_SUPPORT=OFF -DUCODE_SUPPORT=ON "-DCMAKE_C_FLAGS=-D_GNU_SOURCE= -I$prefix/include" \
    "-DCMAKE_EXE_LINKER_FLAGS=-L$prefix/lib -Wl,-rpath,$prefix/lib" "-DCMAKE_SHARED_LINKER_FLAGS=-L$prefix/lib -Wl,-rpath,$prefix/lib" \
    "-DCMAKE_MODULE_LINKER_FLAGS=-L$prefix/lib -Wl,-rpath,$prefix/lib"
}
build_uhttpd() {
  cmake_build "$1" -DTLS_SUPPORT=OFF -DLUA_SUPPORT=OFF -DUBUS_SUPPORT=ON -DUCODE_SUPPORT=ON \
    "-DCMAKE_C_FLAGS=-D_GNU_SOURCE= -Wno-error=stringop-overread -I$prefix/include" \
    "-DCMAKE_EXE_LINKER_FLAGS=-L$prefix/lib -Wl,-rpath,$prefix/lib" "-DCMAKE_MODULE_LINKER_FLAGS=-L$prefix/lib -Wl,-rpath,$prefix/lib"
}
build_udebug() {
  cmake_build "$1" "-DCMAKE_C_FLAGS=-I$prefix/include" "-DCMAKE_EXE_LINKER_FLAGS=-L$prefix/lib -Wl,-rpath,$prefix/lib" \
    "-DCMAKE_SHARED_LINKER_FLAGS=-L$prefix/lib -Wl,-rpath,$prefix/lib" "-DCMAKE_MODULE_LINKER_FLAGS=-L$prefix/lib -Wl,-rpath,$prefix/lib"
}
# procd: for its `system` ubus object (LuCI's header calls `system board`), run as a plain process, not init.
# glibc 2.36 lacks strlcpy/strlcat: libbsd's declarations and library (vendor README).
build_procd() { # only the procd binary (not init, ujail, ...)
  local src=$1
  cmake -S "$src" -B "$src/_build" -DCMAKE_INSTALL_PREFIX="$prefix" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release \
    "-DCMAKE_C_FLAGS=-D_GNU_SOURCE= -I$prefix/include -include bsd/string.h -Wno-error=format-overflow" -DCMAKE_C_STANDARD_LIBRARIES=-lbsd \
    "-DCMAKE_EXE_LINKER_FLAGS=-L$prefix/lib -Wl,-rpath,$prefix/lib" >"$src/_build.log" 2>&1 &&
  cmake --build "$src/_build" --target procd -j"$jobs" >>"$src/_build.log" 2>&1 &&
  install -D -m 755 "$src/_build/procd" "$prefix/sbin/procd" || { tail -30 "$src/_build.log" >&2; return 1; }
}
# procd's libsetlbf.so: procd preloads /lib/libsetlbf.so into a service whose stdout/stderr it sends to syslog, so
# the service's output is line-buffered (the QEMU lab's image, where procd runs the agent).
build_procd_setlbf() {
  local src=$1
  cmake -S "$src" -B "$src/_build" -DCMAKE_INSTALL_PREFIX="$prefix" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release \
    "-DCMAKE_C_FLAGS=-D_GNU_SOURCE= -I$prefix/include -include bsd/string.h -Wno-error=format-overflow" -DCMAKE_C_STANDARD_LIBRARIES=-lbsd \
    "-DCMAKE_EXE_LINKER_FLAGS=-L$prefix/lib -Wl,-rpath,$prefix/lib" >"$src/_build.log" 2>&1 &&
  cmake --build "$src/_build" --target setlbf -j"$jobs" >>"$src/_build.log" 2>&1 &&
  install -D -m 755 "$src/_build/libsetlbf.so" "$prefix/lib/libsetlbf.so" || { tail -30 "$src/_build.log" >&2; return 1; }
}
build_lucihttp() {
  cmake_build "$1" -DBUILD_LUA=OFF -DBUILD_UCODE=ON -DBUILD_TESTS=OFF "-DCMAKE_C_FLAGS=-D_GNU_SOURCE= -I$prefix/include" \
    "-DCMAKE_SHARED_LINKER_FLAGS=-L$prefix/lib -Wl,-rpath,$prefix/lib" "-DCMAKE_MODULE_LINKER_FLAGS=-L$prefix/lib -Wl,-rpath,$prefix/lib"
}

declare -A done_now=()
build_target() { # name
  local name=$1 line stem deps dir stamp
  [ -n "${done_now[$name]:-}" ] && return 0
  line=$(targets_table | awk -v n="$name" '$1 == n')
  [ -n "$line" ] || die "unknown target '$name' (--list shows them)"
  stem=$(echo "$line" | awk '{print $2}')
  deps=$(echo "$line" | awk '{for (i = 3; i <= NF; i++) print $i}')
  for d in $deps; do build_target "$d"; done
  stamp=$prefix/.stamp-$name-$stem
  if [ ! -f "$stamp" ]; then
    echo "openwrt-tools: building $name ($stem)"
    dir=$(unpack "$name" "$stem")
    "build_${name//-/_}" "$dir" || die "building $name failed (log: $dir/_build.log)"
    mkdir -p "$prefix"; touch "$stamp"
  fi
  done_now[$name]=1
}

for tool in cmake pkg-config; do command -v "$tool" >/dev/null || die "$tool is missing: run bash scripts/setup.sh"; done
wanted=()
for arg in "$@"; do
  case "$arg" in
    -h|--help) sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    --list) targets_table | awk '{print $1}'; exit 0 ;;
    -*) die "unknown option $arg (--help)" ;;
    *) wanted+=("$arg") ;;
  esac
done
[ ${#wanted[@]} -gt 0 ] || mapfile -t wanted < <(targets_table | awk '{print $1}')
mkdir -p "$work"
for t in "${wanted[@]}"; do build_target "$t"; done
echo "openwrt-tools: ready in $prefix (${wanted[*]})"
