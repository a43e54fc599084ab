#!/usr/bin/env bash
# Builds the lab's router image from Debian packages: a kernel (linux-image-amd64, which ships batman-adv.ko)
# and an initramfs holding busybox-static, batctl with its libraries, only the kernel modules the lab needs,
# the rootfs/ overlay, qemu/guest/ (init and control loop) and whichever project artefacts exist
# (build/x0-runtime, dist/x0tta6bl4.js and its bytecode, build/x0-xdp, build/bpf/*.o, OpenWrt's ubusd and ubus
# from build/openwrt/prefix).
# Usage: bash qemu/build-image.sh [--force] [--quiet]
# Output: .cache/qemu/image-opkg/{vmlinuz,initramfs.cpio.gz,manifest.txt}. Every step is cached under .cache/qemu/
# and skipped when its inputs did not change; --force rebuilds the initramfs (the downloads stay cached).
# X0_LAB_INSTALL=opkg (the default): the agent as a router owner gets it: the x86_64 packages installed by
# OpenWrt's opkg into the image root (scripts/image-install.sh), OpenWrt's procd, uci and rc.common in the image,
# the agent started by /etc/init.d/x0tta6bl4. X0_LAB_INSTALL=files: x0-runtime and the bytecode copied in, run by
# qemu/guest/x0-lab-service under busybox init, into .cache/qemu/image/.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

# How the agent gets into the image (qemu/README.md, "The agent in the image"): files = copied in by this script
# and run by qemu/guest/x0-lab-service under busybox init; opkg = the packages installed by the real opkg into
# the image root as OpenWrt's image builder does, started by its init script under OpenWrt's procd.
install_mode=${X0_LAB_INSTALL:-opkg}
case "$install_mode" in files | opkg) ;; *) echo "build-image: X0_LAB_INSTALL is files or opkg, not '$install_mode'" >&2; exit 2 ;; esac

force=0 quiet=0
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    --quiet) quiet=1 ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-image: unknown option $arg (see --help)" >&2; exit 2 ;;
  esac
done

cache=$root/.cache/qemu
debs=$cache/debs
unpacked=$cache/unpacked
out=$cache/image
stage=$cache/stage
[ "$install_mode" = files ] || { out=$cache/image-$install_mode; stage=$cache/stage-$install_mode; }
mkdir -p "$debs" "$unpacked" "$out"

# The kernel modules the lab loads, by name; their dependencies are added from each .ko's modinfo.
# crc32c_generic is libcrc32c's "softdep pre: crc32c" (an alias, which insmod does not follow): load it first.
# sch_netem gives links delay and loss (lab.ts: impair A-B). dummy gives batman-adv a primary interface that is
# no mesh link (qemu/scenarios/heal.ts), so taking a link out never changes the node's originator address.
modules_wanted=(virtio_pci virtio_net virtio_console crc32c_generic batman-adv sch_netem dummy)
# Guest packages other than the kernel, with the libraries their binaries need: apt-get download does not
# resolve dependencies. libsodium23 and mbedtls (libmbedtls14, libmbedx509-1, libmbedcrypto7: x0:tls) are what
# x0-runtime links against; iproute2 brings tc (netem, which
# busybox's tc lacks) and an ip that can attach XDP programs, with libbpf1 and libelf1 as x0-xdp will want.
packages=(busybox-static batctl libnl-3-200 libnl-genl-3-200 libc6 libsodium23 libmbedtls14 libmbedx509-1 libmbedcrypto7
  iproute2 libbpf1 libelf1 zlib1g libmnl0 libbsd0 libmd0 libcap2 libxtables12)
# opkg mode: flock, which procd.sh locks each service with (OpenWrt's busybox has it, Debian's does not).
[ "$install_mode" != opkg ] || packages+=(util-linux)

ms() { date +%s%3N; }
t_all=$(ms)
t_step=$t_all
step() { t_step=$(ms); [ "$quiet" = 1 ] || printf 'build-image: %s ...\n' "$*"; }
done_step() { [ "$quiet" = 1 ] || printf 'build-image:   %s (%d ms)\n' "$*" $(( $(ms) - t_step )); }
die() { echo "build-image: error: $*" >&2; exit 1; }

for tool in apt-get dpkg-deb cpio gzip readelf; do
  command -v "$tool" >/dev/null || case "$tool" in
    cpio) die "cpio is missing: apt-get install cpio" ;;
    readelf) die "readelf is missing: apt-get install binutils" ;;
    *) die "$tool is missing: this builder needs a Debian host (apt-get, dpkg-deb, gzip)" ;;
  esac
done

# ---- 1. downloads ---------------------------------------------------------------------------------------------
# `apt-get download` of the version the host's package lists name; an empty or stale list is refreshed once.
apt_updated=0
fetch() { # package -> prints the .deb path
  local pkg=$1 ver file
  ver=$(apt-cache policy "$pkg" 2>/dev/null | sed -n 's/^ *Candidate: //p')
  if [ -z "$ver" ] || [ "$ver" = "(none)" ]; then
    if [ "$apt_updated" = 0 ] && [ "$(id -u)" = 0 ]; then
      apt-get update -qq >&2 || true
      apt_updated=1
      ver=$(apt-cache policy "$pkg" 2>/dev/null | sed -n 's/^ *Candidate: //p')
    fi
    [ -n "$ver" ] && [ "$ver" != "(none)" ] || die "apt knows no package $pkg (run 'apt-get update' as root)"
  fi
  # apt-get download names files pkg_version_arch.deb with ':' in the version escaped as %3a.
  file=$(ls "$debs/${pkg}_${ver//:/%3a}_"*.deb 2>/dev/null | head -1 || true)
  if [ -z "$file" ]; then
    (cd "$debs" && apt-get download -qq "$pkg" 2>&1 | grep -v '^W: Download is performed unsandboxed' >&2) || true
    file=$(ls "$debs/${pkg}_${ver//:/%3a}_"*.deb 2>/dev/null | head -1 || true)
    [ -n "$file" ] || die "apt-get download $pkg failed (network? run 'apt-get update')"
  fi
  echo "$file"
}

step "fetching Debian packages into .cache/qemu/debs"
kernel_pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9].*\)$/\1/p' | head -1)
if [ -z "$kernel_pkg" ] && [ "$(id -u)" = 0 ]; then
  apt-get update -qq >&2 || true
  apt_updated=1
  kernel_pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9].*\)$/\1/p' | head -1)
fi
[ -n "$kernel_pkg" ] || die "cannot resolve linux-image-amd64 to a kernel package (run 'apt-get update')"
kernel_deb=$(fetch "$kernel_pkg")
declare -A deb_of=()
for p in "${packages[@]}"; do deb_of[$p]=$(fetch "$p"); done
done_step "$kernel_pkg and ${#packages[@]} packages ready"

# ---- 2. unpack --------------------------------------------------------------------------------------------------
# Each .deb unpacks once into its own folder, named after the file, so a new version unpacks anew.
unpack() { # deb -> prints folder
  local deb=$1 dir
  dir=$unpacked/$(basename "$deb" .deb)
  if [ ! -f "$dir/.done" ]; then
    rm -rf "$dir"; mkdir -p "$dir"
    dpkg-deb -x "$deb" "$dir"
    touch "$dir/.done"
  fi
  echo "$dir"
}
step "unpacking packages"
declare -A dir_of=()
for p in "${packages[@]}"; do dir_of[$p]=$(unpack "${deb_of[$p]}"); done
done_step "unpacked"

# The kernel package is 400 MB unpacked: take only vmlinuz and the modules we load, a few tar passes over it.
kdir=$unpacked/$(basename "$kernel_deb" .deb)
kernel_members() { dpkg-deb --fsys-tarfile "$kernel_deb" | tar -x -C "$kdir" --wildcards "$@" 2>/dev/null; }
step "extracting vmlinuz and modules (${modules_wanted[*]}) from $kernel_pkg"
mkdir -p "$kdir"
if [ ! -f "$kdir/.vmlinuz.done" ]; then
  kernel_members './boot/vmlinuz-*' './lib/modules/*/modules.order' './lib/modules/*/modules.builtin'
  touch "$kdir/.vmlinuz.done"
fi
kver=$(ls "$kdir/lib/modules" | head -1)
mroot=$kdir/lib/modules/$kver
module_path() { # name -> relative path from modules.order, '' if built in or unknown
  local n=${1//-/[-_]}
  grep -E "/${n}\.ko(\.[a-z]+)?$" "$mroot/modules.order" | head -1 || true
}
declare -A need=()
pending=("${modules_wanted[@]}")
for _ in 1 2 3 4 5 6 7 8; do
  [ ${#pending[@]} -gt 0 ] || break
  missing=()
  declare -A queued=()
  for m in "${pending[@]}"; do
    [ -z "${queued[$m]:-}" ] || continue
    queued[$m]=1
    rel=$(module_path "$m")
    [ -n "$rel" ] || { grep -qE "/${m//-/[-_]}\.ko$" "$mroot/modules.builtin" && continue; die "kernel $kver has no module $m"; }
    need[$m]=$rel
    [ -f "$mroot/$rel" ] || missing+=("./lib/modules/$kver/$rel")
  done
  [ ${#missing[@]} -eq 0 ] || kernel_members "${missing[@]}"
  next=()
  for m in "${pending[@]}"; do
    [ -n "${need[$m]:-}" ] || continue
    [ -f "$mroot/${need[$m]}" ] || die "module ${need[$m]} not found in $kernel_deb"
    deps=$(tr '\0' '\n' < "$mroot/${need[$m]}" | sed -n 's/^depends=//p' | head -1 | tr ',' ' ')
    for d in $deps; do [ -n "${need[$d]:-}" ] || next+=("$d"); done
  done
  pending=("${next[@]}")
done
[ ${#pending[@]} -eq 0 ] || die "module dependencies did not close: ${pending[*]}"
done_step "kernel $kver, ${#need[@]} modules"

# ---- 3. the initramfs -------------------------------------------------------------------------------------------
# Inputs that change the image: the builder, the overlay, the guest scripts, the artefacts, the packages.
artefacts=(build/x0-runtime dist/x0tta6bl4.js build/x0-xdp)
# OpenWrt's ubusd and ubus CLI (scripts/openwrt-tools.sh builds them from the pinned sources) with their libraries.
openwrt=build/openwrt/prefix
artefacts+=("$openwrt/sbin/ubusd" "$openwrt/bin/ubus" "$openwrt/lib/libubox.so" "$openwrt/lib/libubus.so" "$openwrt/lib/libblobmsg_json.so")
# opkg mode: OpenWrt's procd, uci, jshn and opkg (scripts/openwrt-tools.sh), its rc.common, functions.sh, service.sh
# and procd.sh (the vendor folder, checksummed), and what the packages are made from.
vendor=${X0_OPENWRT_VENDOR:-$root/../shared/vendor/openwrt}
openwrt_base=(package/base-files/files/etc/rc.common package/base-files/files/lib/functions.sh
  package/base-files/files/lib/functions/service.sh package/system/procd/files/procd.sh)
package_inputs=()
if [ "$install_mode" = opkg ]; then
  bash scripts/openwrt-tools.sh libubox ubus uci opkg procd procd-setlbf >&2 || die "scripts/openwrt-tools.sh could not build OpenWrt's procd, uci and opkg"
  for f in "${openwrt_base[@]}"; do
    ( cd "$vendor" && grep " openwrt-base/$f\$" SHA256SUMS | sha256sum -c --quiet - ) >&2 ||
      die "$vendor/openwrt-base/$f is missing or does not match $vendor/SHA256SUMS: restore the vendor folder"
  done
  artefacts+=("$openwrt/sbin/procd" "$openwrt/lib/libsetlbf.so" "$openwrt/bin/uci" "$openwrt/lib/libuci.so" "$openwrt/bin/jshn" "$openwrt/bin/opkg-cl"
    "$openwrt/share/libubox/jshn.sh" "${openwrt_base[@]/#/$vendor/openwrt-base/}" test/package/fixtures/default-postinst.sh
    scripts/package.sh scripts/image-install.sh openwrt-package/install-files.sh package.json)
  mapfile -t package_inputs < <(find openwrt-package ubus/acl.d -type f | sort)
fi
fingerprint() {
  {
    echo "$install_mode $kernel_deb ${deb_of[*]} ${!need[*]}"
    sha256sum qemu/build-image.sh
    find rootfs qemu/guest -type f -print0 2>/dev/null | sort -z | xargs -0r sha256sum
    [ ${#package_inputs[@]} -eq 0 ] || sha256sum "${package_inputs[@]}"
    for a in "${artefacts[@]}" build/bpf/*.o; do [ -f "$a" ] && sha256sum "$a"; done
    true
  } | sha256sum | cut -d' ' -f1
}
fp=$(fingerprint)
# The bundle as bytecode (what a router runs), compiled here by build/x0-runtime so it always matches dist/.
jsbc=$cache/x0tta6bl4.jsbc
if [ "$install_mode" = opkg ]; then
  : # scripts/package.sh compiles the package's own bytecode
elif [ -x build/x0-runtime ] && [ -f dist/x0tta6bl4.js ]; then
  if [ ! -f "$jsbc" ] || [ dist/x0tta6bl4.js -nt "$jsbc" ] || [ build/x0-runtime -nt "$jsbc" ]; then
    build/x0-runtime --compile dist/x0tta6bl4.js -o "$jsbc.tmp" || die "x0-runtime --compile dist/x0tta6bl4.js failed"
    mv "$jsbc.tmp" "$jsbc"
  fi
else
  rm -f "$jsbc"
fi
if [ "$force" = 0 ] && [ -f "$out/initramfs.cpio.gz" ] && [ "$(cat "$out/.fingerprint" 2>/dev/null)" = "$fp" ]; then
  [ "$quiet" = 1 ] || { echo "build-image: initramfs up to date (inputs unchanged)"; sed 's/^/build-image:   /' "$out/manifest.txt"; }
  [ "$quiet" = 1 ] || echo "build-image: done in $(( $(ms) - t_all )) ms"
  exit 0
fi

step "assembling the root file system"
rm -rf "$stage"
mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,lib/x86_64-linux-gnu,lib64,proc,sys,dev,tmp,run,var/log,etc,root,usr/lib/x0}
cp "${dir_of[busybox-static]}/bin/busybox" "$stage/bin/busybox"
# Applet links as busybox itself lists them (/bin/sh, /sbin/ip, ...).
"$stage/bin/busybox" --list-full | while read -r applet; do
  [ "$applet" = bin/busybox ] || ln -sf /bin/busybox "$stage/$applet"
done
cp "${dir_of[batctl]}/usr/sbin/batctl" "$stage/usr/sbin/batctl"
# iproute2's ip and tc replace busybox's applets of the same name. Debian's busybox shell prefers its own
# applets whatever PATH says: call them as /sbin/ip and /sbin/tc.
rm -f "$stage/sbin/ip" "$stage/bin/ip" "$stage/sbin/tc"
cp "${dir_of[iproute2]}/bin/ip" "$stage/sbin/ip"
cp "${dir_of[iproute2]}/sbin/tc" "$stage/sbin/tc"

# Shared libraries: resolve DT_NEEDED recursively, first in the unpacked packages, then (for the project's own
# binaries, built on this Debian host) in the host's library path. Prints where each came from.
lib_dirs=()
for p in "${packages[@]}"; do
  for d in lib/x86_64-linux-gnu usr/lib/x86_64-linux-gnu; do [ -d "${dir_of[$p]}/$d" ] && lib_dirs+=("${dir_of[$p]}/$d"); done
done
[ -d "$openwrt/lib" ] && lib_dirs+=("$root/$openwrt/lib")
declare -A have_lib=()
add_libs() { # elf file
  local f=$1 soname src d
  readelf -d "$f" 2>/dev/null | grep -q '(NEEDED)' || return 0
  for soname in $(readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
    [ -n "${have_lib[$soname]:-}" ] && continue
    src=""
    for d in "${lib_dirs[@]}"; do [ -e "$d/$soname" ] && { src=$d/$soname; break; }; done
    # awk reads to the end: an early exit would kill ldconfig with SIGPIPE, and pipefail would end the build.
    [ -n "$src" ] || src=$(ldconfig -p | awk -v s="$soname" '$1 == s && /x86-64/ && !found { print $NF; found = 1 }')
    [ -n "$src" ] || die "library $soname (needed by ${f#"$stage"/}) found neither in the packages nor on the host"
    cp -L "$src" "$stage/lib/x86_64-linux-gnu/$soname"
    have_lib[$soname]=$src
    add_libs "$stage/lib/x86_64-linux-gnu/$soname"
  done
}
cp -L "${dir_of[libc6]}/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" "$stage/lib/x86_64-linux-gnu/"
ln -sf /lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 "$stage/lib64/ld-linux-x86-64.so.2"
add_libs "$stage/usr/sbin/batctl"
add_libs "$stage/sbin/ip"
add_libs "$stage/sbin/tc"

# Kernel modules, with a load order (dependencies first) the guest's init follows with insmod.
mdst=$stage/lib/modules/$kver
mkdir -p "$mdst"
: > "$mdst/load.order"
declare -A ordered=()
order_module() { # name
  local m=$1 d
  [ -n "${ordered[$m]:-}" ] && return 0
  [ -n "${need[$m]:-}" ] || return 0
  ordered[$m]=1
  for d in $(tr '\0' '\n' < "$mroot/${need[$m]}" | sed -n 's/^depends=//p' | head -1 | tr ',' ' '); do order_module "$d"; done
  mkdir -p "$mdst/$(dirname "${need[$m]}")"
  cp "$mroot/${need[$m]}" "$mdst/${need[$m]}"
  echo "${need[$m]}" >> "$mdst/load.order"
}
for m in "${modules_wanted[@]}"; do order_module "$m"; done

# The project's artefacts, each only if it exists; the manifest says which were included.
manifest=()
manifest+=("kernel: $kernel_pkg ($kver), modules: $(sed 's#.*/##; s/\.ko$//' "$mdst/load.order" | tr '\n' ' ')")
manifest+=("userland: $(basename "${deb_of[busybox-static]}" .deb), $(basename "${deb_of[batctl]}" .deb), $(basename "${deb_of[iproute2]}" .deb) (ip, tc)")
include() { # src dst-in-image
  if [ -f "$1" ]; then
    mkdir -p "$stage/$(dirname "$2")"
    cp "$1" "$stage/$2"
    manifest+=("included: $1 -> /$2 ($(stat -c %s "$1") bytes)")
    return 0
  fi
  manifest+=("missing (not included): $1")
  return 1
}
# The bundle's source stays in both modes: the smoke and xdp scenarios run `x0-runtime /usr/lib/x0/x0tta6bl4.js`.
include dist/x0tta6bl4.js usr/lib/x0/x0tta6bl4.js || true
if include "$openwrt/sbin/ubusd" usr/sbin/ubusd; then add_libs "$stage/usr/sbin/ubusd"; fi
if include "$openwrt/bin/ubus" usr/bin/ubus; then add_libs "$stage/usr/bin/ubus"; fi
if [ "$install_mode" = files ]; then
  if include build/x0-runtime usr/bin/x0-runtime; then chmod 755 "$stage/usr/bin/x0-runtime"; add_libs "$stage/usr/bin/x0-runtime"; fi
  include "$jsbc" usr/lib/x0/x0tta6bl4.jsbc || true
  if include build/x0-xdp usr/sbin/x0-xdp; then chmod 755 "$stage/usr/sbin/x0-xdp"; add_libs "$stage/usr/sbin/x0-xdp"; fi
  bpf_count=0
  for o in build/bpf/*.o; do [ -f "$o" ] && include "$o" "usr/lib/x0/bpf/$(basename "$o")" && bpf_count=$((bpf_count + 1)); done
  [ "$bpf_count" -gt 0 ] || manifest+=("missing (not included): build/bpf/*.o")
else
  # What an OpenWrt image has for the packages' scripts: procd (a service manager under busybox init, see
  # qemu/guest/README.md), uci, jshn, opkg, rc.common and the shell libraries the init script sources.
  for bin in "$openwrt/sbin/procd:sbin/procd" "$openwrt/bin/uci:sbin/uci" "$openwrt/bin/jshn:usr/bin/jshn" "$openwrt/bin/opkg-cl:bin/opkg"; do
    include "${bin%%:*}" "${bin#*:}" || die "${bin%%:*} is missing after scripts/openwrt-tools.sh"
    chmod 755 "$stage/${bin#*:}"; add_libs "$stage/${bin#*:}"
  done
  include "${dir_of[util-linux]}/usr/bin/flock" usr/bin/flock || die "util-linux has no /usr/bin/flock"
  chmod 755 "$stage/usr/bin/flock"; add_libs "$stage/usr/bin/flock"
  # procd preloads it into a service whose output goes to syslog (line-buffered output)
  include "$openwrt/lib/libsetlbf.so" lib/libsetlbf.so || die "missing: $openwrt/lib/libsetlbf.so (scripts/openwrt-tools.sh procd-setlbf)"
  include "$openwrt/share/libubox/jshn.sh" usr/share/libubox/jshn.sh || die "missing: ${manifest[-1]#missing (not included): }"
  base=$vendor/openwrt-base/package
  include "$base/base-files/files/etc/rc.common" etc/rc.common || die "missing: ${manifest[-1]#missing (not included): }"
  include "$base/base-files/files/lib/functions/service.sh" lib/functions/service.sh || die "missing: ${manifest[-1]#missing (not included): }"
  include "$base/system/procd/files/procd.sh" lib/functions/procd.sh || die "missing: ${manifest[-1]#missing (not included): }"
  # The vendor's functions.sh (2013) lacks default_postinst/default_prerm: the package suite's stand-in follows it
  # (test/package/README.md says what it does and why).
  cat "$base/base-files/files/lib/functions.sh" test/package/fixtures/default-postinst.sh > "$stage/lib/functions.sh"
  manifest+=("included: OpenWrt's functions.sh + test/package/fixtures/default-postinst.sh -> /lib/functions.sh")
fi

# The overlay last: rootfs/ (what a router holds in /etc) and the lab's guest side (init, control loop).
cp -a rootfs/. "$stage/"
rm -f "$stage/README.md"
ln -s bin/busybox "$stage/init"
mkdir -p "$stage/etc/init.d"
install -m 644 qemu/guest/inittab "$stage/etc/inittab"
install -m 755 qemu/guest/rcS "$stage/etc/init.d/rcS"
install -m 755 qemu/guest/x0-lab-control "$stage/usr/sbin/x0-lab-control"
install -m 755 qemu/guest/x0-lab-service "$stage/usr/sbin/x0-lab-service"
if [ "$install_mode" = opkg ]; then
  # The packages' own files come from the packages only: drop the overlay's copies before opkg installs them.
  while read -r dest; do rm -f "$stage$dest"; done < <(awk '$1 == "file" && $3 ~ /^rootfs\// { print $4 }' openwrt-package/*/manifest)
  mkdir -p "$stage/etc/rc.d" # base-files' folder, where enabling an init script puts its S/K links
  install -m 644 qemu/guest/inittab.procd "$stage/etc/inittab"
  install -m 755 qemu/guest/uci-defaults-x0-lab "$stage/etc/uci-defaults/99-x0-lab"
  installed=$(bash scripts/image-install.sh --xdp "$stage") || die "scripts/image-install.sh --xdp could not install the packages into $stage"
  while read -r line; do manifest+=("opkg $line"); done <<< "$installed"
  for f in usr/bin/x0-runtime usr/sbin/x0-xdp; do
    [ -f "$stage/$f" ] || die "/$f is not in the image after opkg installed the packages"
    add_libs "$stage/$f"
  done
  [ -L "$stage/etc/rc.d/S95x0tta6bl4" ] || die "the package's postinst did not enable /etc/init.d/x0tta6bl4 (no /etc/rc.d/S95x0tta6bl4)"
fi
for soname in "${!have_lib[@]}"; do
  case "${have_lib[$soname]}" in "$unpacked"/*) ;; *) manifest+=("library from the host: ${have_lib[$soname]}") ;; esac
done
printf '%s\n' "${manifest[@]}" > "$stage/etc/x0-image-manifest"
done_step "$(du -sk "$stage" | cut -f1) KiB in $(find "$stage" | wc -l) files"

step "packing initramfs (cpio newc, gzip)"
cp "$kdir/boot/vmlinuz-$kver" "$out/vmlinuz.tmp" && mv "$out/vmlinuz.tmp" "$out/vmlinuz"
(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -6 > "$out/initramfs.cpio.gz.tmp")
mv "$out/initramfs.cpio.gz.tmp" "$out/initramfs.cpio.gz"
printf '%s\n' "${manifest[@]}" > "$out/manifest.txt"
echo "$fp" > "$out/.fingerprint"
done_step "initramfs $(stat -c %s "$out/initramfs.cpio.gz") bytes, vmlinuz $(stat -c %s "$out/vmlinuz") bytes"
[ "$quiet" = 1 ] || sed 's/^/build-image:   /' "$out/manifest.txt"
[ "$quiet" = 1 ] || echo "build-image: done in $(( $(ms) - t_all )) ms -> ${out#"$root"/}/"
