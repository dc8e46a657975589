#!/bin/bash
# Live migration with a device-state hand-over at the pre-switchover pause.
# A source QEMU and a destination QEMU (-incoming unix:MIGSOCK), each with its
# own vblkd on the same image (same --image-id), each vblkd with its own
# --control-socket.  The guest writes+verifies 1 MiB slots in a loop (see
# qemu-migrate.sh).  While it runs, `vblkctl state save` against the source
# must be refused (the device is not suspended).  The source QEMU migrates
# with the capability pause-before-switchover; at status pre-switchover (the
# source VM is stopped, so QEMU has stopped the source's rings) the host runs
# `vblkctl migrate --from SRC_CTL --to DST_CTL`, saves the state of both
# back-ends and compares the two blobs byte for byte, then sends
# migrate-continue.  The guest must go on and finish with PASS on the
# destination, the image must hold the guest's data, and both back-ends must
# exit 0 on SIGTERM.
# Environment (besides lib.sh's): VBLKCTL, path to the vblkctl binary
# (default: vblkctl next to $VBLKD).
# Argument "rbd": the disk is an RBD image on a throwaway Ceph cluster
# (rbd_setup), both vblkd on it with the default --image-id (rbd:rbd/disk)
# and Ceph's default image features (exclusive-lock); the host checks the
# image through `rbd export`.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[ "$BACKEND" = vblkd ] || skip_all "BACKEND=$BACKEND: the device-state hand-over needs vblkd"
command -v python3 >/dev/null 2>&1 || skip_all "python3 not found (QMP client)"
VBLKCTL=${VBLKCTL:-$(dirname "${VBLKD:-.}")/vblkctl}
[ -x "$VBLKCTL" ] || skip_all "vblkctl binary not found (VBLKCTL=$VBLKCTL)"
VARIANT=${1:-file}
[ "$VARIANT" = file ] || [ "$VARIANT" = rbd ] || { echo "usage: $0 [file|rbd]" >&2; exit 1; }
vm_setup state-migrate
DISK_ARGS=(--image-id disk0)
if [ "$VARIANT" = rbd ]; then
	rbd_setup 32
	DISK_ARGS=(--image "$RBD_SPEC")
fi
tap_plan 10
SLOTS=16
APPEND="vbtest=loop vbslots=$SLOTS vbmin=$((SLOTS + 4)) vbmax=200"

# wait_socket PATH PID SECONDS: wait for a UNIX socket to appear.
wait_socket() {
	local end=$((SECONDS + $3))
	while [ ! -S "$1" ]; do
		alive "$2" || return 1
		[ $SECONDS -lt $end ] || return 1
		sleep 0.05
	done
}

# ms_now: monotonic-enough wall clock in milliseconds.
ms_now() { echo $(($(date +%s%N) / 1000000)); }

# comment_lines PREFIX FILE: print FILE as TAP comments.
comment_lines() {
	[ -s "$2" ] || return 0
	sed "s/^/# $1: /" "$2"
}

make_image "$T/disk.img" 32
start_backend src "$T/src.sock" "$T/disk.img" "$T/backend-src.log" 1 \
	"${DISK_ARGS[@]}" --control-socket "$T/src-ctl.sock" ||
	bail "source back-end did not come up"
wait_socket "$T/src-ctl.sock" "${BE_PID[src]}" 15 ||
	bail "source back-end: no control socket $T/src-ctl.sock"
start_backend dst "$T/dst.sock" "$T/disk.img" "$T/backend-dst.log" 1 \
	"${DISK_ARGS[@]}" --control-socket "$T/dst-ctl.sock" ||
	bail "destination back-end did not come up"
wait_socket "$T/dst-ctl.sock" "${BE_PID[dst]}" 15 ||
	bail "destination back-end: no control socket $T/dst-ctl.sock"
start_qemu "$T/src.sock" "$T/src-serial.log" "$T/src-qmp.sock" "$APPEND"
src_qemu=$QEMU_PID
start_qemu "$T/dst.sock" "$T/dst-serial.log" "$T/dst-qmp.sock" "$APPEND" \
	-incoming "unix:$T/mig.sock"
dst_qemu=$QEMU_PID

wait_progress "$T/src-serial.log" 2 120 "$src_qemu" ||
	bail "guest loop did not make progress on the source"

# 1. A save while the source's rings run is refused.
nlog=$(wc -l < "$T/backend-src.log")
rc=0
"$VBLKCTL" state save --socket "$T/src-ctl.sock" -o "$T/running.state" --json \
	>"$T/ctl-running.out" 2>"$T/ctl-running.err" || rc=$?
comment_lines "vblkctl state save (running)" "$T/ctl-running.out"
comment_lines "vblkctl state save (running, stderr)" "$T/ctl-running.err"
tail -n +"$((nlog + 1))" "$T/backend-src.log" > "$T/src-log-running"
comment_lines "backend-src" "$T/src-log-running"
# The daemon's reason: state error 13 (STATE_E_BUSY, "not suspended").
err=$(json_get "$(cat "$T/ctl-running.out")" 'd.get("set_error", d.get("check", ""))' 2>/dev/null || true)
if [ $rc -eq 0 ]; then
	tap_fail "vblkctl state save is refused while the source guest runs (it exited 0)"
elif [ "$err" != 13 ] && ! grep -Eqi 'not suspended|ring runs' "$T/ctl-running.err" "$T/src-log-running"; then
	tap_fail "vblkctl state save is refused while the source guest runs (rc $rc, but not for 'not suspended')"
elif [ -e "$T/running.state" ]; then
	tap_fail "vblkctl state save is refused while the source guest runs, but left $T/running.state behind"
else
	tap_ok "vblkctl state save is refused while the source guest runs (rc $rc, state error ${err:-?})"
fi

# The refused attempt must not disturb the guest.
n=$(progress "$T/src-serial.log")
wait_progress "$T/src-serial.log" $((n + 2)) 60 "$src_qemu" ||
	bail "guest loop stalled on the source after the refused save"
log "source at iteration $(progress "$T/src-serial.log"), migrating"

# 2. Migrate with pause-before-switchover; wait for the pause.
qmp "$T/src-qmp.sock" migrate-set-capabilities \
	'{"capabilities": [{"capability": "pause-before-switchover", "state": true}]}' >/dev/null ||
	bail "QMP migrate-set-capabilities pause-before-switchover failed"
migrate_start
if migrate_wait "$T/src-qmp.sock" 120 pre-switchover; then
	paused_ms=$(ms_now)
	st=$(qmp "$T/src-qmp.sock" query-status) || bail "QMP query-status failed"
	running=$(json_get "$st" 'd.get("running")')
	vmst=$(json_get "$st" 'd.get("status")')
	if [ "$running" = False ]; then
		tap_ok "migration paused at pre-switchover, source VM stopped (status $vmst, $((SECONDS - MIG_T0)) s after migrate)"
	else
		tap_fail "migration at pre-switchover but the source VM runs (status $vmst)"
	fi
else
	tap_fail "migration status '$MIG_STATUS', expected pre-switchover: $MIG_INFO"
	dump_logs; exit "$KSFT_FAIL"
fi

# 3. Move the state from the source back-end to the destination back-end.
ms0=$(ms_now)
rc=0
"$VBLKCTL" migrate --from "$T/src-ctl.sock" --to "$T/dst-ctl.sock" --json \
	>"$T/ctl-migrate.out" 2>"$T/ctl-migrate.err" || rc=$?
ms1=$(ms_now)
comment_lines "vblkctl migrate" "$T/ctl-migrate.out"
comment_lines "vblkctl migrate (stderr)" "$T/ctl-migrate.err"
if [ $rc -eq 0 ]; then
	tap_ok "vblkctl migrate moved the device state to the destination ($((ms1 - ms0)) ms wall)"
else
	tap_fail "vblkctl migrate exited $rc"
fi

# 4. Both devices are still suspended: their states must be equal.
# The files hold the state as QEMU's migration stream frames it (the default).
rc_s=0; rc_d=0
"$VBLKCTL" state save --socket "$T/src-ctl.sock" -o "$T/src.state" --json \
	>"$T/ctl-save-src.out" 2>&1 || rc_s=$?
"$VBLKCTL" state save --socket "$T/dst-ctl.sock" -o "$T/dst.state" --json \
	>"$T/ctl-save-dst.out" 2>&1 || rc_d=$?
ms2=$(ms_now)
comment_lines "vblkctl state save (src)" "$T/ctl-save-src.out"
comment_lines "vblkctl state save (dst)" "$T/ctl-save-dst.out"
if [ $rc_s -ne 0 ] || [ $rc_d -ne 0 ]; then
	tap_fail "destination state equals source state: save failed (src rc $rc_s, dst rc $rc_d)"
elif [ ! -s "$T/src.state" ]; then
	tap_fail "destination state equals source state: empty source state"
elif cmp "$T/src.state" "$T/dst.state" > "$T/cmp.out" 2>&1; then
	tap_ok "destination state equals source state ($(stat -c %s "$T/src.state") bytes, byte for byte)"
else
	comment_lines cmp "$T/cmp.out"
	cmp -l "$T/src.state" "$T/dst.state" 2>/dev/null | head -n 20 | sed 's/^/# cmp -l: /' || true
	tap_fail "destination state equals source state"
fi

# 5. Switch over.
qmp "$T/src-qmp.sock" migrate-continue '{"state": "pre-switchover"}' >/dev/null ||
	bail "QMP migrate-continue failed"
cont_ms=$(ms_now)
log "paused at pre-switchover for $((cont_ms - paused_ms)) ms (vblkctl migrate $((ms1 - ms0)) ms, the two saves + cmp $((ms2 - ms1)) ms wall)"
if migrate_wait "$T/src-qmp.sock" 90 completed; then
	summary=$(migrate_summary)
	tap_ok "migration completed ($summary)"
else
	tap_fail "migration status '$MIG_STATUS', expected completed: $MIG_INFO"
	dump_logs; exit "$KSFT_FAIL"
fi
# 6-8. The guest goes on and finishes with PASS on the destination; the image.
migrate_finish "$src_qemu" "$dst_qemu" "$SLOTS"

# 9-10. Clean exits; the control sockets go away too.
for name in src dst; do
	rc=0; stop_backend "$name" || rc=$?
	if [ $rc = 0 ] && [ -e "$T/$name-ctl.sock" ]; then
		log "$name: control socket $T/$name-ctl.sock still exists after exit"
		rc=126
	fi
	tap_check "$name back-end exits 0 on SIGTERM, sockets removed (rc $rc)" [ $rc = 0 ]
done
tap_exit
