# LuCI on its own server side, for test/luci/run.sh and scripts/luci.sh (sourced, not run).
# A router-shaped root in a temp dir, entered with chroot (nothing is written outside it):
#   /usr                   OpenWrt's tools from build/openwrt/prefix (ubusd, rpcd, uhttpd, ucode, lucihttp)
#   /usr/share/ucode/luci  LuCI's ucode dispatcher + templates, luci.core built from the same LuCI tree
#   /www                   luci-base, luci-mod-status, luci-theme-bootstrap and luci-app-x0tta6bl4 htdocs
#   /etc/config            luci, rpcd (logins root and viewer), x0tta6bl4
# The build prefix path is a symlink to /usr inside the root, so the paths compiled into the tools
# (rpcd's acl.d, ucode's module search path) resolve to the router's paths.
# Host libraries the tools link against are copied in (ldd), with /bin/sh.
# Needs root (chroot, mknod). Caller sets: luci_repo (the repo root).

luci_vendor=${X0_OPENWRT_VENDOR:-$luci_repo/../shared/vendor/openwrt}
luci_prefix=${X0_OPENWRT_PREFIX:-$luci_repo/build/openwrt/prefix}
luci_cache=$luci_repo/build/luci
# Passwords of the two LuCI logins the harness creates (test-only values, on loopback).
luci_root_password=x0-luci-root
luci_viewer_password=x0-luci-viewer
luci_pids=()
# Where uhttpd listens (scripts/luci.sh --listen); tests keep loopback.
luci_listen=127.0.0.1
luci_chroot=$(command -v chroot || echo /usr/sbin/chroot)

luci_die() { echo "luci: $*" >&2; exit 1; }

# A vendor tarball (luci-24.10, luci-master, rpcd, ...), checksum verified. Prints its path.
luci_tarball() { # stem
  local file
  file=$(ls "$luci_vendor"/"$1"-*.tar.gz 2>/dev/null | head -1)
  [ -n "$file" ] || luci_die "no $1-*.tar.gz in $luci_vendor (LuCI versions: 24.10, master; see its README.md)"
  ( cd "$luci_vendor" && grep " $(basename "$file")\$" SHA256SUMS | sha256sum -c --quiet - ) >&2 ||
    luci_die "checksum mismatch for $file: restore the vendor folder from ../shared"
  echo "$file"
}

# Unpacks LuCI and builds luci.core (core.so) once per tarball into build/luci/<stem>/. Prints the tree.
luci_source() { # version
  local file stem dir
  file=$(luci_tarball "luci-$1") || exit 1
  stem=$(basename "$file" .tar.gz)
  dir=$luci_cache/$stem
  if [ ! -f "$dir/.built" ]; then
    rm -rf "$dir"; mkdir -p "$dir"
    tar -xzf "$file" -C "$dir" --strip-components=1
    make -s -C "$dir/modules/luci-base/src" core.so version.uc CPPFLAGS="-I$luci_prefix/include" \
      CFLAGS="-O2 -D_GNU_SOURCE -Wall" FPIC=-fPIC LUCI_VERSION="${stem##*-}" LUCI_GITBRANCH="LuCI $1" \
      >"$dir/build.log" 2>&1 || { tail -20 "$dir/build.log" >&2; luci_die "building luci.core of $stem failed (log: $dir/build.log)"; }
    touch "$dir/.built"
  fi
  echo "$dir"
}

# Copies a host executable or library into the root with every library it needs (ldd), at the same paths.
luci_copy_with_libs() { # root file...
  local root=$1 f lib; shift
  for f in "$@"; do
    for lib in $(ldd "$f" 2>/dev/null | grep -oE '/[^ ]+' | grep -v "^$luci_prefix"); do
      [ -e "$root$lib" ] && continue
      mkdir -p "$root$(dirname "$lib")"
      cp -L "$lib" "$root$lib"
    done
  done
}

# One LuCI package folder (its htdocs, root, ucode) into the root, as luci.mk installs it.
luci_install_package() { # root package-dir
  local root=$1 pkg=$2
  [ -d "$pkg/htdocs" ] && cp -R "$pkg/htdocs/." "$root/www/"
  [ -d "$pkg/root" ] && cp -R "$pkg/root/." "$root/"
  [ -d "$pkg/ucode" ] && cp -R "$pkg/ucode/." "$root/usr/share/ucode/luci/"
  return 0
}

# Lays out the root for one LuCI version with the app in app-dir.
luci_layout() { # root version app-dir
  local root=$1 version=$2 app=$3 src f hash_root hash_viewer
  src=$(luci_source "$version") || exit 1
  for f in sbin/ubusd sbin/rpcd sbin/procd bin/uhttpd bin/ucode lib/ucode/lucihttp.so; do
    [ -e "$luci_prefix/$f" ] || luci_die "$luci_prefix/$f is missing: run bash scripts/openwrt-tools.sh ucode rpcd uhttpd lucihttp procd"
  done
  mkdir -p "$root"/{usr,etc/config,www,tmp,var/run/ubus,dev,bin,root,usr/share/ucode/luci}
  chmod 1777 "$root/tmp"
  cp -a "$luci_prefix/." "$root/usr/"
  mkdir -p "$root$(dirname "$luci_prefix")"
  ln -sfn /usr "$root$luci_prefix"
  [ -e "$root/dev/null" ] || mknod -m 666 "$root/dev/null" c 1 3
  [ -e "$root/dev/zero" ] || mknod -m 666 "$root/dev/zero" c 1 5
  [ -e "$root/dev/urandom" ] || mknod -m 444 "$root/dev/urandom" c 1 9
  cp -L /bin/sh "$root/bin/sh"
  luci_copy_with_libs "$root" /bin/sh "$luci_prefix"/sbin/* "$luci_prefix"/bin/* "$luci_prefix"/lib/*.so \
    "$luci_prefix"/lib/ucode/*.so "$luci_prefix"/lib/rpcd/*.so "$src/modules/luci-base/src/core.so"
  # luci-base, then what it needs to show a page: the status module (the default landing page), the theme.
  luci_install_package "$root" "$src/modules/luci-base"
  luci_install_package "$root" "$src/modules/luci-mod-status"
  luci_install_package "$root" "$src/themes/luci-theme-bootstrap"
  mkdir -p "$root/usr/lib/ucode/luci"
  cp "$src/modules/luci-base/src/core.so" "$root/usr/lib/ucode/luci/core.so"
  cp "$src/modules/luci-base/src/version.uc" "$root/usr/share/ucode/luci/version.uc"
  # ucode-mod-html is not among the pinned sources: a stand-in with the two functions the dispatcher imports.
  cp "$luci_repo/test/luci/html.uc" "$root/usr/share/ucode/html.uc"
  luci_install_package "$root" "$app"
  # rpcd's package installs this ACL (session access/login for every session); its CMake install does not.
  tar -xzf "$(luci_tarball rpcd)" -O rpcd/unauthenticated.json >"$root/usr/share/rpcd/acl.d/unauthenticated.json"
  # uci-defaults of the theme, applied by hand: register bootstrap as the theme.
  cat >>"$root/etc/config/luci" <<'EOF'

config internal 'themes'
	option Bootstrap '/luci-static/bootstrap'
EOF
  hash_root=$(openssl passwd -1 "$luci_root_password")
  hash_viewer=$(openssl passwd -1 "$luci_viewer_password")
  # rpcd logins: root gets every ACL group; viewer only the app's read-only group and what LuCI's
  # pages need to render (luci-base's unauthenticated/read groups are granted to every session by rpcd).
  cat >"$root/etc/config/rpcd" <<EOF
config rpcd
	option socket /var/run/ubus/ubus.sock
	option timeout 30

config login
	option username 'root'
	option password '$hash_root'
	list read '*'
	list write '*'

config login
	option username 'viewer'
	option password '$hash_viewer'
	list read 'luci-app-x0tta6bl4'
	list read 'luci-base'
	list read 'unauthenticated'
EOF
  printf 'root:x:0:0:root:/root:/bin/sh\nviewer:x:1000:1000:viewer:/root:/bin/sh\n' >"$root/etc/passwd"
  printf 'root:%s:19000:0:99999:7:::\nviewer:%s:19000:0:99999:7:::\n' "$hash_root" "$hash_viewer" >"$root/etc/shadow"
  printf 'root:x:0:\n' >"$root/etc/group"
  echo "x0-luci-test" >"$root/etc/hostname"
  # The footer (os-release) and `system board` (openwrt_release) name the system; say plainly what this is.
  printf "NAME=\"Debian chroot\"\nVERSION=\"x0tta6bl4 LuCI test\"\nBUILD_ID=\"-\"\n" >"$root/etc/os-release"
  printf "DISTRIB_ID='Debian chroot'\nDISTRIB_RELEASE='x0tta6bl4 LuCI test'\nDISTRIB_REVISION=''\nDISTRIB_TARGET='x86/64'\nDISTRIB_DESCRIPTION='Debian chroot, x0tta6bl4 LuCI test'\n" >"$root/etc/openwrt_release"
  [ -f "$root/etc/config/x0tta6bl4" ] || cp "$luci_repo/test/luci/x0tta6bl4.config" "$root/etc/config/x0tta6bl4"
}

# The root's UCI file for a real agent (test/luci/x0tta6bl4.agent.config): host paths of the root, a peer port.
luci_agent_config() { # root port
  sed -e "s|@ROOT@|$1|g" -e "s|@PORT@|$2|g" "$luci_repo/test/luci/x0tta6bl4.agent.config" >"$1/etc/config/x0tta6bl4"
  # The agent's node-to-node traffic needs a certificate (no sealed link, no gossip or Raft without one): enrol
  # anchor-1 the way an operator does, with a CA of this run's own.
  local x0=("$luci_repo/build/x0-runtime" "$luci_repo/dist/x0tta6bl4.js") state="$1/etc/x0tta6bl4" token
  "${x0[@]}" ca init --trust-domain mesh.x0 --dir "$1/x0-ca" >/dev/null || return 1
  token=$("${x0[@]}" ca issue-token --node anchor-1 --dir "$1/x0-ca") || return 1
  "${x0[@]}" cert request --token "$token" --dir "$state" >/dev/null || return 1
  "${x0[@]}" ca sign --request "$state/join-request.cbor" --out "$state/node.chain" --bundle-out "$state/bundle.cbor" --dir "$1/x0-ca" >/dev/null
}

# Starts a daemon in the background, keeps its pid; output to root/log/<name>.log.
luci_spawn() { # root name command...
  local root=$1 name=$2; shift 2
  mkdir -p "$root/log"
  # setsid: its own process group, so luci_stop ends the daemon and anything it started.
  setsid "$@" >"$root/log/$name.log" 2>&1 &
  luci_pids+=($!)
  echo $! >"$root/log/$name.pid"
}

luci_wait_for() { # what seconds test-command...
  local what=$1 limit=$2 i; shift 2
  for ((i = 0; i < limit * 10; i++)); do "$@" && return 0; sleep 0.1; done
  echo "luci: $what did not come up in ${limit}s" >&2
  return 1
}

# ubusd, rpcd and uhttpd in the root; the agent command outside it (sh -c), with UBUS_SOCKET and X0_CONFIG set.
luci_start() { # root port agent-command
  local root=$1 port=$2 agent=$3 sock
  sock=$root/var/run/ubus/ubus.sock
  local env=(env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LD_LIBRARY_PATH=/usr/lib HOME=/root)
  luci_spawn "$root" ubusd "${env[@]}" "$luci_chroot" "$root" /usr/sbin/ubusd -s /var/run/ubus/ubus.sock
  luci_wait_for ubusd 10 test -S "$sock" || return 1
  # procd as a plain process (not pid 1) only connects to ubus: its `system` object answers the theme's
  # header (`system board`).
  luci_spawn "$root" procd "${env[@]}" "$luci_chroot" "$root" /usr/sbin/procd -s /var/run/ubus/ubus.sock -S
  luci_wait_for "procd's system object" 10 luci_ubus "$root" list system || return 1
  luci_spawn "$root" rpcd "${env[@]}" "$luci_chroot" "$root" /usr/sbin/rpcd -s /var/run/ubus/ubus.sock -t 30
  luci_wait_for "rpcd's session object" 10 luci_ubus "$root" list session || return 1
  if [ -n "$agent" ]; then
    luci_spawn "$root" agent env UBUS_SOCKET="$sock" X0_CONFIG="$root/etc/config/x0tta6bl4" sh -c "$agent"
    luci_wait_for "the agent's x0tta6bl4 object (log: $root/log/agent.log)" 20 luci_ubus "$root" list x0tta6bl4 || return 1
  fi
  # -n 1: the dispatcher's ubus connection is opened in uhttpd's parent, so concurrent scripts can hang
  # (vendor README, known gaps).
  luci_spawn "$root" uhttpd "${env[@]}" "$luci_chroot" "$root" /usr/bin/uhttpd -f -n 1 -p "$luci_listen:$port" -h /www \
    -x /cgi-bin -u /ubus -U /var/run/ubus/ubus.sock -o /cgi-bin/luci -O /usr/share/ucode/luci/uhttpd.uc -t 60 -T 30
  local probe=$luci_listen
  [ "$probe" = 0.0.0.0 ] && probe=127.0.0.1
  luci_wait_for uhttpd 10 curl -fso /dev/null "http://$probe:$port/luci-static/resources/luci.js" || return 1
}

# The real ubus CLI inside the root.
luci_ubus() { # root args...
  local root=$1; shift
  env -i LD_LIBRARY_PATH=/usr/lib "$luci_chroot" "$root" /usr/bin/ubus -s /var/run/ubus/ubus.sock "$@" >/dev/null 2>&1
}

luci_stop() {
  local pid
  for pid in "${luci_pids[@]}"; do kill -- -"$pid" 2>/dev/null || kill "$pid" 2>/dev/null; done
  for pid in "${luci_pids[@]}"; do wait "$pid" 2>/dev/null; done
  luci_pids=()
}
