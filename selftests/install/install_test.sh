#!/usr/bin/env bash
# meson install into a DESTDIR, then use what it installed: the binaries
# run and load the back-end modules, the man pages and systemd units are
# there (and systemd-analyze verify accepts the units),
# libvblk-frontend.so exports fe_* only, and a
# program built against the installed vblk-frontend.pc, shared and static,
# writes and reads a block through the installed vblkd. Prints TAP.
# Environment (selftests/meson.build): VBLKD_BUILD (the build dir),
# VBLKD_SRC, VBLKD_SANITIZE (the build's b_sanitize, for the program's flags).
# shellcheck disable=SC2317 # the functions run through check()
set -uo pipefail
build=${VBLKD_BUILD:?VBLKD_BUILD is not set}
src=${VBLKD_SRC:?VBLKD_SRC is not set}
tmp=$(mktemp -d /tmp/vblkd-install-XXXXXX)
dest=$tmp/dest
vd_pid=
cleanup() {
	[ -n "$vd_pid" ] && kill "$vd_pid" 2>/dev/null && wait "$vd_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n $1"; }
not_ok() { n=$((n + 1)); failed=1; echo "not ok $n $1"; }
# check NAME COMMAND...: one test point; the command's output as comments.
check() {
	local name=$1 out rc
	shift
	out=$("$@" 2>&1)
	rc=$?
	[ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/# /'
	if [ $rc -eq 0 ]; then ok "$name"; else not_ok "$name"; fi
}

echo "TAP version 13"
echo "1..10"

# The paths meson was configured with, so the test follows any prefix.
introspect=$tmp/dirs.json
meson introspect --buildoptions "$build" > "$introspect"
opt() { python3 -c 'import json,sys
print(next(o["value"] for o in json.load(open(sys.argv[1])) if o["name"] == sys.argv[2]))' \
	"$introspect" "$1"; }
prefix=$(opt prefix)
abs() { case $1 in /*) echo "$1" ;; *) echo "$prefix/$1" ;; esac; }
bindir=$(abs "$(opt bindir)")
libdir=$(abs "$(opt libdir)")
mandir=$(abs "$(opt mandir)")
includedir=$(abs "$(opt includedir)")
sysconfdir=$(abs "$(opt sysconfdir)")
unitdir=$(opt systemdsystemunitdir)
[ -n "$unitdir" ] || unitdir=$prefix/lib/systemd/system
moduledir=$(opt module_dir)
[ -n "$moduledir" ] || moduledir=$libdir/vblkd
moduledir=$(abs "$moduledir")

check "meson install --destdir puts everything under DESTDIR" \
	meson install -C "$build" --no-rebuild --quiet --destdir "$dest"

missing=()
for f in "$bindir/vblkd" "$bindir/vblkctl" "$mandir/man8/vblkd.8" "$mandir/man1/vblkctl.1" \
	"$unitdir/vblkd@.service" "$unitdir/vblkd@.socket" "$unitdir/vblkd-control@.socket" \
	"$sysconfdir/vblkd/example.conf" "$includedir/vblk-frontend/frontend/fe_blk.h" \
	"$includedir/vblk-frontend/proto/vu_msg.h" "$libdir/libvblk-frontend.so" \
	"$libdir/libvblk-frontend.a" "$libdir/pkgconfig/vblk-frontend.pc" \
	"$moduledir/vblkd-backend-nbd.so" "$moduledir/vblkd-backend-rbd.so"; do
	[ -e "$dest$f" ] || missing+=("$f")
done
if [ ${#missing[@]} -eq 0 ]; then
	ok "binaries, back-end modules, man pages, units, example.conf, headers, libraries and .pc are installed"
else
	printf '# missing: %s\n' "${missing[@]}"
	not_ok "binaries, back-end modules, man pages, units, example.conf, headers, libraries and .pc are installed"
fi

check "the installed vblkd and vblkctl run" bash -c \
	"'$dest$bindir/vblkd' --version | grep -qx 'vblkd [0-9.]*' && '$dest$bindir/vblkctl' --help >/dev/null"

# Installed under DESTDIR, the modules are not where vblkd looks: it is told.
# An NBD socket nobody listens on: the module loads, then libnbd fails.
installed_module_loads() {
	local rc
	VBLKD_MODULE_DIR=$dest$moduledir "$dest$bindir/vblkd" --vhost-user "$tmp/nbd.sock" \
		--image "nbd+unix:///?socket=$tmp/none.sock" > "$tmp/nbd.log" 2>&1
	rc=$?
	cat "$tmp/nbd.log"
	[ $rc -eq 2 ] && grep -q "cannot connect" "$tmp/nbd.log"
}
check "the installed vblkd loads the installed NBD module" installed_module_loads

# Anything else exported would become ABI by accident.
syms=$(nm -D --defined-only "$dest$libdir/libvblk-frontend.so" 2>&1)
extra=$(awk '$2 != "A" && $3 !~ /^fe_/ { print }' <<<"$syms")
count=$(awk '$3 ~ /^fe_/' <<<"$syms" | wc -l)
if [ -z "$extra" ] && [ "$count" -gt 20 ]; then
	ok "libvblk-frontend.so exports the $count fe_* functions and nothing else"
else
	printf '# %s\n' "$extra" "fe_* symbols: $count"
	not_ok "libvblk-frontend.so exports the fe_* functions and nothing else"
fi

# The units point at the installed vblkd and the per-instance environment file.
units_ok() {
	local u=$dest$unitdir
	grep -qx "ExecStart=$bindir/vblkd \$VBLKD_ARGS" "$u/vblkd@.service" &&
	grep -qx "EnvironmentFile=$sysconfdir/vblkd/%i.conf" "$u/vblkd@.service" &&
	grep -qx "FileDescriptorName=vhost-user" "$u/vblkd@.socket" &&
	grep -qx "FileDescriptorName=control" "$u/vblkd-control@.socket" &&
	grep -q "^VBLKD_ARGS=--image " "$dest$sysconfdir/vblkd/example.conf" || return 1
	command -v systemd-analyze >/dev/null || { echo "no systemd-analyze: not verified"; return 0; }
	# verify checks that ExecStart exists: point it into DESTDIR.
	mkdir -p "$tmp/units"
	cp "$u"/vblkd* "$tmp/units/"
	sed -i "s|^ExecStart=$bindir/|ExecStart=$dest$bindir/|" "$tmp/units/vblkd@.service"
	local out
	out=$(systemd-analyze verify --man=no "$tmp"/units/* 2>&1) || { echo "$out"; return 1; }
	[ -z "$out" ] || { echo "$out"; return 1; }
}
check "the systemd units name the installed paths and the socket names, and verify" units_ok

# A program against the installed .pc: PKG_CONFIG_SYSROOT_DIR points the
# -I and -L of the .pc into DESTDIR. Sanitizer builds need the program
# built with the same runtime as the library.
export PKG_CONFIG_LIBDIR=$dest$libdir/pkgconfig PKG_CONFIG_SYSROOT_DIR=$dest
san=${VBLKD_SANITIZE:-none}
sanflags=()
[ "$san" != none ] && sanflags=(-fsanitize="$san")
cc=${CC:-cc}
build_shared() {
	# shellcheck disable=SC2046 # pkg-config's words
	$cc -Wall -Wextra -Werror -O2 "${sanflags[@]}" $(pkg-config --cflags vblk-frontend) \
		-o "$tmp/fe_shared" "$src/selftests/install/fe_read_example.c" \
		$(pkg-config --libs vblk-frontend)
}
build_static() {
	# shellcheck disable=SC2046
	$cc -Wall -Wextra -Werror -O2 "${sanflags[@]}" $(pkg-config --cflags vblk-frontend) \
		-o "$tmp/fe_static" "$src/selftests/install/fe_read_example.c" \
		-Wl,-Bstatic $(pkg-config --static --libs vblk-frontend) -Wl,-Bdynamic
}
check "a program builds against the installed vblk-frontend.pc (shared)" build_shared
check "a program builds against the installed vblk-frontend.pc (static)" build_static

# The installed vblkd serves them.
truncate -s 16M "$tmp/disk.img"
"$dest$bindir/vblkd" --vhost-user "$tmp/vu.sock" --image "$tmp/disk.img" > "$tmp/vblkd.log" 2>&1 &
vd_pid=$!
# ldd's output in a variable: grep -q would end a pipe early, and pipefail
# would count ldd's SIGPIPE as a failure.
run_shared() {
	local libs
	libs=$(ldd "$tmp/fe_shared")
	grep -q "$dest$libdir/libvblk-frontend.so.0" <<<"$libs" || { echo "$libs"; return 1; }
	"$tmp/fe_shared" "$tmp/vu.sock"
}
run_static() {
	local libs
	libs=$(ldd "$tmp/fe_static")
	! grep -q libvblk-frontend <<<"$libs" || { echo "$libs"; return 1; }
	"$tmp/fe_static" "$tmp/vu.sock"
}
export LD_LIBRARY_PATH=$dest$libdir
check "the shared-linked program reads back its block from the installed vblkd" run_shared
check "the static-linked program reads back its block from the installed vblkd" run_static
unset LD_LIBRARY_PATH
kill "$vd_pid"
wait "$vd_pid"
rc=$?
vd_pid=
if [ $rc -ne 0 ]; then
	sed 's/^/# vblkd: /' "$tmp/vblkd.log"
	echo "# the installed vblkd exited $rc after SIGTERM"
	failed=1
fi
exit $failed
