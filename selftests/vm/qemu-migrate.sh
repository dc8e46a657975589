#!/bin/bash
# Scenario (c): live migration.  A source QEMU and a destination QEMU
# (-incoming unix:MIGSOCK), each with its own back-end process and socket,
# both back-ends on the same image file.  The guest writes+verifies 1 MiB slots
# with O_DIRECT in a loop; once it has made progress on the source, the host
# migrates it over QMP, quits the source, lets the guest make progress on the
# destination, then writes the stop sentinel into the image; the guest must
# finish with PASS on the destination's serial log, and the host verifies the
# final image content.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

command -v python3 >/dev/null 2>&1 || skip_all "python3 not found (QMP client)"
vm_setup migrate
tap_plan 6
log "backend: $BACKEND"
SLOTS=16
APPEND="vbtest=loop vbslots=$SLOTS vbmin=$((SLOTS + 4)) vbmax=150"
make_image "$T/disk.img" 32
start_backend src "$T/src.sock" "$T/disk.img" "$T/backend-src.log" 1 ||
	bail "source back-end did not come up"
start_backend dst "$T/dst.sock" "$T/disk.img" "$T/backend-dst.log" 1 ||
	bail "destination back-end did not come up"
start_qemu "$T/src.sock" "$T/src-serial.log" "$T/src-qmp.sock" "$APPEND"
src_qemu=$QEMU_PID
start_qemu "$T/dst.sock" "$T/dst-serial.log" "$T/dst-qmp.sock" "$APPEND" \
	-incoming "unix:$T/mig.sock"
dst_qemu=$QEMU_PID

wait_progress "$T/src-serial.log" 3 120 "$src_qemu" ||
	bail "guest loop did not make progress on the source"
log "source at iteration $(progress "$T/src-serial.log"), migrating"

migrate_start
if migrate_wait "$T/src-qmp.sock" 90 completed; then
	summary=$(migrate_summary)
	tap_ok "migration completed ($summary)"
elif [ "$MIG_STATUS" = 'qmp error' ]; then
	bail "QMP query-migrate failed"
else
	tap_fail "migration status '$MIG_STATUS': $MIG_INFO"
	exit 1
fi
migrate_finish "$src_qemu" "$dst_qemu" "$SLOTS"
rc=0; stop_backend src || rc=$?
tap_check "source back-end exits 0 on SIGTERM (rc $rc)" [ $rc = 0 ]
rc=0; stop_backend dst || rc=$?
tap_check "destination back-end exits 0 on SIGTERM (rc $rc)" [ $rc = 0 ]
tap_exit
