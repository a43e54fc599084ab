#!/bin/sh
# Installs a package's files as its manifest lists them (`file MODE SOURCE DEST` lines) into
# DESTDIR. The OpenWrt SDK Makefiles (Package/<name>/install) and scripts/package.sh both call this, so the two
# builds cannot install different files. SOURCE is relative to the repository root, or @NAME, resolved by a
# NAME=PATH argument (@runtime, @bytecode, @xdp, @bpf: the build's outputs for the target).
# Usage: sh install-files.sh MANIFEST REPO_ROOT DESTDIR [NAME=PATH...]
#        sh install-files.sh --list MANIFEST    (print MODE DEST of every entry)
set -eu
usage() { sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; }
fail() { echo "install-files: $*" >&2; exit 1; }
case "${1:-}" in
	-h|--help) usage; exit 0 ;;
	--list) [ $# -eq 2 ] || fail "--list takes one MANIFEST (--help)"
		sed -n 's/^file[[:space:]]\{1,\}\([0-7]\{4\}\)[[:space:]]\{1,\}[^[:space:]]\{1,\}[[:space:]]\{1,\}\(\/[^[:space:]]*\)[[:space:]]*$/\1 \2/p' "$2"
		exit 0 ;;
esac
[ $# -ge 3 ] || { usage >&2; exit 2; }
manifest=$1 repo=$2 dest=$3
shift 3
[ -f "$manifest" ] || fail "no manifest $manifest"
[ -d "$repo" ] || fail "no repository root $repo"
resolve() { # @NAME -> the PATH given as NAME=PATH
	name=${1#@}
	for pair in $outputs; do
		[ "${pair%%=*}" = "$name" ] && { echo "${pair#*=}"; return 0; }
	done
	fail "$manifest names $1 but no $name=PATH was given (the build did not produce it)"
}
outputs="$*"
line_no=0
while IFS= read -r line || [ -n "$line" ]; do
	line_no=$((line_no + 1))
	set -f; set -- $line; set +f
	case "${1:-#}" in
	file)
		[ $# -eq 4 ] || fail "$manifest:$line_no: want 'file MODE SOURCE DEST'"
		mode=$2 src=$3 dst=$4
		case "$src" in @*) src=$(resolve "$src") ;; *) src=$repo/$src ;; esac
		case "$dst" in /*) ;; *) fail "$manifest:$line_no: DEST must be absolute: $dst" ;; esac
		[ -f "$src" ] || fail "$manifest:$line_no: $src does not exist (build it first: bash scripts/setup.sh)"
		mkdir -p "$dest$(dirname "$dst")"
		cp "$src" "$dest$dst"
		chmod "$mode" "$dest$dst" ;;
	esac
done < "$manifest"
