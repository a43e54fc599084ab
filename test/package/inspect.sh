# Sourced by test/package/run.sh: checks on built packages and on roots. Each function prints what is wrong and
# returns non-zero, or prints nothing and returns 0. Needs: root, prefix, work, keys, pkgs, version.

apk_tool() { LD_LIBRARY_PATH=$prefix/lib "$prefix/bin/apk" "$@"; }
uci_in() { local r=$1; shift; LD_LIBRARY_PATH=$prefix/lib "$prefix/bin/uci" -c "$r/etc/config" "$@"; }

# The manifest's files: "MODE /path" lines, modes without the leading 0 as stat prints them.
manifest_entries() { sh "$root/openwrt-package/install-files.sh" --list "$1" | sed 's/^0//' | sort -k2; }

ipk_unpack() { # IPK -> a fresh directory holding its three members and control/ (printed)
	local d
	d=$(mktemp -d "$work/ipk.XXXXXX")
	tar -xzf "$1" -C "$d" && mkdir "$d/control" && tar -xzf "$d/control.tar.gz" -C "$d/control" && echo "$d"
}

ipk_outer_format() { # IPK
	local members d
	[ "$(head -c 2 "$1" | od -An -tx1 | tr -d ' ')" = 1f8b ] || { echo "not gzip"; return 1; }
	members=$(tar -tzf "$1" | tr '\n' ' ')
	[ "$members" = "./debian-binary ./data.tar.gz ./control.tar.gz " ] || { echo "members: $members"; return 1; }
	d=$(ipk_unpack "$1") || return 1
	[ "$(cat "$d/debian-binary")" = 2.0 ] || { echo "debian-binary: $(cat "$d/debian-binary")"; return 1; }
}

ipk_field() { sed -n "s/^$2: //p" "$1/control/control"; } # UNPACKED FIELD

ipk_control_is() { # IPK name version depends conffiles
	local d size
	d=$(ipk_unpack "$1") || return 1
	[ "$(ipk_field "$d" Package)" = "$2" ] || { echo "Package: $(ipk_field "$d" Package)"; return 1; }
	[ "$(ipk_field "$d" Version)" = "$3" ] || { echo "Version: $(ipk_field "$d" Version)"; return 1; }
	[ "$(ipk_field "$d" Depends)" = "$4" ] || { echo "Depends: $(ipk_field "$d" Depends)"; return 1; }
	[ "$(ipk_field "$d" Architecture)" = x86_64 ] || { echo "Architecture: $(ipk_field "$d" Architecture)"; return 1; }
	size=$(zcat "$d/data.tar.gz" | wc -c)
	[ "$(ipk_field "$d" Installed-Size)" = "$size" ] || { echo "Installed-Size $(ipk_field "$d" Installed-Size) != $size"; return 1; }
	[ "$(cat "$d/control/conffiles" 2>/dev/null)" = "$5" ] || { echo "conffiles: $(cat "$d/control/conffiles" 2>/dev/null)"; return 1; }
}

ipk_installed_size() { local d; d=$(ipk_unpack "$1") && ipk_field "$d" Installed-Size; }

# Files (not directories) of a package against the manifest: same paths, same modes, root-owned. EXTRA lines
# ("MODE /path") are files the builder adds on purpose (apk's lib/apk/packages/*).
files_vs_manifest() { # MANIFEST ACTUAL-FILE [EXTRA...]
	local manifest=$1 actual=$2 expected bad=0 mode path owner
	expected=$(mktemp "$work/expected.XXXXXX"); shift 2
	{ manifest_entries "$manifest"; for extra in "$@"; do echo "$extra"; done; } > "$expected"
	while read -r mode path owner; do
		grep -q " $path\$" "$expected" || { echo "not in the manifest: $path"; bad=1; continue; }
		grep -qx "$mode $path" "$expected" || { echo "mode $mode, manifest says $(grep " $path\$" "$expected")"; bad=1; }
		[ "$owner" = root ] || { echo "owner of $path is $owner, not root"; bad=1; }
	done < "$actual"
	while read -r mode path; do
		grep -q " $path " "$actual" || { echo "missing from the package: $path"; bad=1; }
	done < "$expected"
	return $bad
}

ipk_matches_manifest() { # IPK MANIFEST
	local d actual
	d=$(ipk_unpack "$1") || return 1
	actual=$d/files
	tar -tvzf "$d/data.tar.gz" --numeric-owner | awk '$1 !~ /^d/ {
		m = 0; p = substr($1, 2, 9)
		for (i = 0; i < 9; i++) { c = substr(p, i + 1, 1); if (c != "-") m += 2 ^ (8 - i) }
		owner = ($2 == "0/0") ? "root" : $2; path = $6; sub(/^\./, "", path)
		printf "%o %s %s\n", m, path, owner }' > "$actual"
	files_vs_manifest "$2" "$actual"
}

# apk adbdump -> "MODE /path OWNER" for each file (paths: "- name: DIR" then "files:" with "- name: FILE").
apk_files() { # APK
	apk_tool adbdump "$1" | awk '
		/^paths:/ { inpaths = 1; next }
		/^[a-z]/ { inpaths = 0 }
		!inpaths { next }
		/^  - name: / { dir = $3; next }
		/^  - acl:/ { dir = ""; next }
		/^      - name: / { file = $3; next }
		/^          mode: / && file != "" { mode = $2; sub(/^0/, "", mode) }
		/^          user: / && file != "" { user = $2 }
		/^          group: / && file != "" { print mode, "/" (dir == "" ? "" : dir "/") file, (user == "root" ? "root" : user); file = "" }'
}

apk_matches_manifest() { # APK MANIFEST PKG
	local actual extras=("644 /lib/apk/packages/$3.list")
	actual=$(mktemp "$work/apkfiles.XXXXXX")
	apk_files "$1" > "$actual"
	[ -s "$actual" ] || { echo "no files read from $1"; return 1; }
	if [ -n "$(sed -n 's/^conffile[[:space:]]\{1,\}//p' "$2")" ]; then
		extras+=("644 /lib/apk/packages/$3.conffiles" "644 /lib/apk/packages/$3.conffiles_static")
	fi
	files_vs_manifest "$2" "$actual" "${extras[@]}"
}

apk_info_is() { # APK name version "depends..."
	local dump deps
	dump=$(apk_tool adbdump "$1") || return 1
	echo "$dump" | grep -qx "  name: $2" || { echo "name is not $2"; return 1; }
	echo "$dump" | grep -qx "  version: $3" || { echo "version is not $3"; return 1; }
	echo "$dump" | grep -qx "  arch: x86_64" || { echo "arch is not x86_64"; return 1; }
	deps=$(echo "$dump" | sed -n '/^  depends:/,/^  [a-z]/s/^    - //p' | tr '\n' ' ')
	[ "$deps" = "$4 " ] || { echo "depends: $deps"; return 1; }
	apk_tool verify --keys-dir "$keys" "$1"
}

apk_extract() { # APK -> a directory with its files (printed)
	local d
	d=$(mktemp -d "$work/apkx.XXXXXX")
	apk_tool extract --keys-dir "$keys" --destination "$d" "$1" >/dev/null && echo "$d"
}

apk_conffiles_ok() { # APK CONFFILE
	local d p=x0tta6bl4 sum
	d=$(apk_extract "$1") || { echo "apk extract failed"; return 1; }
	[ "$(cat "$d/lib/apk/packages/$p.conffiles")" = "$2" ] || { echo "conffiles: $(cat "$d/lib/apk/packages/$p.conffiles")"; return 1; }
	sum=$(sha256sum "$d$2" | cut -d' ' -f1)
	[ "$(cat "$d/lib/apk/packages/$p.conffiles_static")" = "$2 $sum" ] ||
		{ echo "conffiles_static: $(cat "$d/lib/apk/packages/$p.conffiles_static"), file sha256 $sum"; return 1; }
}

# Every maintainer script of the packages, parsed (not run) by busybox ash and by dash.
scripts_parse() { # PACKAGE...
	local f d s bad=0 dir name out
	for f in "$@"; do
		dir=$(mktemp -d "$work/scripts.XXXXXX")
		case "$f" in
			*.ipk) d=$(ipk_unpack "$f") || return 1
				for s in postinst prerm postinst-pkg prerm-pkg preinst postrm; do
					[ -f "$d/control/$s" ] && cp "$d/control/$s" "$dir/$s"
				done ;;
			*.apk) apk_tool adbdump "$f" | awk -v dir="$dir" '
					/^scripts:/ { on = 1; next }
					/^[a-z#]/ { on = 0 }
					on && /^  [a-z-]+: \|/ { name = $1; sub(/:$/, "", name); out = dir "/" name; next }
					on && /^    / { sub(/^    /, ""); print > out }' ;;
		esac
		[ -n "$(ls "$dir")" ] || { echo "$f: no maintainer scripts found"; bad=1; }
		for s in "$dir"/*; do
			[ -f "$s" ] || continue
			name="$(basename "$f")/$(basename "$s")"
			out=$(busybox ash -n "$s" 2>&1) || { echo "$name: busybox ash: $out"; bad=1; }
			out=$(dash -n "$s" 2>&1) || { echo "$name: dash: $out"; bad=1; }
		done
	done
	return $bad
}

# The SDK Makefile of PKG in PACKAGE_DIR, evaluated by the SDK stand-in, against the ipk package.sh made.
makefile_matches() { # PACKAGE_DIR PKG IPK
	local dir=$1 p=$2 ipk=$3 dump=$work/sdk-dump/$2 build=$work/sdk-build d bad=0 actual m
	rm -rf "$dump"; mkdir -p "$dump" "$build/x0tta6bl4/out" "$build/x0tta6bl4-xdp/out/bpf"
	cp "$root/build/x0-runtime" "$pkgs/work/x0tta6bl4.jsbc" "$build/x0tta6bl4/out/"
	cp "$root/build/x0-xdp" "$build/x0tta6bl4-xdp/out/"; cp "$root/build/bpf/x0_xdp.o" "$build/x0tta6bl4-xdp/out/bpf/"
	make -s -C "$dir/$p" TOPDIR="$root/test/package/sdk-stand-in" X0_SDK_BUILD="$build" X0_DUMP="$dump" x0-dump ||
		{ echo "make x0-dump failed for $dir/$p/Makefile"; return 1; }
	actual=$dump/files
	(cd "$dump/root" && find . -type f -printf '%m /%P root\n') > "$actual"
	files_vs_manifest "$dir/$p/manifest" "$actual" || bad=1
	d=$(ipk_unpack "$ipk") || return 1
	# The ipk's files (package.sh) and the Makefile's (SDK), both against the same manifest, must also agree.
	tar -tvzf "$d/data.tar.gz" | awk '$1 !~ /^d/ { p = $6; sub(/^\./, "", p); print p }' | sort > "$dump/ipk-paths"
	sed 's/^[0-7]* \([^ ]*\) .*/\1/' "$actual" | sort > "$dump/sdk-paths"
	diff "$dump/sdk-paths" "$dump/ipk-paths" >/dev/null || { echo "SDK vs ipk files:"; diff "$dump/sdk-paths" "$dump/ipk-paths"; bad=1; }
	m() { sed -n "s/^$1 //p" "$dump/meta"; }
	[ "$(m version)" = "$(ipk_field "$d" Version)" ] || { echo "version: Makefile $(m version), ipk $(ipk_field "$d" Version)"; bad=1; }
	[ "$(m license)" = "$(ipk_field "$d" License)" ] || { echo "license: Makefile $(m license), ipk $(ipk_field "$d" License)"; bad=1; }
	[ "$(m section)" = "$(ipk_field "$d" Section)" ] || { echo "section: Makefile $(m section), ipk $(ipk_field "$d" Section)"; bad=1; }
	# SDK DEPENDS (+pkg, @SYMBOL) as the SDK turns them into Depends:, libc added as the SDK adds it.
	deps="libc$(for w in $(m depends); do case "$w" in @* | +@*) ;; *) printf ', %s' "${w#+}" ;; esac; done)"
	[ "$deps" = "$(ipk_field "$d" Depends)" ] || { echo "depends: Makefile '$deps', ipk '$(ipk_field "$d" Depends)'"; bad=1; }
	[ " $(cat "$dump/description")" = "$(ipk_field "$d" Description)" ] || { echo "description differs"; bad=1; }
	[ "$(tr ' ' '\n' < "$dump/conffiles" | sed '/^$/d')" = "$(cat "$d/control/conffiles" 2>/dev/null)" ] ||
		{ echo "conffiles: Makefile '$(cat "$dump/conffiles")', ipk '$(cat "$d/control/conffiles" 2>/dev/null)'"; bad=1; }
	if [ -f "$dump/postinst" ] || [ -f "$d/control/postinst-pkg" ]; then
		cmp -s "$dump/postinst" "$d/control/postinst-pkg" || { echo "postinst: Makefile and ipk postinst-pkg differ"; bad=1; }
	fi
	return $bad
}

makefiles_match_packages() {
	makefile_matches "$root/openwrt-package" x0tta6bl4 "$ipk1" &&
		makefile_matches "$root/openwrt-package" x0tta6bl4-xdp "$xipk1"
}

# A copy of openwrt-package whose Makefile installs one file more than the manifest lists: must be caught.
planted_makefile_drift_caught() {
	local d=$work/drift out
	rm -rf "$d"; mkdir -p "$d"
	cp -r "$root/openwrt-package" "$d/openwrt-package"
	for f in rootfs ubus package.json; do ln -s "$root/$f" "$d/$f"; done
	printf '\tinstall -D -m0644 %s $(1)/etc/stray\n' "$root/package.json" > "$d/extra"
	sed -i '/^define Package\/x0tta6bl4\/install$/r '"$d/extra" "$d/openwrt-package/x0tta6bl4/Makefile"
	grep -q 'etc/stray' "$d/openwrt-package/x0tta6bl4/Makefile" || { echo "could not plant the drift"; return 1; }
	if out=$(makefile_matches "$d/openwrt-package" x0tta6bl4 "$ipk1"); then echo "drift not caught"; return 1; fi
	echo "$out" | grep -q 'not in the manifest: /etc/stray' || { echo "caught, but not named: $out"; return 1; }
}

# The good ipk with one file more in data.tar.gz, packed the way ipkg-build packs.
ipk_with_stray_file() { # IPK -> path of the broken ipk
	local d out=$work/stray
	d=$(ipk_unpack "$1") || return 1
	rm -rf "$out"; mkdir -p "$out/data" "$out/pkg"
	tar -xzf "$d/data.tar.gz" -C "$out/data"
	mkdir -p "$out/data/usr/bin"; echo '#!/bin/sh' > "$out/data/usr/bin/stray"; chmod 755 "$out/data/usr/bin/stray"
	(cd "$out/data" && tar --format=gnu --numeric-owner --owner=0 --group=0 --sort=name -cf - . | gzip -n > "$out/pkg/data.tar.gz")
	cp "$d/control.tar.gz" "$d/debian-binary" "$out/pkg/"
	(cd "$out/pkg" && tar --format=gnu --numeric-owner --owner=0 --group=0 -cf - ./debian-binary ./data.tar.gz ./control.tar.gz | gzip -n > "$out/x0tta6bl4_stray_x86_64.ipk")
	echo "$out/x0tta6bl4_stray_x86_64.ipk"
}

# package.sh on a copy of openwrt-package whose postinst has a syntax error (an `if` without `fi`).
package_with_broken_postinst() { # -> path of the broken ipk
	local d=$work/broken
	rm -rf "$d"; mkdir -p "$d"
	cp -r "$root/openwrt-package" "$d/openwrt-package"
	printf 'if [ -n "$IPKG_INSTROOT" ]; then\n\techo offline\n' >> "$d/openwrt-package/x0tta6bl4/postinst"
	X0_PACKAGE_DIR=$d/openwrt-package bash "$root/scripts/package.sh" --out "$d/out" --format ipk x86_64 >/dev/null 2>&1 ||
		{ echo "package.sh failed on the broken copy"; return 1; }
	cp -r "$keys" "$d/out/keys" 2>/dev/null
	echo "$d/out/x86_64/x0tta6bl4_${version}-1_x86_64.ipk"
}

# --- roots ----------------------------------------------------------------------------------------------------
files_installed() { # ROOT PKG...
	local r=$1 p mode path bad=0 actual; shift
	for p in "$@"; do
		while read -r mode path; do
			[ -f "$r$path" ] || { echo "$p: $path is not installed"; bad=1; continue; }
			actual=$(stat -c %a "$r$path")
			[ "$actual" = "$mode" ] || { echo "$p: $path has mode $actual, manifest says $mode"; bad=1; }
		done < <(manifest_entries "$root/openwrt-package/$p/manifest")
	done
	return $bad
}

init_links_present() { # ROOT
	[ "$(readlink "$1/etc/rc.d/S95x0tta6bl4")" = ../init.d/x0tta6bl4 ] || { echo "no /etc/rc.d/S95x0tta6bl4"; return 1; }
	[ "$(readlink "$1/etc/rc.d/K10x0tta6bl4")" = ../init.d/x0tta6bl4 ] || { echo "no /etc/rc.d/K10x0tta6bl4"; return 1; }
}

offline_install_state() { # ROOT
	init_links_present "$1" || return 1
	[ "$(stat -c %a "$1/etc/x0tta6bl4")" = 700 ] || { echo "state dir mode $(stat -c %a "$1/etc/x0tta6bl4")"; return 1; }
	[ -f "$1/etc/uci-defaults/90-x0tta6bl4" ] || { echo "uci-defaults script ran offline (it must wait for first boot)"; return 1; }
}

edit_config_and_keys() { # ROOT: an operator's edit and a node key, saved for comparison
	uci_in "$1" set x0tta6bl4.main.log_level=debug
	uci_in "$1" set x0tta6bl4.main.listen=0.0.0.0:7401
	uci_in "$1" commit x0tta6bl4
	mkdir -p "$1/etc/x0tta6bl4"
	head -c 64 /dev/urandom > "$1/etc/x0tta6bl4/node.key"
	cp "$1/etc/config/x0tta6bl4" "$1.config-edited"
	cp "$1/etc/x0tta6bl4/node.key" "$1.key"
}

config_and_keys_kept() { # ROOT
	cmp -s "$1/etc/config/x0tta6bl4" "$1.config-edited" || { echo "the edited /etc/config/x0tta6bl4 was not kept:"; diff "$1.config-edited" "$1/etc/config/x0tta6bl4"; return 1; }
	grep -q "option log_level 'debug'" "$1/etc/config/x0tta6bl4" || { echo "edit lost"; return 1; }
	cmp -s "$1/etc/x0tta6bl4/node.key" "$1.key" || { echo "the key in /etc/x0tta6bl4 was not kept"; return 1; }
}

installed_release() { # ROOT PM -> version of x0tta6bl4 the package manager's database records
	if [ "$2" = opkg ]; then sed -n '/^Package: x0tta6bl4$/,/^$/s/^Version: //p' "$1/usr/lib/opkg/status"
	else awk '/^P:x0tta6bl4$/ { on = 1; next } /^$/ { on = 0 } on && /^V:/ { print substr($0, 3) }' "$1/lib/apk/db/installed"; fi
}

# The new default config beside the kept edit: opkg writes it as FILE-opkg, apk as FILE.apk-new.
new_default_beside() { # ROOT PM
	local new
	[ "$2" = opkg ] && new=$1/etc/config/x0tta6bl4-opkg || new=$1/etc/config/x0tta6bl4.apk-new
	cmp -s "$new" "$work/release2/x0tta6bl4.config" || { echo "no new default at ${new#$1}: $(ls "$1/etc/config")"; return 1; }
}

upgraded_state() { # ROOT PM
	local want
	config_and_keys_kept "$1" || return 1
	new_default_beside "$1" "$2" || return 1
	[ "$2" = opkg ] && want=${version}-2 || want=${version}-r2
	[ "$(installed_release "$1" "$2")" = "$want" ] || { echo "installed: $(installed_release "$1" "$2"), want $want"; return 1; }
	init_links_present "$1"
}

removed_state() { # ROOT
	config_and_keys_kept "$1" || return 1
	local f
	for f in /usr/bin/x0-runtime /usr/bin/x0 /etc/init.d/x0tta6bl4 /usr/lib/x0tta6bl4/x0tta6bl4.jsbc /usr/sbin/x0-xdp; do
		[ ! -e "$1$f" ] || { echo "$f is still there"; return 1; }
	done
	[ ! -e "$1/etc/rc.d/S95x0tta6bl4" ] && [ ! -e "$1/etc/rc.d/K10x0tta6bl4" ] || { echo "rc.d links left behind"; return 1; }
}

first_boot_done() { # ROOT NODE_NAME
	[ "$(uci_in "$1" get x0tta6bl4.main.node_name)" = "$2" ] || { echo "node_name: $(uci_in "$1" get x0tta6bl4.main.node_name)"; return 1; }
	[ ! -e "$1/etc/uci-defaults/90-x0tta6bl4" ] || { echo "uci-defaults script not deleted (did it fail?)"; return 1; }
	[ "$(stat -c %a "$1/etc/x0tta6bl4")" = 700 ] || { echo "state dir mode $(stat -c %a "$1/etc/x0tta6bl4")"; return 1; }
	init_links_present "$1"
}

# The last `service set` procd.sh sent, checked field by field (node: no jq on a fresh machine).
procd_told_to_run() { # CALLS-FILE [INTERFACE]
	local json
	json=$(grep '^service set ' "$1" | tail -1 | sed 's/^service set //')
	[ -n "$json" ] || { echo "no 'ubus call service set' recorded; calls: $(cat "$1")"; return 1; }
	JSON=$json IFACE=${2:-mesh} node -e '
		const s = JSON.parse(process.env.JSON), bad = [];
		const eq = (what, a, b) => { if (JSON.stringify(a) !== JSON.stringify(b)) bad.push(`${what}: ${JSON.stringify(a)}, want ${JSON.stringify(b)}`); };
		const a = (s.instances || {}).agent || {};
		eq("name", s.name, "x0tta6bl4");
		eq("script", s.script, "/etc/init.d/x0tta6bl4");
		eq("command", a.command, ["/usr/bin/x0tta6bl4", "agent", "--config", "/etc/config/x0tta6bl4"]);
		eq("respawn", a.respawn, ["3600", "5", "5"]);
		eq("stdout", a.stdout, true); eq("stderr", a.stderr, true);
		eq("file", a.file, ["/etc/config/x0tta6bl4"]);
		eq("reload_signal (SIGHUP)", a.reload_signal, 1);
		eq("config trigger", s.triggers[0], ["config.change", ["if", ["eq", "package", "x0tta6bl4"], ["run_script", "/etc/init.d/x0tta6bl4", "reload"]], 1000]);
		eq("interface trigger", s.triggers[1], ["interface.*", ["if", ["eq", "interface", process.env.IFACE], ["run_script", "/etc/init.d/x0tta6bl4", "reload"]], 1000]);
		if (bad.length) { console.log(bad.join("\n")); process.exit(1); }'
}

live_upgraded_state() { # ROOT PM
	local calls=$1/tmp/ubus-calls
	config_and_keys_kept "$1" || return 1
	new_default_beside "$1" "$2" || return 1
	init_links_present "$1" || return 1
	grep -q '^service delete ' "$calls" || { echo "the old agent was not stopped; calls: $(cat "$calls")"; return 1; }
	[ "$(grep -n '^service set ' "$calls" | tail -1 | cut -d: -f1)" -gt "$(grep -n '^service delete ' "$calls" | head -1 | cut -d: -f1)" ] ||
		{ echo "not started after the stop; calls: $(cat "$calls")"; return 1; }
	procd_told_to_run "$calls"
}

live_removed_state() { # ROOT
	grep -q '^service delete {.*"name": "x0tta6bl4"' "$1/tmp/ubus-calls" || { echo "not stopped; calls: $(cat "$1/tmp/ubus-calls")"; return 1; }
	removed_state "$1"
}

# --- the init script in a live root -----------------------------------------------------------------------------
init_run() { # ROOT ACTION: /etc/init.d/x0tta6bl4 ACTION under busybox, the calls recorded afresh
	: > "$1/tmp/ubus-calls"
	chroot "$1" /bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin /bin/sh /etc/rc.common /etc/init.d/x0tta6bl4 "$2"
}

init_start_told() { init_run "$1" start && procd_told_to_run "$1/tmp/ubus-calls" mesh; }

init_trigger_netifd_name() {
	uci_in "$1" set x0tta6bl4.main.mesh_interface=wan && uci_in "$1" commit x0tta6bl4
	init_run "$1" start && procd_told_to_run "$1/tmp/ubus-calls" wan
	local rc=$?
	uci_in "$1" set x0tta6bl4.main.mesh_interface=bat0 && uci_in "$1" commit x0tta6bl4
	return $rc
}

init_disabled() {
	local out rc=0
	uci_in "$1" set x0tta6bl4.main.enabled=0 && uci_in "$1" commit x0tta6bl4
	out=$(init_run "$1" start 2>&1)
	echo "$out" | grep -q 'uci set x0tta6bl4.main.enabled=1' || { echo "no message: $out"; rc=1; }
	grep -q '"instances": { }' "$1/tmp/ubus-calls" || { echo "an instance was sent: $(cat "$1/tmp/ubus-calls")"; rc=1; }
	uci_in "$1" set x0tta6bl4.main.enabled=1 && uci_in "$1" commit x0tta6bl4
	return $rc
}

init_stop_told() {
	init_run "$1" stop && grep -qx 'service delete { "name": "x0tta6bl4" }' "$1/tmp/ubus-calls" ||
		{ echo "calls: $(cat "$1/tmp/ubus-calls")"; return 1; }
}

init_reload_told() { init_run "$1" reload && procd_told_to_run "$1/tmp/ubus-calls" mesh; }

first_boot_names() {
	local r=$1 name
	run_defaults() {
		cp "$root/rootfs/etc/uci-defaults/90-x0tta6bl4" "$r/etc/uci-defaults/90-x0tta6bl4"
		chroot "$r" /bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin /bin/sh -c 'cd /etc/uci-defaults && . ./90-x0tta6bl4'
	}
	uci_in "$r" set system.@system[0].hostname=OpenWrt && uci_in "$r" set x0tta6bl4.main.node_name= && uci_in "$r" commit
	run_defaults || { echo "uci-defaults failed"; return 1; }
	name=$(uci_in "$r" get x0tta6bl4.main.node_name)
	[ "$name" = x0-123456 ] || { echo "node_name for hostname OpenWrt: '$name', want x0-123456 (MAC 52:54:00:12:34:56)"; return 1; }
	uci_in "$r" set x0tta6bl4.main.node_name=keepme && uci_in "$r" commit
	run_defaults || return 1
	[ "$(uci_in "$r" get x0tta6bl4.main.node_name)" = keepme ] || { echo "an existing node_name was replaced"; return 1; }
}

# --- the agent itself, as installed ----------------------------------------------------------------------------
x0_in() { # ROOT ARGS...: the installed /usr/bin/x0 in the chroot (the host's libc and libsodium copied in)
	local r=$1; shift
	copy_with_libs "$r" "$r/usr/bin/x0-runtime" /tmp/x0-runtime.libs-probe >/dev/null && rm -f "$r/tmp/x0-runtime.libs-probe"
	chroot "$r" /bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin /usr/bin/x0 "$@"
}

installed_x0_runs() { # ROOT VERSION
	local out
	out=$(x0_in "$1" version 2>&1) || { echo "x0 version failed: $out"; return 1; }
	echo "$out" | grep -q "$2" || { echo "x0 version printed '$out', not $2"; return 1; }
}

installed_x0_has_check() { x0_in "$1" agent --help 2>&1 | grep -q -- '--check'; }

installed_config_valid() { # ROOT
	local out
	out=$(x0_in "$1" agent --config /etc/config/x0tta6bl4 --check 2>&1) || { echo "$out"; return 1; }
}

ipk_target_ok() { # IPK MANIFEST TARGET
	local d
	ipk_matches_manifest "$1" "$2" || return 1
	d=$(ipk_unpack "$1") || return 1
	[ "$(ipk_field "$d" Architecture)" = "$3" ] || { echo "Architecture: $(ipk_field "$d" Architecture), want $3"; return 1; }
}

# --- what the real procd did (facts written by fixtures/procd-scenario.sh) --------------------------------------
procd_running_agent() { # FACTS
	JSON=$(cat "$1/service-list.json" 2>/dev/null) node -e '
		const l = JSON.parse(process.env.JSON || "{}"), i = ((l.x0tta6bl4 || {}).instances || {}).agent || {};
		const want = ["/usr/bin/x0tta6bl4", "agent", "--config", "/etc/config/x0tta6bl4"];
		if (i.running !== true) { console.log("instance agent not running: " + process.env.JSON); process.exit(1); }
		if (JSON.stringify(i.command) !== JSON.stringify(want)) { console.log("command " + JSON.stringify(i.command)); process.exit(1); }
		if (JSON.stringify(i.respawn) !== JSON.stringify({ threshold: 3600, timeout: 5, retry: 5 })) { console.log("respawn " + JSON.stringify(i.respawn)); process.exit(1); }'
}

procd_agent_answers() {
	JSON=$(cat "$1/status.json" 2>/dev/null) VERSION=$version node -e '
		const s = JSON.parse(process.env.JSON || "{}");
		if (!["running", "degraded", "starting"].includes(s.state)) { console.log("status: " + process.env.JSON); process.exit(1); }
		if (s.version !== process.env.VERSION) { console.log("version " + s.version + ", want " + process.env.VERSION); process.exit(1); }'
}

procd_log_tagged() { grep -qE "x0tta6bl4\[$(cat "$1/pid-started")\]: .*agent" "$1/messages" || { echo "no agent line tagged x0tta6bl4[$(cat "$1/pid-started")]:"; tail -5 "$1/messages"; return 1; }; }

procd_reloaded() {
	[ -n "$(cat "$1/pid-started")" ] && [ "$(cat "$1/pid-started")" = "$(cat "$1/pid-after-reload")" ] ||
		{ echo "pid $(cat "$1/pid-started") -> $(cat "$1/pid-after-reload") (restarted, not signalled)"; return 1; }
	grep -E "x0tta6bl4\[$(cat "$1/pid-started")\]: .*(reload|SIGHUP)" "$1/messages" | grep -q . ||
		{ echo "the agent logged no reload after the config change"; grep x0tta6bl4 "$1/messages" | tail -5; return 1; }
}

procd_respawned() {
	local a b
	a=$(cat "$1/pid-started"); b=$(cat "$1/pid-respawned")
	[ -n "$b" ] && [ "$a" != "$b" ] || { echo "pid before $a, after kill -9: '$b'"; return 1; }
}

procd_stopped() {
	! grep -q '"agent"' "$1/service-list-stopped.json" || { echo "instance still listed: $(cat "$1/service-list-stopped.json")"; return 1; }
	! grep -q 'x0tta6bl4 agent\|x0-runtime' "$1/ps-stopped" || { echo "agent still running: $(grep 'x0' "$1/ps-stopped")"; return 1; }
}

first_boot_rebuilds_config() { # ROOT (with the agent's files)
	local r=$1
	rm -f "$r/etc/config/x0tta6bl4"
	cp "$root/rootfs/etc/uci-defaults/90-x0tta6bl4" "$r/etc/uci-defaults/90-x0tta6bl4"
	chroot "$r" /bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin /bin/sh -c 'cd /etc/uci-defaults && . ./90-x0tta6bl4' ||
		{ echo "uci-defaults failed"; return 1; }
	[ "$(uci_in "$r" get x0tta6bl4.main.role)" = node ] || { echo "role: $(uci_in "$r" get x0tta6bl4.main.role)"; return 1; }
	installed_config_valid "$r"
}
