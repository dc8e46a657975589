#!/bin/bash
# Suite 'inflight': live migration with requests in flight, by trixie-backports'
# QEMU 11.1 (run inside the trixie chroot by chroot-qemu.sh; its
# vhost-user-blk-pci has the inflight-migration property).
#   qemu-inflight.sh on|off      (the inflight-migration property)
# A source and a destination vblkd on the same image, both throttled
# (INFLIGHT_VBLKD_ARGS, default --throttle-iops 100), 2 queues; the guest's
# inflight mode runs 32 O_DIRECT writers, each writing its own 4 KiB blocks
# with a payload unique to the block, so about 32 requests are in flight
# when the host migrates the guest over QMP.  After the source QEMU quits,
# the guest finishes writing on the destination and verifies every block.
# With inflight-migration=on the in-flight requests travel with the
# migration and the destination vblkd resubmits them ("resubmitting N
# in-flight" in its log, N > 0); with off the source drains them and the
# destination resubmits nothing.  Either way every block must verify, in
# the guest and in the image seen by the host.
# Skips (exit 4) when QEMU >= 11.1 with inflight-migration is not in the
# chroot, or another prerequisite is missing, unless INFLIGHT_REQUIRE=1
# (scripts/check.sh): then it fails.
# Environment (besides lib.sh's): INFLIGHT_VBLKD_ARGS, INFLIGHT_WRITERS (32),
# INFLIGHT_BLOCKS (64 per writer), INFLIGHT_MIG_DELAY (seconds between the
# writers' start and migrate, default 2), NUM_QUEUES (2), VBLKD_CHROOT.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

VARIANT=${1:-on}
case "$VARIANT" in on|off) ;; *) echo "usage: $0 on|off" >&2; exit $KSFT_FAIL ;; esac
CHROOT=${VBLKD_CHROOT:-$CACHE/trixie-chroot}
export VBLKD_CHROOT=$CHROOT
QEMU=$VM_DIR/chroot-qemu.sh
WRITERS=${INFLIGHT_WRITERS:-32}
BLOCKS=${INFLIGHT_BLOCKS:-64}
MIG_DELAY=${INFLIGHT_MIG_DELAY:-2}
VBLKD_THROTTLE=${INFLIGHT_VBLKD_ARGS---throttle-iops 100}
NUM_QUEUES=${NUM_QUEUES:-2}
# shellcheck disable=SC2034 # lib.sh's start_qemu reads SMP and BLK_PROPS
SMP=2

[ "$(id -u)" = 0 ] || need "needs root (chroot, mount namespace)"
command -v unshare >/dev/null 2>&1 || need "unshare not found"
command -v python3 >/dev/null 2>&1 || need "python3 not found (QMP client)"
[ -x "$CHROOT/usr/bin/qemu-system-x86_64" ] ||
	need "no QEMU in $CHROOT (scripts/fetch-trixie-qemu.sh)"
QEMU_VERSION=$("$QEMU" --version 2>&1 | head -n 1) || need "chroot QEMU does not run: $QEMU_VERSION"
read -r qmaj qmin < <(echo "$QEMU_VERSION" | sed -n 's/.*version \([0-9]*\)\.\([0-9]*\).*/\1 \2/p')
[ -n "${qmaj:-}" ] && { [ "$qmaj" -gt 11 ] || { [ "$qmaj" = 11 ] && [ "$qmin" -ge 1 ]; }; } ||
	need "chroot QEMU is not 11.1 or newer: $QEMU_VERSION"
"$QEMU" -device vhost-user-blk-pci,help 2>&1 | grep -q 'inflight-migration=' ||
	need "$QEMU_VERSION: vhost-user-blk-pci has no inflight-migration property"
[ -r "$VMLINUZ" ] || need "no guest kernel at $VMLINUZ"
[ -n "${VBLKD:-}" ] && [ -x "$VBLKD" ] || need "vblkd binary not found (VBLKD=${VBLKD:-unset})"
[ "$BACKEND" = vblkd ] || need "BACKEND=$BACKEND: this test is for vblkd"

vm_setup "inflight-$VARIANT"
# chroot-qemu.sh bind-mounts $T at the same path inside the chroot: the
# kernel goes there too.  Once QEMU is gone, remove the mount point it left.
export VBLKD_CHROOT_BIND=$T
cp "$VMLINUZ" "$T/vmlinuz"
VMLINUZ=$T/vmlinuz
inflight_cleanup() {
	local rc=$? pid
	for pid in "${QEMU_PIDS[@]}"; do kill_wait "$pid"; done
	rmdir "$CHROOT$T" 2>/dev/null || true
	(exit $rc)
	vm_cleanup
}
trap inflight_cleanup EXIT

tap_plan 9
log "variant: inflight-migration=$VARIANT; vblkd args: ${VBLKD_THROTTLE:-none}"
tap_ok "QEMU: $QEMU_VERSION (chroot $CHROOT)"

TAG=$(printf '%04x%04x' $RANDOM $RANDOM)
APPEND="vbtest=inflight vbwriters=$WRITERS vbblocks=$BLOCKS vbtag=$TAG"
make_image "$T/disk.img" $(( (WRITERS * BLOCKS * 4 / 1024) + 8 ))
# shellcheck disable=SC2086
start_backend src "$T/src.sock" "$T/disk.img" "$T/backend-src.log" "$NUM_QUEUES" $VBLKD_THROTTLE ||
	bail "source vblkd did not come up (args: $VBLKD_THROTTLE)"
# shellcheck disable=SC2086
start_backend dst "$T/dst.sock" "$T/disk.img" "$T/backend-dst.log" "$NUM_QUEUES" $VBLKD_THROTTLE ||
	bail "destination vblkd did not come up (args: $VBLKD_THROTTLE)"
# shellcheck disable=SC2034
BLK_PROPS="inflight-migration=$VARIANT"
t_boot=$SECONDS
start_qemu "$T/src.sock" "$T/src-serial.log" "$T/src-qmp.sock" "$APPEND"
src_qemu=$QEMU_PID
start_qemu "$T/dst.sock" "$T/dst-serial.log" "$T/dst-qmp.sock" "$APPEND" \
	-incoming "unix:$T/mig.sock"
dst_qemu=$QEMU_PID

wait_log "$T/src-serial.log" '^VBTEST-INFLIGHT-START' 240 "$src_qemu" ||
	bail "the guest's writers did not start on the source"
log "writers started $((SECONDS - t_boot)) s after boot; migrating in $MIG_DELAY s"
sleep "$MIG_DELAY"

done_count() { grep -ac '^VBTEST-WRITER-DONE' "$1" 2>/dev/null || true; }
migrate_start
if migrate_wait "$T/src-qmp.sock" 180 completed; then
	tap_ok "migration completed ($(migrate_summary), $((SECONDS - MIG_T0)) s)"
elif [ "$MIG_STATUS" = 'qmp error' ]; then
	bail "QMP query-migrate failed"
else
	bail "migration status '$MIG_STATUS': $MIG_INFO"
fi
# The source is stopped now: what its serial log shows is final.
src_done=$(done_count "$T/src-serial.log")
tap_check "writers still running when the migration completed: $((WRITERS - src_done)) of $WRITERS" \
	[ "$src_done" -lt "$WRITERS" ]
qmp "$T/src-qmp.sock" quit >/dev/null || true
rc=0; wait_gone "$src_qemu" 30 || rc=$?
log "source QEMU exited (rc $rc)"

res=$(await_result "$T/dst-serial.log" 300 "$dst_qemu")
log "guest result on the destination: $res ($((SECONDS - MIG_T0)) s after migrate)"
wait_gone "$dst_qemu" 30 || true
ioerr=$(grep -a '^VBTEST-IOERR: ' "$T/dst-serial.log" | tr -d '\r' | awk '{print $2}' || true)
klines=$(cat "$T/src-serial.log" "$T/dst-serial.log" | grep -ac 'I/O error' || true)
if grep -aq '^VBTEST-WRITERS-OK' "$T/dst-serial.log" && [ "${ioerr:-x}" = 0 ] && [ "$klines" = 0 ]; then
	tap_ok "no guest I/O error ($WRITERS writers exited 0, no kernel I/O error)"
else
	grep -a -e '^VBTEST-ERR' -e 'I/O error' "$T/src-serial.log" "$T/dst-serial.log" | head -n 10 | sed 's/^/# /' || true
	tap_fail "guest I/O errors (kernel 'I/O error' lines: ${ioerr:-none reported}, serial: $klines)"
fi
verified=$(grep -a '^VBTEST-VERIFIED: ' "$T/dst-serial.log" | tr -d '\r' | awk '{print $2}' || true)
if [ "$res" = PASS ] && [ "${verified:-0}" = $((WRITERS * BLOCKS)) ]; then
	tap_ok "every block verifies in the guest ($verified blocks)"
else
	grep -a '^VBTEST-BAD' "$T/dst-serial.log" | head -n 10 | sed 's/^/# /' || true
	tap_fail "guest verification: $res (verified: ${verified:-none})"
fi

# The image as the host sees it, block by block.
check_blocks() {
	python3 - "$T/disk.img" "$TAG" "$WRITERS" "$BLOCKS" <<'PY'
import sys
img, tag, nw, nb = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
bad = []
with open(img, "rb") as f:
    for b in range(nw * nb):
        want = "".join("%-63s\n" % ("VBINF %s blk %08d ln %02d" % (tag, b, l))
                       for l in range(64)).encode()
        f.seek(b * 4096)
        if f.read(4096) != want:
            bad.append(b)
if bad:
    print("# %d block(s) differ in the image, first: %s" % (len(bad), bad[:8]))
    sys.exit(1)
PY
}
tap_check "the image holds every block's payload ($((WRITERS * BLOCKS)) blocks, tag $TAG)" check_blocks

resub=$( { grep -o 'resubmitting [0-9]* in-flight' "$T/backend-dst.log" || true; } | awk '{ n += $2 } END { print n + 0 }')
{ grep -e 'GET_VRING_BASE' -e 'captured' "$T/backend-src.log" || true; } |
	sed 's/^[0-9.]* vblkd\[[^]]*\] /# source vblkd: /'
{ grep -e 'resubmitting' "$T/backend-dst.log" || true; } |
	sed 's/^[0-9.]* vblkd\[[^]]*\] /# destination vblkd: /'
# The source's capture-mode stop logs "vq N: stopped at avail A with K
# request(s) captured"; what it captured is what the destination must run.
captured=$( { grep -o 'with [0-9]* request(s) captured' "$T/backend-src.log" || true; } |
	awk '{ n += $2 } END { print n + 0 }')
carried() { [ "$resub" -gt 0 ] && [ "$resub" = "$captured" ]; }
drained() { [ "$resub" = 0 ] && [ "$captured" = 0 ]; }
if [ "$VARIANT" = on ]; then
	tap_check "destination vblkd resubmitted the migrated in-flight requests ($resub, source captured $captured)" \
		carried
else
	tap_check "destination vblkd resubmitted nothing: the source drained ($resub, captured $captured)" \
		drained
fi

rc=0; stop_backend src || rc=$?
tap_check "source vblkd exits 0 on SIGTERM (rc $rc)" [ $rc = 0 ]
rc=0; stop_backend dst || rc=$?
tap_check "destination vblkd exits 0 on SIGTERM (rc $rc)" [ $rc = 0 ]
tap_exit
