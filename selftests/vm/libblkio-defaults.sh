#!/bin/bash
# Suite 'inflight' (the trixie chroot's tier): libblkio 1.5, an independent
# vhost-user-blk front-end (trixie only: libblkio-dev and gcc inside the
# chroot, scripts/fetch-trixie-blkio.sh), with every one of its defaults
# (ring size 256, one queue) against a vblkd with every one of its defaults:
# bench/iops_blkio is built in the chroot and writes, then reads, 4 KiB at
# random for 300 ms each, at QD 1 and 32; every request must succeed.
# Skips (exit 4) without root or libblkio in the chroot, unless
# INFLIGHT_REQUIRE=1 (scripts/check.sh): then it fails.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CHROOT=${VBLKD_CHROOT:-$CACHE/trixie-chroot}
export VBLKD_CHROOT=$CHROOT
SRC=$VM_DIR/../../bench

[ "$(id -u)" = 0 ] || need "needs root (chroot, mount namespace)"
[ -f "$CHROOT/usr/include/blkio.h" ] || need "no libblkio-dev in $CHROOT (scripts/fetch-trixie-blkio.sh)"
[ -x "$CHROOT/usr/bin/gcc" ] || need "no gcc in $CHROOT (scripts/fetch-trixie-blkio.sh)"
[ -n "${VBLKD:-}" ] && [ -x "$VBLKD" ] || need "vblkd binary not found (VBLKD=${VBLKD:-unset})"

T=$(mktemp -d /tmp/vblkd-libblkio.XXXXXX)
VPID=
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	[ -n "$VPID" ] && kill_wait "$VPID"
	rm -rf "$T"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# chroot-qemu.sh binds $T at the same path inside the chroot.
export VBLKD_CHROOT_BIND=$T
in_chroot() { QEMU_BIN=$1 bash "$VM_DIR/chroot-qemu.sh" "${@:2}"; }

tap_plan 5
cp "$SRC/iobench.c" "$SRC/iobench.h" "$SRC/iops_blkio.c" "$T/"
if in_chroot gcc -O2 -Wall -o "$T/iops_blkio" "$T/iops_blkio.c" "$T/iobench.c" \
	-lblkio -lpthread > "$T/gcc.log" 2>&1; then
	tap_ok "iops_blkio built against libblkio $(cat "$CHROOT/.vblkd-blkio" 2>/dev/null)"
else
	sed 's/^/# /' "$T/gcc.log"
	bail "cannot build iops_blkio in the chroot"
fi

truncate -s 64M "$T/disk.img"
"$VBLKD" --vhost-user "$T/vblkd.sock" --image "$T/disk.img" > "$T/vblkd.log" 2>&1 &
VPID=$!
for _ in $(seq 100); do [ -S "$T/vblkd.sock" ] && break; sleep 0.05; done
[ -S "$T/vblkd.sock" ] || { sed 's/^/# /' "$T/vblkd.log"; bail "vblkd did not listen"; }

for w in "randwrite 1" "randwrite 32" "randread 1" "randread 32"; do
	set -- $w
	out=$(in_chroot "$T/iops_blkio" --socket "$T/vblkd.sock" --rw "$1" --qd "$2" \
		--runtime-ms 300 --warmup-ms 0 2>&1) || true
	ios=$(echo "$out" | sed -n 's/.*"ios": \([0-9]*\).*/\1/p')
	errs=$(echo "$out" | sed -n 's/.*"errors": \([0-9]*\).*/\1/p')
	if [ -n "$ios" ] && [ "$ios" -gt 0 ] && [ "$errs" = 0 ]; then
		tap_ok "libblkio defaults, $1 QD$2: $ios requests, 0 errors"
	else
		log "$out"
		tap_fail "libblkio defaults, $1 QD$2: ${ios:-no} requests, ${errs:-?} errors"
	fi
done
kill_wait "$VPID"
VPID=
tap_exit
