#!/usr/bin/env bash
# Builds the lab's AArch64 router image (issue 19): Debian bookworm's arm64 kernel (linux-image-6.1.0-*-arm64,
# which ships batman-adv.ko) and an initramfs holding Debian's arm64 busybox-static, batctl with its libraries,
# the kernel modules the lab loads, the rootfs/ overlay, qemu/guest/ (init and control loop) and the agent as
# the cross build makes it for aarch64_cortex-a53 (scripts/cross.sh: x0-runtime musl static, the bundle's
# bytecode compiled on the target under qemu-user). The agent runs from files under busybox init
# (X0_LAB_INSTALL=files, qemu/README.md): there are no aarch64 .ipk packages, procd or ubusd builds yet.
# Booted by qemu-system-aarch64 -M virt -cpu cortex-a53 -accel tcg (qemu/lib/vm.ts, arch aarch64).
# Usage: bash qemu/build-image-arm64.sh [--force] [--quiet]
# Output: .cache/qemu/image-arm64/{vmlinuz,initramfs.cpio.gz,manifest.txt}. The .debs come through a PRIVATE apt
# configuration in .cache/qemu/arm64-apt/ (the system's /etc/apt is only read, for its mirror), each pinned by
# version and sha256 below; every step is cached, the initramfs is rebuilt only when an input changed.
# Upgrade (a bookworm point release or security update replaced a pin): print the candidates with
#   bash qemu/build-image-arm64.sh --candidates
# and put the new versions and the sha256 of the new .debs into the pins.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

force=0 quiet=0 candidates=0
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    --quiet) quiet=1 ;;
    --candidates) candidates=1 ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-image-arm64: unknown option $arg (see --help)" >&2; exit 2 ;;
  esac
done

# Pins: package version sha256-of-the-.deb (arm64). The kernel is bookworm-security's, the others bookworm's.
kernel_pkg=linux-image-6.1.0-57-arm64
pins=(
  "$kernel_pkg 6.1.192-3 8301bd5b5b2cf8fd5e479832200c23e64eca0ae9ec45c487c5c318b1e44d4692"
  "busybox-static 1:1.35.0-4+deb12u1+b1 732c9135564fc71337e0e05fb4da4d11e6c28c1834bce3e405e575afef2a52f5"
  "batctl 2023.0-1 bae5351031e5fd61f6eaab85951c81b2d6eab551b41c00dc257bdacaa3e2a588"
  "libnl-3-200 3.7.0-0.2+b1 72b85c8d07ddfd135a9a372f156500961f95ce109474e95a76e4de2a96f94401"
  "libnl-genl-3-200 3.7.0-0.2+b1 5e8a3d1881f003badc7ba25cfe022798f3c3498493056a404ea17423b7b7432d"
  "libc6 2.36-9+deb12u14 01f4330719fd4f65580e16ea5a0527f372fca750e8f588d26deaf09f2d3b1cf4"
)
# The same modules as the x86-64 image (qemu/build-image.sh); virtio_pci because -M virt's virtio devices sit on
# its PCIe host bridge (pci-host-generic and the PL011 serial port are built into Debian's arm64 kernel).
modules_wanted=(virtio_pci virtio_net virtio_console crc32c_generic batman-adv sch_netem dummy)
target=aarch64_cortex-a53
cross_out=build/cross/$target

cache=$root/.cache/qemu
apt_dir=$cache/arm64-apt
debs=$apt_dir/archives
unpacked=$cache/unpacked-arm64
out=$cache/image-arm64
stage=$cache/stage-arm64
keyring=/usr/share/keyrings/debian-archive-keyring.gpg

ms() { date +%s%3N; }
t_all=$(ms)
t_step=$t_all
step() { t_step=$(ms); [ "$quiet" = 1 ] || printf 'build-image-arm64: %s ...\n' "$*"; }
done_step() { [ "$quiet" = 1 ] || printf 'build-image-arm64:   %s (%d ms)\n' "$*" $(( $(ms) - t_step )); }
die() { echo "build-image-arm64: error: $*" >&2; exit 1; }

for tool in apt-get dpkg-deb cpio gzip readelf; do
  command -v "$tool" >/dev/null || die "$tool is missing (apt-get install cpio binutils; this builder needs a Debian host)"
done

# ---- 1. downloads (private apt configuration, arm64) -----------------------------------------------------------
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
  [ ! -f /etc/apt/sources.list ] ||
    sed -nE 's/^deb[ \t]+(\[[^]]*\][ \t]+)?([^ \t]+)[ \t]+.*/\2/p' /etc/apt/sources.list | grep -v security | head -1
}
apt_opts=(
  -o "Dir::Etc::SourceList=$apt_dir/sources.list"
  -o "Dir::Etc::SourceParts=/dev/null"
  -o "Dir::State::Lists=$apt_dir/lists"
  -o "Dir::Cache=$apt_dir/cache"
  -o "Dir::State::status=/dev/null"
  -o "APT::Sandbox::User=root"
  -o "Debug::NoLocking=1"
  -o "APT::Architecture=arm64"
  -o "APT::Architectures::=arm64"
)
apt_update() {
  [ -f "$keyring" ] || die "$keyring is missing; install it with: apt-get install debian-archive-keyring"
  local uri=${X0_LAB_MIRROR:-$(mirror_uri)}
  [ -n "$uri" ] || die "no Debian mirror URI in /etc/apt/sources.list{,.d/debian.sources}; set X0_LAB_MIRROR=http://deb.debian.org/debian"
  local security=${X0_LAB_SECURITY_MIRROR:-${uri%/debian}/debian-security}
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$debs"
  printf '%s\n' "deb [signed-by=$keyring] $uri bookworm main" "deb [signed-by=$keyring] $security bookworm-security main" >"$apt_dir/sources.list"
  [ "$quiet" = 1 ] || echo "build-image-arm64: fetching the bookworm and bookworm-security arm64 indexes from $uri (private apt configuration in ${apt_dir#"$root"/})"
  apt-get "${apt_opts[@]}" -qq update ||
    die "apt-get update of $uri bookworm (arm64) failed (network or mirror down?); retry, or set X0_LAB_MIRROR to another Debian mirror"
}
if [ "$candidates" = 1 ]; then
  apt_update
  for pin in "${pins[@]}"; do
    read -r p v _ <<<"$pin"
    [ "$p" != "$kernel_pkg" ] || p=linux-image-arm64
    printf '%s pinned %s, candidate %s\n' "$p" "$v" "$(apt-cache "${apt_opts[@]}" policy "$p" | sed -n 's/^ *Candidate: //p')"
  done
  echo "linux-image-arm64 depends on: $(apt-cache "${apt_opts[@]}" depends linux-image-arm64 | sed -n 's/^ *Depends: //p' | head -1)"
  exit 0
fi
verify() { # deb sha256
  [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]
}
step "fetching the pinned arm64 packages into ${debs#"$root"/}"
declare -A deb_of=()
updated=0
for pin in "${pins[@]}"; do
  read -r p v sum <<<"$pin"
  file=$debs/${p}_${v//:/%3a}_arm64.deb
  if [ -f "$file" ] && ! verify "$file" "$sum"; then
    echo "build-image-arm64: removing $file: its sha256 is not the pinned one" >&2
    rm -f "$file"
  fi
  if [ ! -f "$file" ]; then
    command -v apt-get >/dev/null || die "apt-get not found: put ${file#"$root"/} there by hand (sha256 $sum)"
    [ "$updated" = 1 ] || [ -n "$(ls "$apt_dir"/lists/*_Packages* 2>/dev/null)" ] || { apt_update; updated=1; }
    (cd "$debs" && apt-get "${apt_opts[@]}" -qq download "$p:arm64=$v" 2>&1 | grep -v 'Download is performed unsandboxed' >&2) || true
    if [ ! -f "$file" ] && [ "$updated" = 0 ]; then
      apt_update; updated=1
      (cd "$debs" && apt-get "${apt_opts[@]}" -qq download "$p:arm64=$v" 2>&1 | grep -v 'Download is performed unsandboxed' >&2) || true
    fi
    [ -f "$file" ] || die "cannot download $p=$v (arm64) from bookworm (replaced by a point release or security update?); run 'bash qemu/build-image-arm64.sh --candidates' and update the pin in qemu/build-image-arm64.sh (version and the .deb's sha256)"
    verify "$file" "$sum" || { rm -f "$file"; die "refusing $p=$v: its sha256 is not the pinned $sum"; }
  fi
  deb_of[$p]=$file
done
done_step "${#pins[@]} packages, sha256 checked"

# ---- 2. unpack --------------------------------------------------------------------------------------------------
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
step "unpacking packages and the kernel's modules"
declare -A dir_of=()
for pin in "${pins[@]}"; do
  read -r p _ <<<"$pin"
  [ "$p" = "$kernel_pkg" ] || dir_of[$p]=$(unpack "${deb_of[$p]}")
done
# The kernel package is ~300 MB unpacked: only vmlinuz and the modules the lab loads, with their dependencies.
kernel_deb=${deb_of[$kernel_pkg]}
kdir=$unpacked/$(basename "$kernel_deb" .deb)
kernel_members() { dpkg-deb --fsys-tarfile "$kernel_deb" | tar -x -C "$kdir" --wildcards "$@" 2>/dev/null; }
mkdir -p "$kdir"
if [ ! -f "$kdir/.vmlinuz.done" ]; then
  kernel_members './boot/vmlinuz-*' './lib/modules/*/modules.order' './lib/modules/*/modules.builtin'
  touch "$kdir/.vmlinuz.done"
fi
kver=$(ls "$kdir/lib/modules" | head -1)
mroot=$kdir/lib/modules/$kver
module_path() { grep -E "/${1//-/[-_]}\.ko(\.[a-z]+)?$" "$mroot/modules.order" | head -1 || true; }
declare -A need=()
pending=("${modules_wanted[@]}")
for _ in 1 2 3 4 5 6 7 8; do
  [ ${#pending[@]} -gt 0 ] || break
  missing=()
  for m in "${pending[@]}"; do
    [ -z "${need[$m]:-}" ] || continue
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
    for d in $(tr '\0' '\n' < "$mroot/${need[$m]}" | sed -n 's/^depends=//p' | head -1 | tr ',' ' '); do
      [ -n "${need[$d]:-}" ] || next+=("$d")
    done
  done
  pending=("${next[@]}")
done
[ ${#pending[@]} -eq 0 ] || die "module dependencies did not close: ${pending[*]}"
done_step "kernel $kver, ${#need[@]} modules"

# ---- 3. the agent, cross-built --------------------------------------------------------------------------------
# scripts/cross.sh skips every step whose output is newer than its inputs: here it only recompiles the bytecode
# when dist/x0tta6bl4.js changed (on the target's x0-runtime under qemu-user).
step "the agent for $target (scripts/cross.sh --no-xdp $target)"
[ -f dist/x0tta6bl4.js ] || npm run -s build >/dev/null || die "npm run build failed (dist/x0tta6bl4.js is needed)"
if [ ! -x "$cross_out/x0-runtime" ] || [ ! -f "$cross_out/x0tta6bl4.jsbc" ] || [ dist/x0tta6bl4.js -nt "$cross_out/x0tta6bl4.jsbc" ]; then
  if [ "$quiet" = 1 ]; then
    bash scripts/cross.sh --no-xdp "$target" >/dev/null || die "scripts/cross.sh --no-xdp $target failed (run it by hand to see why)"
  else
    bash scripts/cross.sh --no-xdp "$target" | sed 's/^/build-image-arm64:   cross: /' || die "scripts/cross.sh --no-xdp $target failed"
  fi
fi
for f in x0-runtime x0tta6bl4.jsbc; do [ -f "$cross_out/$f" ] || die "$cross_out/$f is missing after scripts/cross.sh"; done
grep -q 'ARM aarch64.*statically linked' <(file "$cross_out/x0-runtime" 2>/dev/null || true) ||
  die "$cross_out/x0-runtime is not a static aarch64 executable ($(file -b "$cross_out/x0-runtime" 2>/dev/null))"
done_step "$cross_out/x0-runtime ($(stat -c %s "$cross_out/x0-runtime") bytes), x0tta6bl4.jsbc ($(stat -c %s "$cross_out/x0tta6bl4.jsbc") bytes)"

# ---- 4. the initramfs -------------------------------------------------------------------------------------------
inputs=(qemu/build-image-arm64.sh "$cross_out/x0-runtime" "$cross_out/x0tta6bl4.jsbc" dist/x0tta6bl4.js)
fingerprint() {
  {
    echo "$kernel_deb ${deb_of[*]} ${!need[*]}"
    sha256sum "${inputs[@]}"
    find rootfs qemu/guest -type f -print0 | sort -z | xargs -0r sha256sum
  } | sha256sum | cut -d' ' -f1
}
fp=$(fingerprint)
if [ "$force" = 0 ] && [ -f "$out/initramfs.cpio.gz" ] && [ "$(cat "$out/.fingerprint" 2>/dev/null)" = "$fp" ]; then
  [ "$quiet" = 1 ] || { echo "build-image-arm64: initramfs up to date (inputs unchanged)"; sed 's/^/build-image-arm64:   /' "$out/manifest.txt"; }
  exit 0
fi

step "assembling the root file system"
rm -rf "$stage"
mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,lib/aarch64-linux-gnu,proc,sys,dev,tmp,run,var/log,etc,root,usr/lib/x0} "$out"
cp "${dir_of[busybox-static]}/bin/busybox" "$stage/bin/busybox"
# Applet links as busybox itself lists them: the arm64 binary, run by the cross build's qemu-user.
emulator=$(bash scripts/cross.sh --emulator "$target") || die "scripts/cross.sh --emulator $target failed (it fetches qemu-user)"
applets=$($emulator "$stage/bin/busybox" --list-full) || die "cannot list busybox's applets under $emulator"
[ "$(wc -l <<<"$applets")" -gt 100 ] || die "busybox listed only $(wc -l <<<"$applets") applets"
while read -r applet; do
  [ "$applet" = bin/busybox ] || ln -sf /bin/busybox "$stage/$applet"
done <<<"$applets"
cp "${dir_of[batctl]}/usr/sbin/batctl" "$stage/usr/sbin/batctl"
lib_dirs=()
for p in batctl libnl-3-200 libnl-genl-3-200 libc6; do
  for d in lib/aarch64-linux-gnu usr/lib/aarch64-linux-gnu; do [ ! -d "${dir_of[$p]}/$d" ] || lib_dirs+=("${dir_of[$p]}/$d"); done
done
declare -A have_lib=()
add_libs() { # elf: DT_NEEDED, recursively, from the unpacked arm64 packages only
  local f=$1 soname src d
  for soname in $(readelf -d "$f" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
    [ -z "${have_lib[$soname]:-}" ] || continue
    src=""
    for d in "${lib_dirs[@]}"; do [ ! -e "$d/$soname" ] || { src=$d/$soname; break; }; done
    [ -n "$src" ] || die "library $soname (needed by ${f#"$stage"/}) is in none of the arm64 packages"
    cp -L "$src" "$stage/lib/aarch64-linux-gnu/$soname"
    have_lib[$soname]=$src
    add_libs "$stage/lib/aarch64-linux-gnu/$soname"
  done
}
cp -L "${dir_of[libc6]}/lib/aarch64-linux-gnu/ld-linux-aarch64.so.1" "$stage/lib/aarch64-linux-gnu/"
ln -sf /lib/aarch64-linux-gnu/ld-linux-aarch64.so.1 "$stage/lib/ld-linux-aarch64.so.1"
add_libs "$stage/usr/sbin/batctl"

mdst=$stage/lib/modules/$kver
mkdir -p "$mdst"
: > "$mdst/load.order"
declare -A ordered=()
order_module() { # name: dependencies first
  local m=$1 d
  [ -z "${ordered[$m]:-}" ] || return 0
  [ -n "${need[$m]:-}" ] || return 0
  ordered[$m]=1
  for d in $(tr '\0' '\n' < "$mroot/${need[$m]}" | sed -n 's/^depends=//p' | head -1 | tr ',' ' '); do order_module "$d"; done
  mkdir -p "$mdst/$(dirname "${need[$m]}")"
  cp "$mroot/${need[$m]}" "$mdst/${need[$m]}"
  echo "${need[$m]}" >> "$mdst/load.order"
}
for m in "${modules_wanted[@]}"; do order_module "$m"; done

install -m 755 "$cross_out/x0-runtime" "$stage/usr/bin/x0-runtime"
install -m 644 "$cross_out/x0tta6bl4.jsbc" "$stage/usr/lib/x0/x0tta6bl4.jsbc"
install -m 644 dist/x0tta6bl4.js "$stage/usr/lib/x0/x0tta6bl4.js"
cp -a rootfs/. "$stage/"
rm -f "$stage/README.md"
ln -s bin/busybox "$stage/init"
mkdir -p "$stage/etc/init.d"
# The files image's inittab, its shell on the PL011 serial port (ttyAMA0) instead of the PC's ttyS0.
sed 's/^ttyS0::/ttyAMA0::/' qemu/guest/inittab > "$stage/etc/inittab"
grep -q '^ttyAMA0::' "$stage/etc/inittab" || die "qemu/guest/inittab has no ttyS0 line to move to ttyAMA0"
install -m 755 qemu/guest/rcS "$stage/etc/init.d/rcS"
install -m 755 qemu/guest/x0-lab-control "$stage/usr/sbin/x0-lab-control"
install -m 755 qemu/guest/x0-lab-service "$stage/usr/sbin/x0-lab-service"
manifest=(
  "arch: aarch64 (qemu-system-aarch64 -M virt -cpu cortex-a53)"
  "kernel: $kernel_pkg ($kver), modules: $(sed 's#.*/##; s/\.ko$//' "$mdst/load.order" | tr '\n' ' ')"
  "userland: $(for p in busybox-static batctl; do basename "${deb_of[$p]}" .deb; done | tr '\n' ' ')(arm64)"
  "included: $cross_out/x0-runtime -> /usr/bin/x0-runtime ($(stat -c %s "$cross_out/x0-runtime") bytes, $(file -b "$cross_out/x0-runtime" | cut -d, -f1,2,4 | tr -s ' '))"
  "included: $cross_out/x0tta6bl4.jsbc -> /usr/lib/x0/x0tta6bl4.jsbc ($(stat -c %s "$cross_out/x0tta6bl4.jsbc") bytes)"
  "included: dist/x0tta6bl4.js -> /usr/lib/x0/x0tta6bl4.js"
  "agent: files (x0-lab-service agent under busybox init; no ubusd, procd or opkg in this image)"
)
printf '%s\n' "${manifest[@]}" > "$stage/etc/x0-image-manifest"
done_step "$(du -sk "$stage" | cut -f1) KiB in $(find "$stage" | wc -l) files"

step "packing initramfs (cpio newc, gzip)"
cp "$kdir/boot/vmlinuz-$kver" "$out/vmlinuz.tmp" && mv "$out/vmlinuz.tmp" "$out/vmlinuz"
(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -6 > "$out/initramfs.cpio.gz.tmp")
mv "$out/initramfs.cpio.gz.tmp" "$out/initramfs.cpio.gz"
printf '%s\n' "${manifest[@]}" > "$out/manifest.txt"
echo "$fp" > "$out/.fingerprint"
done_step "initramfs $(stat -c %s "$out/initramfs.cpio.gz") bytes, vmlinuz $(stat -c %s "$out/vmlinuz") bytes"
[ "$quiet" = 1 ] || sed 's/^/build-image-arm64:   /' "$out/manifest.txt"
[ "$quiet" = 1 ] || echo "build-image-arm64: done in $(( $(ms) - t_all )) ms -> ${out#"$root"/}/"
