#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The NBD and RBD back-ends are modules (backends/backend_module.h): vblkd
# links neither libnbd nor librbd, each module exports one symbol and needs
# from vblkd only what vblkd exports, build/vblkd finds the build tree's
# modules, VBLKD_MODULE_DIR comes first, and a module that is nowhere to be
# found is one error line and exit status 2. Prints TAP.
# Environment (selftests/host/meson.build): VBLKD, the build tree's vblkd.
set -u
: "${VBLKD:?}"
mods=$(dirname "$VBLKD")/backends
dir=$(mktemp -d /tmp/vblkd-modules.XXXXXX)
trap 'rm -rf "$dir"' EXIT

n=0
failed=0
# point NAME COMMAND...: one test point; the command's output as comments.
point() {
	local name=$1 out rc
	shift
	out=$("$@" 2>&1)
	rc=$?
	[ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/# /'
	n=$((n + 1))
	if [ $rc -eq 0 ]; then echo "ok $n $name"; else echo "not ok $n $name"; failed=1; fi
}

echo "TAP version 13"
echo "1..6"

no_heavy_libs() {
	local needed
	needed=$(readelf -d "$VBLKD" | awk '/NEEDED/ { print $NF }')
	echo "$needed"
	! grep -Eq 'libnbd|librbd|librados' <<<"$needed"
}
point "vblkd links neither libnbd nor librbd nor librados" no_heavy_libs

one_export() {
	local m defs
	for m in "$mods"/vblkd-backend-nbd.so "$mods"/vblkd-backend-rbd.so; do
		# (ASan adds __odr_asan.* twins of exported data.)
		defs=$(nm -D --defined-only "$m" | awk '$2 != "A" && $3 !~ /^__odr_asan/ { print $3 }') ||
			return 1
		[ "$defs" = vb_backend_module ] || { echo "$m: $defs"; return 1; }
	done
}
point "each module exports vb_backend_module and nothing else" one_export

# What a module takes from vblkd must be in vblkd's dynamic symbol table
# (backends/module-exports.list); dlopen would fail on the first missing.
core_syms_exported() {
	local m s missing=0
	for m in "$mods"/vblkd-backend-*.so; do
		for s in $(nm -D --undefined-only "$m" | awk '$2 ~ /^vb_/ { print $2 }'); do
			nm -D --defined-only "$VBLKD" | awk '{ print $3 }' | grep -qx "$s" ||
				{ echo "$m needs $s, which vblkd does not export"; missing=1; }
		done
	done
	return $missing
}
point "vblkd exports every core symbol the modules call" core_syms_exported

# run LOG VBLKD ARGS...: vblkd on a disk it cannot reach; its exit status.
run() {
	local log=$1
	shift
	timeout 60 "$@" --vhost-user "$dir/vu.sock" >"$log" 2>&1
}

# A UNIX socket nobody listens on: libnbd fails to connect, after the module loaded.
nbd_spec="nbd+unix:///?socket=$dir/none.sock"

build_tree_module() {
	run "$dir/build.log" "$VBLKD" --image "$nbd_spec"
	local rc=$?
	cat "$dir/build.log"
	[ $rc -eq 2 ] && grep -q "cannot connect" "$dir/build.log" &&
		! grep -q "cannot load module" "$dir/build.log"
}
point "build/vblkd loads the build tree's NBD module" build_tree_module

# A copy outside the build tree looks only in VBLKD_MODULE_DIR and the install dir.
mkdir -p "$dir/bin" "$dir/empty"
cp "$VBLKD" "$dir/bin/vblkd"

env_dir_first() {
	VBLKD_MODULE_DIR=$mods run "$dir/env.log" "$dir/bin/vblkd" --image "$nbd_spec"
	local rc=$?
	cat "$dir/env.log"
	[ $rc -eq 2 ] && grep -q "cannot connect" "$dir/env.log"
}
point "VBLKD_MODULE_DIR names where the modules are" env_dir_first

missing_module() {
	VBLKD_MODULE_DIR=$dir/empty run "$dir/missing.log" "$dir/bin/vblkd" \
		--image "rbd:pool/image:conf=$dir/none.conf"
	local rc=$? lines
	cat "$dir/missing.log"
	if grep -q "rados\|Ceph configuration" "$dir/missing.log"; then
		echo "an installed vblkd-backend-rbd.so was found: nothing to check"
		return 0
	fi
	lines=$(grep -c "cannot load module .*/vblkd-backend-rbd.so: .*No such file" \
		"$dir/missing.log")
	[ $rc -eq 2 ] && [ "$lines" -eq 1 ] && grep -q "(nor in $dir/empty)" "$dir/missing.log"
}
point "a missing module is one error line naming it, and exit status 2" missing_module

exit $failed
