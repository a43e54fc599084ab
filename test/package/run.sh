#!/usr/bin/env bash
# The OpenWrt packages (issue 18): scripts/package.sh builds x0tta6bl4 and x0tta6bl4-xdp as .ipk and .apk for
# x86_64; the real opkg (opkg-lede, OpenWrt 24.10) and apk-tools v3 (25.12), built from ../shared/vendor/openwrt
# by scripts/openwrt-tools.sh, install, upgrade and remove them in offline roots (IPKG_INSTROOT set, as an image
# build does) and in chroots run like a live router (IPKG_INSTROOT unset, busybox ash, the real uci and jshn).
# The init script runs against OpenWrt's own rc.common and procd.sh; what it tells procd is recorded by a
# stand-in `ubus`, and then the real procd and ubusd (procd not as PID 1, in a chroot with its own PID and mount
# namespaces) run the installed agent from it: start, status over ubus, log tag, reload, respawn, stop.
# Also: the SDK Makefiles against the manifests (an SDK stand-in evaluates them), and broken packages (missing
# dependency, postinst syntax error, a file outside the manifest) each caught. Needs root for the chroots.
# Usage: bash test/package/run.sh [--help]   (X0_CROSS_DIR=DIR: router builds elsewhere than build/cross)
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
case "${1:-}" in -h | --help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac

vendor=${X0_OPENWRT_VENDOR:-$root/../shared/vendor/openwrt}
prefix=$root/build/openwrt/prefix
work=$root/build/test-package
pkgs=$work/packages/x86_64
keys=$work/packages/keys
base_pkgs=$work/base
passed=0 failed=0 skipped=0

ok() { echo "ok - $1"; passed=$((passed + 1)); }
not_ok() { echo "not ok - $1"; [ -z "${2:-}" ] || echo "$2" | tail -15 | sed 's/^/    /'; failed=$((failed + 1)); }
skip() { echo "skip - $1: $2"; skipped=$((skipped + 1)); }
finish() { echo "$passed passed, $failed failed, $skipped skipped"; [ "$failed" -eq 0 ]; exit $?; }
# check NAME COMMAND...: passes when COMMAND exits 0; its output is shown when it fails.
check() {
  local name=$1 out; shift
  if out=$("$@" 2>&1); then ok "$name"; else not_ok "$name" "$out"; fi
}
# refuses NAME PATTERN COMMAND...: passes when COMMAND fails and its output matches PATTERN (grep -E).
refuses() {
  local name=$1 pattern=$2 out; shift 2
  if out=$("$@" 2>&1); then not_ok "$name" "succeeded but should have failed: $out"
  elif echo "$out" | grep -qE -- "$pattern"; then ok "$name"
  else not_ok "$name" "failed without /$pattern/: $out"; fi
}

# --- set-up: the tools, then the packages (release 1 and release 2 for the upgrade) --------------------------
mkdir -p "$work"
if ! out=$(bash scripts/openwrt-tools.sh libubox ubus uci opkg apk-tools procd 2>&1); then
  not_ok "build opkg, apk-tools, ubus and procd (scripts/openwrt-tools.sh)" "$out"; finish
fi
rm -rf "$work/packages" "$work/release2"
# Release 2 ships a changed default config (from a copy of openwrt-package whose manifest points at it), so the
# upgrade has to choose between the operator's edit and the new default.
mkdir -p "$work/release2"
cp -r openwrt-package "$work/release2/openwrt-package"
{ cat rootfs/etc/config/x0tta6bl4; printf '
# release 2 default
'; } > "$work/release2/x0tta6bl4.config"
sed -i "s|rootfs/etc/config/x0tta6bl4 |${work#$root/}/release2/x0tta6bl4.config |" "$work/release2/openwrt-package/x0tta6bl4/manifest"
if ! out=$(bash scripts/package.sh --out "$work/packages" --release 1 x86_64 2>&1) ||
  ! out=$(X0_PACKAGE_DIR=$work/release2/openwrt-package bash scripts/package.sh --out "$work/packages" --release 2 x86_64 2>&1); then
  not_ok "scripts/package.sh x86_64 (releases 1 and 2)" "$out"; finish
fi
ok "scripts/package.sh builds x0tta6bl4 and x0tta6bl4-xdp (ipk and apk, releases 1 and 2)"
version=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' package.json)
ipk1=$pkgs/x0tta6bl4_${version}-1_x86_64.ipk ipk2=$pkgs/x0tta6bl4_${version}-2_x86_64.ipk
xipk1=$pkgs/x0tta6bl4-xdp_${version}-1_x86_64.ipk
apk1=$pkgs/x0tta6bl4-${version}-r1.apk apk2=$pkgs/x0tta6bl4-${version}-r2.apk
xapk1=$pkgs/x0tta6bl4-xdp-${version}-r1.apk
. test/package/roots.sh
. test/package/inspect.sh
make_base_packages "$base_pkgs" || { not_ok "base packages (libc, libsodium, libbpf stand-ins)"; finish; }

# --- the packages themselves ----------------------------------------------------------------------------------
check "ipk: gzip'd tar of ./debian-binary ./data.tar.gz ./control.tar.gz, debian-binary 2.0" ipk_outer_format "$ipk1"
check "ipk control: Package, Version, Depends libc+libsodium+libmbedtls, Architecture, Installed-Size, conffiles" \
  ipk_control_is "$ipk1" x0tta6bl4 "${version}-1" "libc, libsodium, libmbedtls" /etc/config/x0tta6bl4
check "ipk control (xdp): Depends libc, x0tta6bl4, libbpf; no conffiles" \
  ipk_control_is "$xipk1" x0tta6bl4-xdp "${version}-1" "libc, x0tta6bl4, libbpf" ""
for p in x0tta6bl4 x0tta6bl4-xdp; do
  f=$pkgs/${p}_${version}-1_x86_64.ipk
  check "ipk $p: data holds exactly the manifest's files, with its modes, owned by root" \
    ipk_matches_manifest "$f" "openwrt-package/$p/manifest"
  f=$pkgs/${p}-${version}-r1.apk
  check "apk $p: exactly the manifest's files and lib/apk/packages/$p.list, modes, owner root" \
    apk_matches_manifest "$f" "openwrt-package/$p/manifest" "$p"
done
check "apk: name, version, arch, depends; signature verifies with the build key (apk verify)" \
  apk_info_is "$apk1" x0tta6bl4 "${version}-r1" "libc libmbedtls libsodium"
refuses "apk: signature not trusted without the build key" "UNTRUSTED" \
  env LD_LIBRARY_PATH="$prefix/lib" "$prefix/bin/apk" verify --keys-dir "$work/no-keys" "$apk1"
check "apk conffiles: lib/apk/packages/x0tta6bl4.conffiles and .conffiles_static with the file's sha256" \
  apk_conffiles_ok "$apk1" /etc/config/x0tta6bl4
check "maintainer scripts (ipk control.tar.gz, apk scripts) are valid sh: busybox ash -n and dash -n" \
  scripts_parse "$ipk1" "$xipk1" "$apk1" "$xapk1"
check "SDK Makefiles read the manifests: same files, modes, metadata, conffiles, postinst as package.sh" \
  makefiles_match_packages
check "drift guard: a Makefile that installs a file the manifest lacks is caught" planted_makefile_drift_caught
check "size: $(basename "$ipk1") $(stat -c %s "$ipk1") bytes, installed $(ipk_installed_size "$ipk1") bytes" \
  test -s "$ipk1"

# Router targets: packaged when scripts/cross.sh has built them, sizes reported against the 600 KB goal.
for t in mips_24kc mipsel_24kc arm_cortex-a7 aarch64_cortex-a53; do
  cross=${X0_CROSS_DIR:-$root/build/cross}
  if [ ! -f "$cross/$t/x0-runtime" ] || [ ! -f "$cross/$t/x0tta6bl4.jsbc" ]; then
    skip "router target $t: agent ipk" "no x0-runtime and x0tta6bl4.jsbc in $cross/$t (bash scripts/cross.sh $t, with bytecode)"
    continue
  fi
  if ! out=$(bash scripts/package.sh --out "$work/packages" "$t" 2>&1); then not_ok "scripts/package.sh $t" "$out"; continue; fi
  f=$work/packages/$t/x0tta6bl4_${version}-1_${t}.ipk
  check "router target $t: ipk holds the manifest's files, Architecture $t" ipk_target_ok "$f" openwrt-package/x0tta6bl4/manifest "$t"
  # The 600 KB goal is reported, not enforced: no target meets it yet (docs/benchmarks.md, Packages).
  size=$(stat -c %s "$f"); [ "$size" -le 614400 ] && goal="met" || goal="NOT met"
  echo "# router target $t: agent ipk $size bytes (goal 600 KB: $goal)"
done

# --- broken packages -----------------------------------------------------------------------------------------
refuses "broken: a file outside the manifest's list is caught (ipk with an extra /usr/bin/stray)" \
  "not in the manifest: /usr/bin/stray" ipk_matches_manifest "$(ipk_with_stray_file "$ipk1")" openwrt-package/x0tta6bl4/manifest
broken=$(package_with_broken_postinst) || not_ok "build a package with a postinst syntax error" "$broken"
refuses "broken: a postinst syntax error is caught by the sh -n check" "postinst.*(syntax error|Syntax error|unexpected)" \
  scripts_parse "$broken"
R=$work/root-broken; make_root "$R"
refuses "broken: opkg fails on that postinst (the error names the package's postinst)" \
  "x0tta6bl4.*postinst|postinst.*x0tta6bl4" opkg_in "$R" install "$base_pkgs"/libc_*.ipk "$base_pkgs"/libsodium_*.ipk "$base_pkgs"/libmbedtls_*.ipk "$broken"
for pm in opkg apk; do
  R=$work/root-nodep-$pm; make_root "$R"
  if [ $pm = opkg ]; then
    refuses "broken: missing dependency: opkg refuses x0tta6bl4 without libsodium" "dependency libsodium" \
      opkg_in "$R" install "$base_pkgs"/libc_*.ipk "$ipk1"
  else
    refuses "broken: missing dependency: apk refuses x0tta6bl4 without libsodium" "libsodium" \
      apk_in "$R" add --initdb --arch x86_64 "$base_pkgs"/libc-*.apk "$apk1"
  fi
  check "broken: after the refused install ($pm) none of the package's files is there" \
    test ! -e "$R/usr/bin/x0-runtime" -a ! -e "$R/etc/init.d/x0tta6bl4"
done

# --- offline root (IPKG_INSTROOT set): install, upgrade, remove --------------------------------------------
lifecycle_offline() { # pm
  local pm=$1 R=$work/root-offline-$1 install upgrade remove p1 p2 x1
  make_root "$R"
  if [ "$pm" = opkg ]; then
    install() { opkg_in "$R" install "$base_pkgs"/*.ipk "$ipk1" "$xipk1"; }
    upgrade() { opkg_in "$R" install "$ipk2"; } # opkg upgrades an installed package from a newer file
    remove() { opkg_in "$R" remove x0tta6bl4-xdp x0tta6bl4; }
  else
    install() { apk_in "$R" add --initdb --arch x86_64 "$base_pkgs"/*.apk "$apk1" "$xapk1"; }
    upgrade() { apk_in "$R" add --upgrade "$apk2"; }
    remove() { apk_in "$R" del x0tta6bl4-xdp x0tta6bl4; }
  fi
  check "$pm offline: install x0tta6bl4 and x0tta6bl4-xdp" install
  check "$pm offline: every file where the manifest says, with its mode" files_installed "$R" x0tta6bl4 x0tta6bl4-xdp
  check "$pm offline: init script enabled (rc.d S95 and K10), state dir 0700, uci-defaults kept for first boot" \
    offline_install_state "$R"
  edit_config_and_keys "$R"
  check "$pm offline: upgrade to release 2" upgrade
  check "$pm offline: upgrade kept the edited config and the keys, new default beside it; release 2 installed" \
    upgraded_state "$R" "$pm"
  check "$pm offline: remove both packages" remove
  check "$pm offline: remove left the edited config and the keys, took the rest, disabled the init script" \
    removed_state "$R"
}
lifecycle_offline opkg
lifecycle_offline apk

# scripts/image-install.sh: the packages into an image root by the real opkg, as OpenWrt's image builder does.
R=$work/root-image; make_root "$R"
check "image-install.sh: x0tta6bl4 and -xdp installed into an image root by opkg (IPKG_INSTROOT set)" \
  bash scripts/image-install.sh --xdp "$R"
check "image-install.sh: the manifests' files, init script enabled, state dir 0700, run again: still fine" \
  eval 'files_installed "$R" x0tta6bl4 x0tta6bl4-xdp && offline_install_state "$R" && bash scripts/image-install.sh --xdp "$R" >/dev/null'

# --- live router (chroot, IPKG_INSTROOT unset): first boot, start, upgrade, stop --------------------------
if [ "$(id -u)" -ne 0 ]; then
  skip "live (chroot) install, upgrade and remove with opkg and apk" "needs root (chroot)"
  skip "init script against rc.common + procd.sh" "needs root (chroot)"
  finish
fi
lifecycle_live() { # pm
  local pm=$1 R=$work/root-live-$1
  make_live_root "$R"
  cp "$base_pkgs"/*.ipk "$ipk1" "$ipk2" "$R/tmp/"
  if [ "$pm" = opkg ]; then
    check "$pm live: install runs uci-defaults, enables and starts the agent" \
      opkg_live "$R" install /tmp/libc_1.0-1_x86_64.ipk /tmp/libsodium_1.0-1_x86_64.ipk /tmp/libmbedtls_1.0-1_x86_64.ipk "/tmp/$(basename "$ipk1")"
  else
    check "$pm live: install runs uci-defaults, enables and starts the agent" \
      apk_live "$R" add --initdb --arch x86_64 "$base_pkgs"/libc-*.apk "$base_pkgs"/libsodium-*.apk "$base_pkgs"/libmbedtls-*.apk "$apk1"
  fi
  check "$pm live: uci-defaults set node_name from the hostname, made the state dir 0700, and was deleted" \
    first_boot_done "$R" router7
  check "$pm live: procd was told to run the agent (service set: command, respawn, logd, triggers)" \
    procd_told_to_run "$R/tmp/ubus-calls"
  if [ "$pm" = opkg ]; then
    check "$pm live: the installed /usr/bin/x0 runs the packaged bytecode on x0-runtime (x0 version)" \
      installed_x0_runs "$R" "$version"
    if installed_x0_has_check "$R"; then
      check "$pm live: x0 agent --check accepts /etc/config/x0tta6bl4 after first boot" installed_config_valid "$R"
    else
      skip "$pm live: x0 agent --check on the installed config" "the packaged bundle has no 'agent --check' (npm run build)"
    fi
  fi
  edit_config_and_keys "$R"
  : > "$R/tmp/ubus-calls"
  if [ "$pm" = opkg ]; then check "$pm live: upgrade" opkg_live "$R" install "/tmp/$(basename "$ipk2")"
  else check "$pm live: upgrade" apk_live "$R" add --upgrade "$apk2"; fi
  check "$pm live: upgrade kept config (new default beside it) and keys, restarted the agent, kept it enabled" \
    live_upgraded_state "$R" "$pm"
  : > "$R/tmp/ubus-calls"
  if [ "$pm" = opkg ]; then check "$pm live: remove" opkg_live "$R" remove x0tta6bl4
  else check "$pm live: remove" apk_live "$R" del x0tta6bl4; fi
  check "$pm live: remove stopped the agent (service delete), disabled it, left config and keys" \
    live_removed_state "$R"
}
lifecycle_live opkg
lifecycle_live apk

# --- the real procd (not PID 1) and ubusd in a chroot: the packaged agent started by its init script ---------
R=$work/root-procd
if make_procd_root "$R" >"$work/procd-root.log" 2>&1; then
  timeout 90 unshare --mount --pid --fork --propagation private chroot "$R" \
    /bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin /bin/sh /tmp/procd-scenario.sh >"$work/procd-scenario.log" 2>&1
  check "procd: /etc/init.d/x0tta6bl4 start -> procd runs the agent's instance (service list: running, command)" \
    procd_running_agent "$R/tmp/facts"
  check "procd: the agent it started answers ubus call x0tta6bl4 status" procd_agent_answers "$R/tmp/facts"
  check "procd: the agent's lines reach syslog tagged x0tta6bl4[PID] (logread -e x0tta6bl4)" procd_log_tagged "$R/tmp/facts"
  check "procd: config change event -> reload trigger -> SIGHUP: same pid, the agent re-read its config" \
    procd_reloaded "$R/tmp/facts"
  check "procd: kill -9 of the agent -> respawned with a new pid" procd_respawned "$R/tmp/facts"
  check "procd: /etc/init.d/x0tta6bl4 stop -> no instance, no agent process" procd_stopped "$R/tmp/facts"
else
  not_ok "procd: a root with the real procd, ubusd and the installed package" "$(cat "$work/procd-root.log")"
fi

# --- the init script and the first-boot script on their own, in a live root ---------------------------------
R=$work/root-init
make_live_root "$R"
sh openwrt-package/install-files.sh openwrt-package/x0tta6bl4/manifest "$root" "$R" \
  runtime="$root/build/x0-runtime" bytecode="$pkgs/work/x0tta6bl4.jsbc"
check "init: start -> service set with the agent's instance and both triggers" init_start_told "$R"
check "init: mesh_interface names a netifd interface directly -> interface trigger on it" init_trigger_netifd_name "$R"
check "init: enabled=0 -> no instance, a message saying how to enable" init_disabled "$R"
check "init: stop -> service delete for x0tta6bl4" init_stop_told "$R"
check "init: reload (no reload_service) -> service set again; procd sends SIGHUP (reload_signal 1)" init_reload_told "$R"
check "uci-defaults: hostname 'OpenWrt' -> node_name x0-<last 3 MAC bytes>; an existing node_name is kept" \
  first_boot_names "$R"
if installed_x0_has_check "$R"; then
  check "uci-defaults: a removed config file -> a valid one (x0 agent --check)" first_boot_rebuilds_config "$R"
else
  skip "uci-defaults: a removed config file -> a valid one" "the packaged bundle has no 'agent --check' (npm run build)"
fi
finish
