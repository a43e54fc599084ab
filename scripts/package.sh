#!/usr/bin/env bash
# Builds the OpenWrt packages x0tta6bl4 and x0tta6bl4-xdp without the SDK, from the same manifests the SDK
# Makefiles read (openwrt-package/<pkg>/manifest), into build/packages/<target>/:
#   <pkg>_<version>-<release>_<target>.ipk   OpenWrt 24.10 (opkg): made by OpenWrt's own scripts/ipkg-build
#   <pkg>-<version>-r<release>.apk           OpenWrt 25.12 (apk-tools v3): `apk mkpkg`, as include/package-pack.mk
# Targets: x86_64 (build/x0-runtime, build/x0-xdp: Debian's glibc build, for tests and the lab) and every router
# target whose cross build exists in build/cross/<target>/ (scripts/cross.sh): mips_24kc mipsel_24kc
# arm_cortex-a7 aarch64_cortex-a53. A target without its build is skipped with a message.
# Usage: bash scripts/package.sh [--help] [--version V] [--release N] [--out DIR] [--format ipk|apk|all] [TARGET...]
#   --version V   package version (default: package.json's "version"); --release N (default 1)
#   --out DIR     output root (default build/packages); packages go to DIR/<target>/
#   --format F    ipk, apk or all (default all)
# Needs opkg's and apk's builders: OpenWrt's ipkg-build from ../shared/vendor/openwrt/openwrt-base and apk from
# `bash scripts/openwrt-tools.sh apk-tools` (run here when missing). apk packages are signed with a build key
# made once in build/packages/keys/ (public-key.pem is what a router needs in /etc/apk/keys/).
# Environment: X0_PACKAGE_DIR, the folder with <pkg>/manifest (default openwrt-package; test/package points it
# at deliberately broken copies); X0_CROSS_DIR, where the router targets' builds are (default build/cross).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
vendor=${X0_OPENWRT_VENDOR:-$root/../shared/vendor/openwrt}
prefix=${X0_OPENWRT_PREFIX:-$root/build/openwrt/prefix}
router_targets=(mips_24kc mipsel_24kc arm_cortex-a7 aarch64_cortex-a53)
packages=(x0tta6bl4 x0tta6bl4-xdp)
package_dir=${X0_PACKAGE_DIR:-openwrt-package}
cross_dir=${X0_CROSS_DIR:-$root/build/cross}

usage() { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; }
fail() { echo "package: $*" >&2; exit 1; }
note() { echo "package: $*"; }

version=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' package.json)
release=1
out=$root/build/packages
format=all
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --version) [ $# -ge 2 ] || fail "--version needs a value"; version=$2; shift ;;
    --release) [ $# -ge 2 ] || fail "--release needs a value"; release=$2; shift ;;
    --out) [ $# -ge 2 ] || fail "--out needs a directory"; out=$2; shift ;;
    --format) [ $# -ge 2 ] || fail "--format needs ipk, apk or all"; format=$2; shift ;;
    -*) fail "unknown option $1 (--help)" ;;
    x86_64 | mips_24kc | mipsel_24kc | arm_cortex-a7 | aarch64_cortex-a53) targets+=("$1") ;;
    *) fail "unknown target '$1'; known: x86_64 ${router_targets[*]}" ;;
  esac
  shift
done
[ ${#targets[@]} -gt 0 ] || targets=(x86_64 "${router_targets[@]}")
case "$format" in ipk | apk | all) ;; *) fail "--format is ipk, apk or all, not '$format'" ;; esac
[[ "$version" =~ ^[0-9][0-9A-Za-z.+~]*$ ]] || fail "version '$version' is not a package version (package.json or --version)"
[[ "$release" =~ ^[0-9]+$ ]] || fail "release '$release' is not a number"
mkdir -p "$out"
out=$(cd "$out" && pwd)

ipkg_build=$vendor/openwrt-base/scripts/ipkg-build
if [ "$format" != apk ]; then
  [ -f "$ipkg_build" ] || fail "no $ipkg_build (the vendor folder ../shared/vendor/openwrt, see its README.md)"
  ( cd "$vendor" && grep ' openwrt-base/scripts/ipkg-build$' SHA256SUMS | sha256sum -c --quiet - ) ||
    fail "$ipkg_build does not match $vendor/SHA256SUMS: restore the vendor folder"
fi
apk=$prefix/bin/apk
if [ "$format" != ipk ]; then
  [ -x "$apk" ] || bash scripts/openwrt-tools.sh apk-tools >&2 || fail "building apk-tools failed"
  export LD_LIBRARY_PATH=$prefix/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  keys=$out/keys
  if [ ! -f "$keys/private-key.pem" ]; then
    mkdir -p "$keys"
    openssl ecparam -name prime256v1 -genkey -noout -out "$keys/private-key.pem.tmp" 2>/dev/null &&
      openssl ec -in "$keys/private-key.pem.tmp" -pubout -out "$keys/public-key.pem" 2>/dev/null &&
      mv "$keys/private-key.pem.tmp" "$keys/private-key.pem" || fail "openssl could not make the apk build key in $keys"
    note "new apk signing key $keys/private-key.pem (routers trust $keys/public-key.pem in /etc/apk/keys/)"
  fi
fi
# Files made as root whoever runs this (ipkg-build keeps owners; OpenWrt runs it under fakeroot too).
as_root=()
[ "$(id -u)" = 0 ] || { command -v fakeroot >/dev/null || fail "fakeroot is missing: bash scripts/setup.sh"; as_root=(fakeroot); }
# Reproducible archives: the last commit's time, like OpenWrt's PKG_SOURCE_DATE_EPOCH.
epoch=$(git log -1 --format=%ct 2>/dev/null || true)

field() { sed -n "s/^$2[[:space:]]\{1,\}//p" "$1" | paste -sd' ' -; } # MANIFEST NAME: values joined by spaces
# SDK DEPENDS (+pkg, @CONFIG, pkg:cond) -> the package names a package manager sees, libc first as the SDK adds it.
runtime_depends() { # MANIFEST
  local d out=libc
  for d in $(field "$1" depends); do
    case "$d" in @*) continue ;; esac
    d=${d#+}; d=${d##*:}
    out="$out $d"
  done
  echo "$out"
}

# Resolves the manifest's @outputs for a target: prints NAME=PATH words, or (status 1) the files that are missing.
need() { local f missing=""; for f in "$@"; do [ -f "$f" ] || missing="$missing ${f#$root/}"; done; [ -z "$missing" ] || { echo "missing:$missing"; return 1; }; }
outputs_for() { # target package
  local t=$1 pkg=$2 dir=$cross_dir/$1 bpf
  if [ "$t" = x86_64 ]; then
    case "$pkg" in
      x0tta6bl4)
        need "$root/build/x0-runtime" "$root/dist/x0tta6bl4.js" || return 1
        mkdir -p "$out/$t/work"
        build/x0-runtime --compile dist/x0tta6bl4.js -o "$out/$t/work/x0tta6bl4.jsbc" >&2 || { echo "x0-runtime --compile failed"; return 1; }
        echo "runtime=$root/build/x0-runtime bytecode=$out/$t/work/x0tta6bl4.jsbc" ;;
      x0tta6bl4-xdp)
        need "$root/build/x0-xdp" "$root/build/bpf/x0_xdp.o" || return 1
        echo "xdp=$root/build/x0-xdp bpf=$root/build/bpf/x0_xdp.o" ;;
    esac
    return 0
  fi
  case "$pkg" in
    x0tta6bl4)
      need "$dir/x0-runtime" "$dir/x0tta6bl4.jsbc" || return 1
      echo "runtime=$dir/x0-runtime bytecode=$dir/x0tta6bl4.jsbc" ;;
    x0tta6bl4-xdp)
      # The program's byte order is the target's: build/bpf/x0_xdp.o is little-endian (bpfel).
      bpf=$dir/x0_xdp.o
      [ -f "$bpf" ] || [ "$t" = mips_24kc ] || bpf=$root/build/bpf/x0_xdp.o
      need "$dir/x0-xdp" "$bpf" || return 1
      echo "xdp=$dir/x0-xdp bpf=$bpf" ;;
  esac
}

# The package's files, laid out as Package/<pkg>/install does (the same install-files.sh), plus OpenWrt's
# keep.d entry for conffiles the package does not carry (package-pack.mk's KEEP_<pkg>).
stage_files() { # manifest idir outputs...
  local manifest=$1 idir=$2 keep="" c
  shift 2
  rm -rf "$idir"; mkdir -p "$idir"
  sh openwrt-package/install-files.sh "$manifest" "$root" "$idir" "$@"
  for c in $(field "$manifest" conffile); do [ -f "$idir$c" ] || keep="$keep $c"; done
  if [ -n "$keep" ]; then
    mkdir -p "$idir/lib/upgrade/keep.d"
    for c in $keep; do echo "$c" >> "$idir/lib/upgrade/keep.d/$(field "$manifest" name)"; done
  fi
}

# Wrapper scripts exactly as include/package-pack.mk writes them (its `echo` lines, with $$ resolved).
ipk_postinst() { printf '%s\n' '#!/bin/sh' '[ "${IPKG_NO_SCRIPT}" = "1" ] && exit 0' '[ -s ${IPKG_INSTROOT}/lib/functions.sh ] || exit 0' '. ${IPKG_INSTROOT}/lib/functions.sh' 'default_postinst $0 $@'; }
ipk_prerm() { printf '%s\n' '#!/bin/sh' '[ -s ${IPKG_INSTROOT}/lib/functions.sh ] || exit 0' '. ${IPKG_INSTROOT}/lib/functions.sh' 'default_prerm $0 $@'; }

build_ipk() { # manifest target outdir outputs...
  local manifest=$1 t=$2 dest=$3 pkg dir idir ctl
  shift 3
  pkg=$(field "$manifest" name); dir=$(dirname "$manifest")
  idir=$out/$t/work/ipkg/$pkg
  stage_files "$manifest" "$idir" "$@"
  ctl=$idir/CONTROL
  mkdir -p "$ctl"
  {
    echo "Package: $pkg"
    echo "Version: $version-$release"
    echo "Depends: $(runtime_depends "$manifest" | sed 's/ /, /g')"
    echo "Source: openwrt-package/$pkg"
    echo "SourceName: $pkg"
    echo "License: $(field "$manifest" license)"
    echo "Section: $(field "$manifest" section)"
    [ -z "$epoch" ] || echo "SourceDateEpoch: $epoch"
    echo "Architecture: $t"
    echo "Installed-Size: 0"
    printf 'Description: '; echo "$(field "$manifest" description)" | sed -e 's,^[[:space:]]*, ,g'
  } > "$ctl/control"
  chmod 644 "$ctl/control"
  ipk_postinst > "$ctl/postinst"; ipk_prerm > "$ctl/prerm"; chmod 0755 "$ctl/postinst" "$ctl/prerm"
  if [ -n "$(field "$manifest" conffile)" ]; then
    printf '%s\n' $(field "$manifest" conffile) > "$ctl/conffiles"
  fi
  [ -z "$(field "$manifest" postinst)" ] || { cp "$dir/$(field "$manifest" postinst)" "$ctl/postinst-pkg"; chmod 0755 "$ctl/postinst-pkg"; }
  [ -z "$(field "$manifest" prerm)" ] || { cp "$dir/$(field "$manifest" prerm)" "$ctl/prerm-pkg"; chmod 0755 "$ctl/prerm-pkg"; }
  PKG_SOURCE_DATE_EPOCH=$epoch "${as_root[@]}" bash "$ipkg_build" "$idir" "$dest" >/dev/null ||
    fail "ipkg-build failed for $pkg ($t); its staging directory is $idir"
}

# apk: the same files, plus /lib/apk/packages/<pkg>.{list,conffiles,conffiles_static} and the scripts in the
# shape package-pack.mk gives them (post-install = wrapper + postinst-pkg, post-upgrade, pre-deinstall).
build_apk() { # manifest target outdir outputs...
  local manifest=$1 t=$2 dest=$3 pkg dir idir adir c scripts=() postinst prerm
  shift 3
  pkg=$(field "$manifest" name); dir=$(dirname "$manifest")
  idir=$out/$t/work/apk/$pkg; adir=$out/$t/work/apk-scripts/$pkg
  stage_files "$manifest" "$idir" "$@"
  rm -rf "$adir"; mkdir -p "$adir" "$idir/lib/apk/packages"
  postinst=$(field "$manifest" postinst); prerm=$(field "$manifest" prerm)
  {
    printf '%s\n' '#!/bin/sh' '[ "${IPKG_NO_SCRIPT}" = "1" ] && exit 0' '[ -s ${IPKG_INSTROOT}/lib/functions.sh ] || exit 0' \
      '. ${IPKG_INSTROOT}/lib/functions.sh' 'export root="${IPKG_INSTROOT}"' "export pkgname=\"$pkg\"" 'add_group_and_user' 'default_postinst'
    [ -z "$postinst" ] || sed -z 's/^\s*#!/#!/' "$dir/$postinst"
  } > "$adir/post-install"
  { printf '%s\n' '#!/bin/sh' 'export PKG_UPGRADE=1'; sed -z 's/^\s*#!/#!/' "$adir/post-install"; } > "$adir/post-upgrade"
  {
    printf '%s\n' '#!/bin/sh' '[ -s ${IPKG_INSTROOT}/lib/functions.sh ] || exit 0' '. ${IPKG_INSTROOT}/lib/functions.sh' \
      'export root="${IPKG_INSTROOT}"' "export pkgname=\"$pkg\"" 'default_prerm'
    [ -z "$prerm" ] || sed -z 's/^\s*#!/#!/' "$dir/$prerm"
  } > "$adir/pre-deinstall"
  scripts=(--script "post-install:$adir/post-install" --script "post-upgrade:$adir/post-upgrade" --script "pre-deinstall:$adir/pre-deinstall")
  (cd "$idir" && find . -type f,l -printf "/%P\n" > "$idir/lib/apk/packages/$pkg.list")
  if [ -n "$(field "$manifest" conffile)" ]; then
    printf '%s\n' $(field "$manifest" conffile) > "$idir/lib/apk/packages/$pkg.conffiles"
    for c in $(field "$manifest" conffile); do
      [ -f "$idir/$c" ] || continue
      echo "$c $(sha256sum "$idir/$c" | cut -d' ' -f1)" >> "$idir/lib/apk/packages/$pkg.conffiles_static"
    done
  fi
  rm -f "$dest/$pkg-$version-r$release.apk"
  "${as_root[@]}" "$apk" mkpkg \
    --info "name:$pkg" \
    --info "version:$version-r$release" \
    --info "description:$(field "$manifest" description)" \
    --info "arch:$t" \
    --info "license:$(field "$manifest" license)" \
    --info "origin:openwrt-package/$pkg" \
    "${scripts[@]}" \
    --info "depends:$(runtime_depends "$manifest")" \
    --files "$idir" \
    --output "$dest/$pkg-$version-r$release.apk" \
    --sign "$keys/private-key.pem" >/dev/null || fail "apk mkpkg failed for $pkg ($t); its staging directory is $idir"
}

built=0
for t in "${targets[@]}"; do
  dest=$out/$t
  for pkg in "${packages[@]}"; do
    manifest=$package_dir/$pkg/manifest
    [ -f "$manifest" ] || fail "no manifest $manifest"
    if ! outputs=$(outputs_for "$t" "$pkg"); then
      [ "$t" != x86_64 ] || fail "$pkg (x86_64): $outputs: bash scripts/setup.sh builds them"
      note "skipping $pkg for $t: $outputs (bash scripts/cross.sh $t builds them)"
      continue
    fi
    mkdir -p "$dest"
    # shellcheck disable=SC2086 # outputs are NAME=PATH words
    [ "$format" = apk ] || build_ipk "$manifest" "$t" "$dest" $outputs
    # shellcheck disable=SC2086
    [ "$format" = ipk ] || build_apk "$manifest" "$t" "$dest" $outputs
    built=$((built + 1))
  done
done
[ "$built" -gt 0 ] || fail "nothing was built"

printf '%-20s %-44s %10s %10s\n' target package bytes installed
for t in "${targets[@]}"; do
  for f in "$out/$t"/*_"$t".ipk "$out/$t"/*.apk; do
    [ -f "$f" ] || continue
    base=$(basename "$f")
    case "$base" in *.ipk) pkg=${base%%_*}; stage=$out/$t/work/ipkg/$pkg ;; *) pkg=${base%-*-r*}; stage=$out/$t/work/apk/$pkg ;; esac
    installed=$(find "$stage" -path "$stage/CONTROL" -prune -o -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
    printf '%-20s %-44s %10s %10s\n' "$t" "$base" "$(stat -c %s "$f")" "$installed"
  done
done
