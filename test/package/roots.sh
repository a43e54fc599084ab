# Sourced by test/package/run.sh: offline router roots and the real package managers that work on them.
# Needs: root (repository), prefix (build/openwrt/prefix), vendor (../shared/vendor/openwrt), work, pkgs, keys.

base="$vendor/openwrt-base/package"

opkg_in() { # ROOT ARGS...: opkg-lede on an offline root, as OpenWrt's image build runs it (IPKG_INSTROOT set)
	local r=$1; shift
	IPKG_INSTROOT=$r LD_LIBRARY_PATH=$prefix/lib "$prefix/bin/opkg-cl" --offline-root "$r" --force-postinstall \
		--add-dest root:/ --add-arch all:100 --add-arch x86_64:200 "$@"
}

apk_in() { # ROOT ARGS...: apk-tools v3 on an offline root (IPKG_INSTROOT set, scripts not chrooted)
	local r=$1; shift
	IPKG_INSTROOT=$r LD_LIBRARY_PATH=$prefix/lib "$prefix/bin/apk" --root "$r" --keys-dir "$keys" --no-cache \
		--no-logfile --preserve-env --force-no-chroot "$@"
}

apk_live() { # ROOT ARGS...: apk-tools v3 as on a running router: scripts run chrooted in ROOT, IPKG_INSTROOT unset
	local r=$1; shift
	env -u IPKG_INSTROOT LD_LIBRARY_PATH=$prefix/lib "$prefix/bin/apk" --root "$r" --keys-dir "$keys" --no-cache \
		--no-logfile "$@"
}

opkg_live() { # ROOT ARGS...: opkg-lede run inside ROOT (chroot) as on a running router, IPKG_INSTROOT unset
	local r=$1; shift
	chroot "$r" /bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin /bin/opkg "$@"
}

# A minimal OpenWrt /: rc.common, functions.sh (+ the default_postinst stand-in), procd.sh, jshn.sh, the UCI
# files the agent's scripts read, opkg's configuration.
make_root() { # DIR
	local r=$1
	rm -rf "$r"
	mkdir -p "$r"/etc/config "$r"/etc/rc.d "$r"/etc/init.d "$r"/lib/functions "$r"/usr/share/libubox \
		"$r"/usr/lib/opkg "$r"/tmp "$r"/var/lock "$r"/var/run "$r"/lib/apk/packages
	cp "$base/base-files/files/etc/rc.common" "$r/etc/rc.common"
	cat "$base/base-files/files/lib/functions.sh" "$root/test/package/fixtures/default-postinst.sh" > "$r/lib/functions.sh"
	cp "$base/base-files/files/lib/functions/service.sh" "$r/lib/functions/service.sh"
	cp "$base/system/procd/files/procd.sh" "$r/lib/functions/procd.sh"
	cp "$prefix/share/libubox/jshn.sh" "$r/usr/share/libubox/jshn.sh"
	cp "$root/rootfs/etc/config/network" "$r/etc/config/network"
	printf "config system\n\toption hostname 'router7'\n" > "$r/etc/config/system"
	printf 'dest root /\nlists_dir ext /var/opkg-lists\noption overlay_root /overlay\n' > "$r/etc/opkg.conf"
}

copy_with_libs() { # ROOT BINARY DEST: BINARY and the shared libraries it loads (ldd), into ROOT
	local r=$1 bin=$2 dest=$3 lib
	mkdir -p "$r$(dirname "$dest")" "$r/usr/lib"
	cp "$bin" "$r$dest"
	for lib in $(LD_LIBRARY_PATH=$prefix/lib ldd "$bin" | sed -n 's/.*=> \(\/[^ ]*\).*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) (.*/\1/p'); do
		case "$lib" in
			"$prefix"/lib/*) cp -L "$lib" "$r/usr/lib/$(basename "$lib")" ;; # OpenWrt's libraries: /usr/lib
			*) mkdir -p "$r$(dirname "$lib")"; cp -L "$lib" "$r$lib" ;;
		esac
	done
}

# A root a chroot can run: busybox (OpenWrt's shell and applets), the real uci, jshn and opkg, and a `ubus`
# that records what the init script tells procd (procd itself cannot run here: it wants to be PID 1).
make_live_root() { # DIR
	local r=$1 applet
	make_root "$r"
	mkdir -p "$r/bin" "$r/sbin" "$r/usr/bin" "$r/usr/sbin" "$r/proc" "$r/sys/class/net/eth0"
	cp "$root/rootfs/etc/passwd" "$root/rootfs/etc/group" "$r/etc/" # ubusd checks its peers' users
	cp "$(command -v busybox)" "$r/bin/busybox"
	for applet in $("$r/bin/busybox" --list); do
		[ -e "$r/bin/$applet" ] || ln -s busybox "$r/bin/$applet"
	done
	mkdir -p "$r/dev"
	mknod -m 666 "$r/dev/null" c 1 3 2>/dev/null || : > "$r/dev/null"
	mknod -m 444 "$r/dev/urandom" c 1 9 2>/dev/null || head -c 4096 /dev/urandom > "$r/dev/urandom" # ubusd's ids
	copy_with_libs "$r" "$(command -v flock)" /usr/bin/flock # OpenWrt's busybox has flock, Debian's does not
	copy_with_libs "$r" "$prefix/bin/uci" /sbin/uci
	copy_with_libs "$r" "$prefix/bin/jshn" /usr/bin/jshn
	copy_with_libs "$r" "$prefix/bin/opkg-cl" /bin/opkg
	cp "$root/test/package/fixtures/ubus-recorder" "$r/bin/ubus"
	chmod 755 "$r/bin/ubus"
	echo '52:54:00:12:34:56' > "$r/sys/class/net/eth0/address"
}

# Stand-ins for the base system's packages the agent depends on (libc, libsodium, libmbedtls, libbpf): empty packages with
# the real names, so the package managers resolve Depends as on a router. The libraries themselves come from
# the host (copy_with_libs); these packages only carry their names.
make_base_packages() { # OUTDIR
	local d=$1 name dir
	mkdir -p "$d"
	for name in libc libsodium libmbedtls libbpf; do
		dir=$work/base-src/$name
		rm -rf "$dir"; mkdir -p "$dir/CONTROL" "$dir/usr/share/doc/$name"
		echo "stand-in for the router's $name" > "$dir/usr/share/doc/$name/README"
		printf 'Package: %s\nVersion: 1.0-1\nArchitecture: x86_64\nInstalled-Size: 0\nDescription:  %s\n' \
			"$name" "the router's $name (test stand-in)" > "$dir/CONTROL/control"
		bash "$vendor/openwrt-base/scripts/ipkg-build" "$dir" "$d" >/dev/null || return 1
		rm -rf "$dir/CONTROL"
		LD_LIBRARY_PATH=$prefix/lib "$prefix/bin/apk" mkpkg --info "name:$name" --info "version:1.0-r1" \
			--info "arch:x86_64" --info "description:the router's $name (test stand-in)" --files "$dir" \
			--output "$d/$name-1.0-r1.apk" --sign "$keys/private-key.pem" >/dev/null || return 1
	done
}

# A live root with the package installed by opkg and the real ubusd, ubus and procd in place of the recorder.
make_procd_root() { # DIR
	local r=$1
	make_live_root "$r"
	cp "$base_pkgs"/libc_*.ipk "$base_pkgs"/libsodium_*.ipk "$base_pkgs"/libmbedtls_*.ipk "$ipk1" "$r/tmp/"
	# ubusd is not running yet: the init script's start at install time cannot reach procd (not checked here).
	opkg_live "$r" install /tmp/libc_1.0-1_x86_64.ipk /tmp/libsodium_1.0-1_x86_64.ipk /tmp/libmbedtls_1.0-1_x86_64.ipk "/tmp/$(basename "$ipk1")" || return 1
	copy_with_libs "$r" "$prefix/sbin/procd" /sbin/procd
	copy_with_libs "$r" "$prefix/sbin/ubusd" /sbin/ubusd
	copy_with_libs "$r" "$prefix/bin/ubus" /bin/ubus
	copy_with_libs "$r" "$r/usr/bin/x0-runtime" /tmp/x0-runtime.libs && rm -f "$r/tmp/x0-runtime.libs"
	cp "$root/test/package/fixtures/procd-scenario.sh" "$r/tmp/procd-scenario.sh"
}
