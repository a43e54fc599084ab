#!/usr/bin/env bash
# Builds x0-runtime (QuickJS-ng + libsodium + src/native) and the bundle's shipped form for OpenWrt router CPUs,
# with Debian's cross compilers, into build/cross/<target>/:
#   x0-runtime         static, musl libc (built here from Debian's musl source package), stripped; soft-float
#                      on MIPS (the 24Kc has no FPU); x0:tls answers
#                      'tls-unavailable' unless --tls (mbedtls from Debian's source package, linked statically)
#   x0tta6bl4.jsbc     the bundle compiled to bytecode by that target's own x0-runtime under qemu-user
#   x0-xdp             the XDP helper (libbpf + libelf + zlib from Debian source packages), static, musl
#   build-info.txt     target, compiler, libc, linkage, source versions (one "key: value" a line)
# Targets: mips_24kc (big-endian MIPS32r2), mipsel_24kc, arm_cortex-a7 (armhf), aarch64_cortex-a53; default all.
# Libraries Debian does not ship for a target (musl, libsodium, libbpf, elfutils' libelf, zlib) come from Debian
# bookworm's source packages, downloaded through a PRIVATE apt configuration under .cache/cross-apt (the system's
# /etc/apt is only read, for its mirror URI), each .dsc checked against a pinned sha256 (dpkg-source then checks
# the tarballs the .dsc lists). Idempotent: a finished step leaves a stamp and is skipped next time.
# Usage: bash scripts/cross.sh [--help] [--list] [--emulator TARGET] [--no-xdp] [--no-bytecode] [--tls] [--jobs N] [TARGET...]
#   --list         print the targets with their triplet and emulator, and exit
#   --emulator T   fetch qemu-user if needed and print the command that runs target T's binaries, and exit
#   --no-xdp       skip x0-xdp (and libbpf/libelf/zlib)
#   --no-bytecode  skip x0tta6bl4.jsbc (it needs dist/x0tta6bl4.js: npm run build)
#   --tls          build mbedtls for the target and link x0:tls with it (static: +0.36 MB on mips_24kc; OpenWrt
#                  packages would link the system's libmbedtls instead)
#   --jobs N       parallel make jobs (default: nproc)
# From a fresh clone it installs scripts/apt-packages/cross.txt (as root), fetches .cache/qjs-src
# (scripts/fetch-qjs-src.sh) and builds the bundle when they are missing. Docs: docs/cross.md.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

all_targets=(mips_24kc mipsel_24kc arm_cortex-a7 aarch64_cortex-a53)

# target -> GNU triplet, compiler flags (OpenWrt's CPU_TYPE), qemu-user binary and its -cpu.
# MIPS: soft-float, as OpenWrt builds: the 24Kc has no FPU and OpenWrt's kernels have no FPU emulator, so one FP
# instruction is SIGILL on a router. Debian's compiler does -msoft-float, but its libgcc is hard-float (its
# __adddf3 is one add.d): the routines come from glibc's soft-fp (build_softfp), ahead of libgcc in musl-gcc's
# specs. qemu runs MIPS binaries as a 24Kc, which has no FPU either: an FP instruction fails the tests there.
target_triplet() {
  case "$1" in
    mips_24kc) echo mips-linux-gnu ;;
    mipsel_24kc) echo mipsel-linux-gnu ;;
    arm_cortex-a7) echo arm-linux-gnueabihf ;;
    aarch64_cortex-a53) echo aarch64-linux-gnu ;;
    *) return 1 ;;
  esac
}
target_cflags() {
  case "$1" in
    mips_24kc | mipsel_24kc) echo "-march=mips32r2 -mtune=24kc -msoft-float" ;;
    arm_cortex-a7) echo "-mcpu=cortex-a7 -mfpu=neon-vfpv4 -mfloat-abi=hard" ;;
    aarch64_cortex-a53) echo "-mcpu=cortex-a53" ;;
  esac
}
# QuickJS's Atomics use 64-bit __atomic_* calls that 32-bit MIPS has no instructions for: gcc's libatomic.a
# (its locks are two static pthread mutexes, which musl provides).
target_ldlibs() {
  case "$1" in
    mips_24kc | mipsel_24kc) echo "-latomic" ;;
  esac
}
# qemu-user from Debian 13 (trixie), fetched and unpacked by fetch_qemu: bookworm's qemu 7.2 hands a MIPS guest
# the HOST's errno in getsockopt(SO_ERROR) (111 where MIPS' ECONNREFUSED is 146; probe: docs/cross.md), qemu 10
# translates it. Its binaries are static-pie, so unpacking the .deb is enough; nothing is installed.
target_qemu() {
  local q=$root/.cache/cross-qemu/usr/bin
  case "$1" in
    mips_24kc) echo "$q/qemu-mips -cpu 24Kc" ;;
    mipsel_24kc) echo "$q/qemu-mipsel -cpu 24Kc" ;;
    arm_cortex-a7) echo "$q/qemu-arm -cpu cortex-a7" ;;
    aarch64_cortex-a53) echo "$q/qemu-aarch64 -cpu cortex-a53" ;;
  esac
}

# Pinned sources: Debian bookworm source packages (name version sha256-of-the-.dsc).
MUSL=(musl 1.2.3-1 243a7462e9c751da662c4c61d4c96b6318c796ba302b72f6cdf74ea5427a9b4f)
SODIUM=(libsodium 1.0.18-1+deb12u1 2c23c57b5a9385dab5a1916014c9b5f2cdd7dadeb8a35b28c1bfb603ce7095c4)
# x0-xdp's libraries (--no-xdp skips them).
# x0:tls's TLS library (--tls): the mbedtls OpenWrt ships, from Debian's source package.
MBEDTLS=(mbedtls 2.28.3-1 a8bf91b5ffb40654efb0ebe0c962ac1e87b8eed5e104880982eaa70dd4bb33e3)
ZLIB=(zlib 1:1.2.13.dfsg-1 3fa1e6b2fc525062aa88207dda52fed8e045373c809d362fe8a2bfbf7cf515a8)
ELFUTILS=(elfutils 0.188-2.1 2e73c5bfe9d0ddbf837742d638c43b049590ae1de8f6e3d9c2740c28e2550760)
LIBBPF=(libbpf 1.1.2-0+deb12u1 96f81dad2d5f1505ac8c3630249c77f7fcb9ab2f429c4386b2eee2149b7a8c4b)
# MIPS' soft-float routines (libgcc's, for a soft-float target): glibc's soft-fp, from the same suite's source.
GLIBC=(glibc 2.36-9+deb12u14 cfe1f0b8dc1fa211ce5a45b3725cc38b29f88667f1140ebdca6de35cf9c6f1fd)
# The emulator: Debian trixie's qemu-user binary package (name version sha256-of-the-.deb).
QEMU=(qemu-user 1:10.0.13+ds-0+deb13u1 ca6ede739327a20ae5a3498230c8a3a9a072c586e131bc6bcc1201eb1725e336)
suite=${CROSS_SUITE:-bookworm}
qemu_suite=${CROSS_QEMU_SUITE:-trixie}
keyring=/usr/share/keyrings/debian-archive-keyring.gpg

usage() { sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; }
fail() { echo "cross: $*" >&2; exit 1; }
step() { printf '\n== cross %s: %s\n' "$1" "$2"; }

jobs=$(nproc)
want_xdp=1
want_bytecode=1
want_tls=0
targets=()
print_emulator=
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --list)
      for t in "${all_targets[@]}"; do printf '%-20s %-22s %s\n' "$t" "$(target_triplet "$t")" "$(target_qemu "$t")"; done
      exit 0 ;;
    --emulator)
      [ $# -ge 2 ] || fail "--emulator needs a target"
      target_triplet "$2" >/dev/null || fail "unknown target '$2'; known: ${all_targets[*]}"
      print_emulator=$2; shift ;;
    --no-xdp) want_xdp=0 ;;
    --no-bytecode) want_bytecode=0 ;;
    --tls) want_tls=1 ;;
    --jobs) [ $# -ge 2 ] || fail "--jobs needs a number"; jobs=$2; shift ;;
    --jobs=*) jobs=${1#--jobs=} ;;
    -*) fail "unknown option $1 (see --help)" ;;
    *) target_triplet "$1" >/dev/null || fail "unknown target '$1'; known: ${all_targets[*]}"; targets+=("$1") ;;
  esac
  shift
done
[[ "$jobs" =~ ^[1-9][0-9]?$ ]] || fail "--jobs wants a number from 1 to 99, not '$jobs'"
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")

# From a fresh clone: the Debian packages (as root), QuickJS-ng's sources and the bundle come first.
missing=()
for p in $(sed 's/#.*//' scripts/apt-packages/cross.txt); do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" -eq 0 ] || fail "missing Debian packages: ${missing[*]}; install them as root (bash scripts/setup.sh does)"
  echo "cross: installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
    fail "apt-get install ${missing[*]} failed; run 'apt-get update' and retry"
fi
qjs_src=$root/.cache/qjs-src/usr/src/quickjs-ng
[ -f "$qjs_src/quickjs.c" ] || bash scripts/fetch-qjs-src.sh || fail "cannot fetch QuickJS-ng's sources (scripts/fetch-qjs-src.sh)"
if [ "$want_bytecode" = 1 ] && [ ! -f dist/x0tta6bl4.js ]; then
  [ -d node_modules ] || npm install --no-audit --no-fund --loglevel=error || fail "npm install failed"
  npm run -s build >/dev/null || fail "npm run build failed (dist/x0tta6bl4.js is needed for the bytecode; or pass --no-bytecode)"
fi
for t in "${targets[@]}"; do
  tr=$(target_triplet "$t")
  command -v "$tr-gcc" >/dev/null || fail "$tr-gcc not found (target $t); install scripts/apt-packages/cross.txt: bash scripts/setup.sh"
  [ -d "/usr/$tr/include/linux" ] || fail "/usr/$tr/include/linux is missing (kernel headers for $t); install scripts/apt-packages/cross.txt: bash scripts/setup.sh"
done

# ---- sources ------------------------------------------------------------------------------------------------

apt_dir=$root/.cache/cross-apt
src_root=$root/.cache/cross-src
qemu_dir=$root/.cache/cross-qemu

mirror_uri() { # the system's main Debian mirror (deb822 first, then one-line sources.list)
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

apt_opts=(
  -o "Dir::Etc::SourceList=$apt_dir/sources.list"
  -o "Dir::Etc::SourceParts=/dev/null"
  -o "Dir::State::Lists=$apt_dir/lists"
  -o "Dir::Cache=$apt_dir/cache"
  -o "Dir::State::status=/dev/null"
  -o "APT::Sandbox::User=root"
  -o "Debug::NoLocking=1"
)
# Updates the private index when it has none yet or when a download fails (it may be old).
apt_update() {
  [ -f "$keyring" ] || fail "$keyring is missing; install it with: apt-get install debian-archive-keyring"
  local uri=${CROSS_MIRROR:-$(mirror_uri)}
  [ -n "$uri" ] || fail "no Debian mirror URI in /etc/apt/sources.list{,.d/debian.sources}; set CROSS_MIRROR=http://deb.debian.org/debian"
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/archives"
  # Sources from the pinned release; the emulator (one binary package) from the next one.
  printf '%s\n' "deb-src [signed-by=$keyring] $uri $suite main" "deb [signed-by=$keyring] $uri $qemu_suite main" >"$apt_dir/sources.list"
  echo "fetching the Debian $suite source and $qemu_suite package indexes from $uri (private apt configuration in ${apt_dir#"$root"/})"
  apt-get "${apt_opts[@]}" -o APT::Architectures::=amd64 -qq update ||
    fail "apt-get update of $uri $suite/$qemu_suite failed (network or mirror down?); retry, or set CROSS_MIRROR to another Debian mirror"
}
apt_fetch() { # source|download name=version, into the current directory
  if ! ls "$apt_dir"/lists/*_"$qemu_suite"_main_binary-amd64_Packages* >/dev/null 2>&1; then apt_update; fi
  local how=(source --download-only)
  [ "$1" = download ] && how=(download)
  apt-get "${apt_opts[@]}" -qq "${how[@]}" "$2" && return 0
  apt_update
  apt-get "${apt_opts[@]}" -qq "${how[@]}" "$2"
}

# fetch_source NAME VERSION DSC_SHA256 -> prints the unpacked tree (.cache/cross-src/NAME-VERSION)
fetch_source() {
  local name=$1 version=$2 sha=$3
  local dsc=$apt_dir/archives/${name}_${version#*:}.dsc dest=$src_root/$name-${version#*:}
  if [ -f "$dest/.unpacked-from" ] && [ "$(cat "$dest/.unpacked-from")" = "$sha" ]; then
    echo "$dest"; return 0
  fi
  if [ -f "$dsc" ] && [ "$(sha256sum "$dsc" | awk '{print $1}')" != "$sha" ]; then
    echo "cross: $dsc does not match its pinned sha256; downloading again" >&2
    rm -f "$dsc"
  fi
  if [ ! -f "$dsc" ]; then
    echo "downloading the source package $name=$version" >&2
    mkdir -p "$apt_dir/archives"
    (cd "$apt_dir/archives" && apt_fetch source "$name=$version" >&2) ||
      fail "cannot download the source package $name=$version from $suite (replaced by a point release?); check 'apt-cache showsrc $name' and update the pin in scripts/cross.sh (version and the .dsc's sha256)"
  fi
  local got
  got=$(sha256sum "$dsc" | awk '{print $1}')
  [ "$got" = "$sha" ] || fail "$dsc has sha256 $got, pinned $sha; refusing it (update the pin in scripts/cross.sh only after checking the new package)"
  rm -rf "$dest"
  mkdir -p "$src_root"
  # The .dsc's own signature cannot be checked without Debian's developer keys; its sha256 is pinned and
  # dpkg-source checks every tarball against the checksums the .dsc lists.
  dpkg-source --no-copy -x "$dsc" "$dest" >/dev/null 2>"$src_root/$name.dpkg-source.log" ||
    fail "dpkg-source -x $dsc failed: $(tail -3 "$src_root/$name.dpkg-source.log")"
  echo "$sha" >"$dest/.unpacked-from"
  echo "$dest"
}

# qemu-user (static-pie binaries) unpacked into .cache/cross-qemu/usr/bin.
fetch_qemu() {
  local name=${QEMU[0]} version=${QEMU[1]} sha=${QEMU[2]}
  local deb=$apt_dir/archives/${name}_${version/:/%3a}_amd64.deb stamp=$qemu_dir/.unpacked-from
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sha" ]; then return 0; fi
  if [ ! -f "$deb" ] || [ "$(sha256sum "$deb" | awk '{print $1}')" != "$sha" ]; then
    rm -f "$deb"
    mkdir -p "$apt_dir/archives"
    echo "downloading $name=$version from Debian $qemu_suite (the emulator; about 70 MB)" >&2
    (cd "$apt_dir/archives" && apt_fetch download "$name=$version" >&2) ||
      fail "cannot download $name=$version from $qemu_suite (replaced by a point release?); check 'apt-cache policy $name' against $qemu_suite and update QEMU in scripts/cross.sh (version and the .deb's sha256)"
  fi
  local got
  got=$(sha256sum "$deb" | awk '{print $1}')
  [ "$got" = "$sha" ] || fail "$deb has sha256 $got, pinned $sha; refusing it"
  rm -rf "$qemu_dir"; mkdir -p "$qemu_dir"
  dpkg-deb -x "$deb" "$qemu_dir" || fail "dpkg-deb -x $deb failed"
  [ -x "$qemu_dir/usr/bin/qemu-mips" ] || fail "$deb unpacked, but usr/bin/qemu-mips is not in it; the package layout changed"
  echo "$sha" >"$stamp"
}

if [ -n "$print_emulator" ]; then
  fetch_qemu
  target_qemu "$print_emulator"
  exit 0
fi

# ---- per-target builds --------------------------------------------------------------------------------------

log_run() { # log-file command... : runs quietly, shows the log's tail when it fails
  local log=$1; shift
  if ! "$@" >"$log" 2>&1; then
    tail -25 "$log" >&2
    fail "'$*' failed; full log: ${log#"$root"/}"
  fi
}

# musl: a static libc plus the musl-gcc wrapper (a gcc specs file) in build/cross/<t>/sysroot; the target's
# kernel headers (linux/, asm/, asm-generic/ from Debian's linux-libc-dev-<arch>-cross) are copied next to it.
build_musl() {
  local t=$1 tr=$2 out=$3
  local sysroot=$out/sysroot stamp=$out/sysroot/.musl-${MUSL[1]}
  [ -f "$stamp" ] && return 0
  step "$t" "musl ${MUSL[1]}"
  local src work=$out/work/musl
  src=$(fetch_source "${MUSL[@]}")
  rm -rf "$work" "$sysroot"; mkdir -p "$work" "$sysroot"
  (cd "$work" && log_run "$work/configure.log" env CROSS_COMPILE="$tr-" CC="$tr-gcc" \
    CFLAGS="-Os $(target_cflags "$t")" "$src/configure" --target="$tr" --prefix="$sysroot" \
    --disable-shared --enable-wrapper=gcc)
  log_run "$work/make.log" nice make -C "$work" -j"$jobs"
  log_run "$work/install.log" make -C "$work" install
  cp -r "/usr/$tr/include/linux" "/usr/$tr/include/asm" "/usr/$tr/include/asm-generic" "$sysroot/include/"
  [ -d "/usr/$tr/include/mtd" ] && cp -r "/usr/$tr/include/mtd" "$sysroot/include/"
  touch "$stamp"
}

musl_cc() { echo "$1/sysroot/bin/musl-gcc"; }

target_soft_float() { case "$1" in mips_24kc | mipsel_24kc) return 0 ;; *) return 1 ;; esac; }

# The soft-float routines libgcc would have on a soft-float MIPS toolchain (add, sub, mul, div, neg, compare,
# convert; single and double), built from glibc's soft-fp with MIPS' sfp-machine.h into libsoftfp.a, which
# musl-gcc's specs then put before libgcc.a wherever libgcc is linked (so libc.a's calls find them too). Only
# those files are taken from glibc's upstream tarball, after checking it against the pinned .dsc.
softfp_routines="addsf3 subsf3 mulsf3 divsf3 negsf2 adddf3 subdf3 muldf3 divdf3 negdf2 eqsf2 eqdf2 gesf2 gedf2
  lesf2 ledf2 unordsf2 unorddf2 fixsfsi fixdfsi fixsfdi fixdfdi fixunssfsi fixunsdfsi fixunssfdi fixunsdfdi floatsisf
  floatsidf floatdisf floatdidf floatunsisf floatunsidf floatundisf floatundidf extendsfdf2 truncdfsf2"
build_softfp() {
  local t=$1 out=$2
  local sysroot=$out/sysroot stamp=$out/sysroot/.softfp-${GLIBC[1]}
  [ -f "$stamp" ] && return 0
  step "$t" "soft-float routines (glibc ${GLIBC[1]} soft-fp)"
  local name=${GLIBC[0]} version=${GLIBC[1]} sha=${GLIBC[2]}
  local dsc=$apt_dir/archives/${name}_${version}.dsc dir=$src_root/glibc-softfp-$version
  if [ ! -f "$dir/.unpacked-from" ] || [ "$(cat "$dir/.unpacked-from")" != "$sha" ]; then
    if [ ! -f "$dsc" ] || [ "$(sha256sum "$dsc" | awk '{print $1}')" != "$sha" ]; then
      rm -f "$dsc"
      echo "downloading the source package $name=$version (its soft-fp files are used)" >&2
      mkdir -p "$apt_dir/archives"
      (cd "$apt_dir/archives" && apt_fetch source "$name=$version" >&2) ||
        fail "cannot download the source package $name=$version from $suite (replaced by a point release?); update GLIBC in scripts/cross.sh (version and the .dsc's sha256)"
    fi
    [ "$(sha256sum "$dsc" | awk '{print $1}')" = "$sha" ] || fail "$dsc does not match its pinned sha256 $sha; refusing it"
    # The upstream tarball, checked against the sha256 the pinned .dsc lists for it.
    local orig want
    orig=$(sed -n '/^Checksums-Sha256:/,/^[A-Z]/p' "$dsc" | awk '$3 ~ /\.orig\.tar\./ {print $3}')
    want=$(sed -n '/^Checksums-Sha256:/,/^[A-Z]/p' "$dsc" | awk '$3 ~ /\.orig\.tar\./ {print $1}')
    [ -n "$orig" ] && [ -f "$apt_dir/archives/$orig" ] || fail "$dsc names no upstream tarball that was downloaded"
    [ "$(sha256sum "$apt_dir/archives/$orig" | awk '{print $1}')" = "$want" ] || fail "$orig does not match its .dsc"
    local top=${orig%.orig.tar.*}; top=glibc-${top#glibc_}
    rm -rf "$dir"; mkdir -p "$dir"
    tar -xJf "$apt_dir/archives/$orig" -C "$dir" --strip-components=1 "$top/soft-fp" "$top/stdlib/longlong.h" \
      "$top/sysdeps/mips/mips32/sfp-machine.h" || fail "cannot unpack soft-fp from $orig"
    echo "$sha" >"$dir/.unpacked-from"
  fi
  local work=$out/work/softfp
  rm -rf "$work"; mkdir -p "$work/include"
  cp "$dir/sysdeps/mips/mips32/sfp-machine.h" "$dir/stdlib/longlong.h" "$work/include/"
  # Outside glibc, soft-fp.h wants the byte order from sfp-machine.h and glibc's alias macro (eq = ne, ge = gt, ...).
  printf '%s\n' '#include <endian.h>' \
    '#define strong_alias(name, aliasname) extern __typeof (name) aliasname __attribute__ ((alias (#name)));' \
    >"$work/include/softfp-build.h"
  local r
  for r in $softfp_routines; do
    log_run "$work/$r.log" "$(musl_cc "$out")" -Os $(target_cflags "$t") -I "$work/include" \
      -include softfp-build.h -c "$dir/soft-fp/$r.c" -o "$work/$r.o"
  done
  rm -f "$sysroot/lib/libsoftfp.a"
  (cd "$work" && ar rcs "$sysroot/lib/libsoftfp.a" ./*.o) || fail "ar libsoftfp.a failed"
  # Wherever gcc links libgcc (before and after libc), libsoftfp.a comes first.
  sed -i "s|^libgcc.a%s|$sysroot/lib/libsoftfp.a libgcc.a%s|" "$sysroot/lib/musl-gcc.specs"
  grep -q "libsoftfp.a libgcc.a" "$sysroot/lib/musl-gcc.specs" || fail "musl-gcc.specs: no *libgcc line to put libsoftfp.a in"
  touch "$stamp"
}

build_sodium() {
  local t=$1 tr=$2 out=$3
  local sysroot=$out/sysroot stamp=$out/sysroot/.libsodium-${SODIUM[1]}
  [ -f "$stamp" ] && return 0
  step "$t" "libsodium ${SODIUM[1]}"
  local src work=$out/work/libsodium
  src=$(fetch_source "${SODIUM[@]}")
  # Debian's source has no generated configure (its rules run dh --with autoreconf): the same, once.
  if [ ! -f "$src/.autoreconf-done" ]; then
    (cd "$src" && log_run "$src_root/libsodium.autoreconf.log" autoreconf -fi) && touch "$src/.autoreconf-done"
  fi
  rm -rf "$work"; mkdir -p "$work"
  # No stack protector (the rest of the binary, QuickJS and our host, is built without one too); -Os like the host.
  (cd "$work" && log_run "$work/configure.log" env CC="$(musl_cc "$out")" CFLAGS="-Os $(target_cflags "$t")" \
    "$src/configure" --host="$tr" --prefix="$sysroot" --disable-shared --enable-static --disable-ssp \
    --disable-pie --without-pthreads)
  log_run "$work/make.log" nice make -C "$work" -j"$jobs"
  log_run "$work/install.log" make -C "$work" install
  touch "$stamp"
}

build_runtime() {
  local t=$1 tr=$2 out=$3
  step "$t" "x0-runtime"
  local sysroot=$out/sysroot
  local tls_args=(TLS=0)
  if [ "$want_tls" = 1 ]; then
    local lib=$sysroot/lib
    tls_args=(TLS=1 "TLS_CFLAGS=-I$sysroot/include" "TLS_LIBS=$lib/libmbedtls.a $lib/libmbedx509.a $lib/libmbedcrypto.a")
  fi
  # musl-gcc runs the cross gcc musl was configured with, with musl's headers, crt files and libc.
  nice make -s -C src/native -j"$jobs" BUILD="$out" CC="$(musl_cc "$out")" \
    TARGET_CFLAGS="$(target_cflags "$t")" TARGET_LDFLAGS="-static" TARGET_LDLIBS="$(target_ldlibs "$t")" \
    SODIUM_CFLAGS="-I$sysroot/include" SODIUM_LIBS="$sysroot/lib/libsodium.a" "${tls_args[@]}" ||
    fail "make -C src/native for $t failed (see above)"
  [ -x "$out/x0-runtime" ] || fail "make -C src/native did not produce $out/x0-runtime"
}

# mbedtls' three static libraries into the target's sysroot, built with its own Makefile (no cmake) and its
# default configuration (Debian's: every cipher suite; OpenWrt trims it), -Os like the rest.
build_mbedtls() {
  local t=$1 tr=$2 out=$3
  local sysroot=$out/sysroot stamp=$out/sysroot/.mbedtls-${MBEDTLS[1]}
  [ -f "$stamp" ] && return 0
  step "$t" "mbedtls ${MBEDTLS[1]}"
  local src work=$out/work/mbedtls
  src=$(fetch_source "${MBEDTLS[@]}")
  rm -rf "$work"; mkdir -p "$work"
  cp -r "$src/library" "$src/include" "$src/3rdparty" "$work/"
  log_run "$work/make.log" nice make -C "$work/library" -j"$jobs" CC="$(musl_cc "$out")" AR="$tr-ar" \
    CFLAGS="-Os -ffunction-sections -fdata-sections $(target_cflags "$t")" libmbedcrypto.a libmbedx509.a libmbedtls.a
  mkdir -p "$sysroot/include" "$sysroot/lib"
  cp -r "$work/include/mbedtls" "$work/include/psa" "$sysroot/include/"
  cp "$work/library/libmbedtls.a" "$work/library/libmbedx509.a" "$work/library/libmbedcrypto.a" "$sysroot/lib/"
  touch "$stamp"
}


# Runs the target's own x0-runtime under qemu-user.
run_target() { # target out args...
  local t=$1 out=$2; shift 2
  # shellcheck disable=SC2046
  $(target_qemu "$t") "$out/x0-runtime" "$@"
}

build_bytecode() {
  local t=$1 out=$2
  local bundle=$root/dist/x0tta6bl4.js
  [ -f "$bundle" ] || fail "$bundle is missing: run 'npm run build' first (or pass --no-bytecode)"
  step "$t" "x0tta6bl4.jsbc (compiled by the target's x0-runtime under $(target_qemu "$t" | cut -d' ' -f1))"
  if [ -f "$out/x0tta6bl4.jsbc" ] && [ "$out/x0tta6bl4.jsbc" -nt "$bundle" ] && [ "$out/x0tta6bl4.jsbc" -nt "$out/x0-runtime" ]; then
    echo "up to date"; return 0
  fi
  run_target "$t" "$out" --compile "$bundle" -o "$out/x0tta6bl4.jsbc" ||
    fail "$t: x0-runtime --compile $bundle failed under $(target_qemu "$t")"
  echo "$(stat -c %s "$out/x0tta6bl4.jsbc") bytes"
}

write_info() {
  local t=$1 tr=$2 out=$3
  local file_desc
  file_desc=$(file -b "$out/x0-runtime" 2>/dev/null || echo unknown)
  {
    echo "target: $t"
    echo "triplet: $tr"
    echo "compiler: $("$tr-gcc" -dumpfullversion) ($tr-gcc, Debian)"
    echo "cflags: -Os $(target_cflags "$t")"
    echo "libc: musl ${MUSL[1]}"
    if target_soft_float "$t"; then echo "float: soft (libsoftfp.a from glibc ${GLIBC[1]} soft-fp)"; else echo "float: hard"; fi
    echo "linkage: static"
    echo "libsodium: ${SODIUM[1]}"
    if [ "$want_tls" = 1 ]; then echo "tls: mbedtls ${MBEDTLS[1]} (static)"; else echo "tls: none (x0:tls answers tls-unavailable; TLS=0)"; fi
    echo "quickjs-ng: $(cat "$root/.cache/qjs-src/.unpacked-from" | cut -d' ' -f1)"
    echo "emulator: $(target_qemu "$t")"
    echo "x0-runtime-bytes: $(stat -c %s "$out/x0-runtime")"
    echo "x0-runtime-file: $file_desc"
    if [ -f "$out/x0tta6bl4.jsbc" ]; then echo "bundle-form: x0tta6bl4.jsbc (compiled on the target under emulation)"; fi
    if [ -f "$out/x0-xdp" ]; then
      echo "x0-xdp-bytes: $(stat -c %s "$out/x0-xdp")"
      echo "x0-xdp-libs: libbpf ${LIBBPF[1]}, elfutils ${ELFUTILS[1]} (libelf), zlib ${ZLIB[1]}, musl, static"
      echo "x0-xdp-bpf-object: $(target_bpf "$t")"
    fi
  } >"$out/build-info.txt"
}

# ---- x0-xdp: zlib, elfutils' libelf and libbpf, static, against the target's musl ---------------------------

target_bpf() { # the BPF object's byte order must be the router kernel's
  case "$1" in mips_24kc) echo bpfeb ;; *) echo bpfel ;; esac
}

build_zlib() {
  local t=$1 tr=$2 out=$3 sysroot=$3/sysroot
  [ -f "$sysroot/.zlib-${ZLIB[1]#*:}" ] && return 0
  step "$t" "zlib ${ZLIB[1]}"
  local src work=$out/work/zlib
  src=$(fetch_source "${ZLIB[@]}")
  rm -rf "$work"; mkdir -p "$work"
  (cd "$work" && log_run "$work/configure.log" env CC="$(musl_cc "$out")" CHOST="$tr" CFLAGS="-Os $(target_cflags "$t")" \
    "$src/configure" --static --prefix="$sysroot")
  log_run "$work/make.log" nice make -C "$work" -j"$jobs" libz.a
  log_run "$work/install.log" make -C "$work" install
  touch "$sysroot/.zlib-${ZLIB[1]#*:}"
}

# Only libelf (libbpf's ELF reader): elfutils' configure insists on argp, fts and obstack, which musl lacks and
# libelf does not use; the cache variables tell it they are there, and only libelf.a is built (it carries its
# own copies of the few lib/ helpers it calls, as __libelf_*).
build_libelf() {
  local t=$1 tr=$2 out=$3 sysroot=$3/sysroot
  [ -f "$sysroot/.libelf-${ELFUTILS[1]}" ] && return 0
  step "$t" "libelf (elfutils ${ELFUTILS[1]})"
  local src work=$out/work/elfutils
  src=$(fetch_source "${ELFUTILS[@]}")
  rm -rf "$work"; mkdir -p "$work"
  (cd "$work" && log_run "$work/configure.log" env CC="$(musl_cc "$out")" \
    CFLAGS="-Os $(target_cflags "$t") -I$sysroot/include -Wno-error" LDFLAGS="-L$sysroot/lib" \
    ac_cv_search_argp_parse="none required" ac_cv_search_fts_close="none required" \
    ac_cv_search__obstack_free="none required" \
    "$src/configure" --host="$tr" --prefix="$sysroot" --disable-debuginfod --disable-libdebuginfod \
    --without-bzlib --without-lzma --without-zstd --disable-nls --disable-symbol-versioning --disable-werror)
  log_run "$work/make-libelf.log" nice make -C "$work/libelf" -j"$jobs" libelf.a
  install -m 644 "$work/libelf/libelf.a" "$sysroot/lib/"
  install -m 644 "$src/libelf/libelf.h" "$src/libelf/gelf.h" "$src/libelf/nlist.h" "$sysroot/include/"
  touch "$sysroot/.libelf-${ELFUTILS[1]}"
}

build_libbpf() {
  local t=$1 tr=$2 out=$3 sysroot=$3/sysroot
  [ -f "$sysroot/.libbpf-${LIBBPF[1]}" ] && return 0
  step "$t" "libbpf ${LIBBPF[1]}"
  local src work=$out/work/libbpf
  src=$(fetch_source "${LIBBPF[@]}")
  rm -rf "$work"; mkdir -p "$work"
  log_run "$work/make.log" nice make -C "$src/src" -j"$jobs" BUILD_STATIC_ONLY=y OBJDIR="$work" \
    CC="$(musl_cc "$out")" CFLAGS="-Os $(target_cflags "$t")" EXTRA_CFLAGS="-I$sysroot/include" \
    PREFIX= LIBDIR=/lib DESTDIR="$sysroot" install
  touch "$sysroot/.libbpf-${LIBBPF[1]}"
}

build_xdp() {
  local t=$1 tr=$2 out=$3 sysroot=$3/sysroot
  build_zlib "$t" "$tr" "$out"
  build_libelf "$t" "$tr" "$out"
  build_libbpf "$t" "$tr" "$out"
  step "$t" "x0-xdp ($(target_bpf "$t") program)"
  nice make -s -C bpf BUILD="$out" CC="$(musl_cc "$out")" BPF_TARGET="$(target_bpf "$t")" TARGET_LDFLAGS="-static" \
    LIBBPF_CFLAGS="-I$sysroot/include $(target_cflags "$t")" \
    LIBBPF_LIBS="$sysroot/lib/libbpf.a $sysroot/lib/libelf.a $sysroot/lib/libz.a" "$out/x0-xdp" ||
    fail "make -C bpf for $t failed (see above)"
  local help
  help=$($(target_qemu "$t") "$out/x0-xdp" --help 2>&1 | head -1) || true
  echo "$t: x0-xdp --help under emulation: $help"
}

t0=$(date +%s)
fetch_qemu
for t in "${targets[@]}"; do
  tr=$(target_triplet "$t")
  out=$root/build/cross/$t
  # Other compiler flags (soft-float, another CPU) make every library of the target stale: start it afresh.
  if [ -d "$out/sysroot" ] && [ "$(cat "$out/.cflags" 2>/dev/null)" != "$(target_cflags "$t")" ]; then
    echo "$t: built with other compiler flags than '$(target_cflags "$t")': rebuilding it all"
    rm -rf "$out"
  fi
  mkdir -p "$out/work"
  target_cflags "$t" >"$out/.cflags"
  build_musl "$t" "$tr" "$out"
  if target_soft_float "$t"; then build_softfp "$t" "$out"; fi
  build_sodium "$t" "$tr" "$out"
  if [ "$want_tls" = 1 ]; then build_mbedtls "$t" "$tr" "$out"; fi
  build_runtime "$t" "$tr" "$out"
  echo "$t: $(run_target "$t" "$out" --version) under $(target_qemu "$t")"
  if [ "$want_bytecode" = 1 ]; then build_bytecode "$t" "$out"; fi
  if [ "$want_xdp" = 1 ]; then build_xdp "$t" "$tr" "$out"; fi
  write_info "$t" "$tr" "$out"
done
echo
echo "cross: built ${targets[*]} in $(( $(date +%s) - t0 )) s (build/cross/<target>/, build-info.txt in each)"
