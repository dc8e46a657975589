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

t0=$SECONDS
qmp "$T/src-qmp.sock" migrate "{\"uri\": \"unix:$T/mig.sock\"}" >/dev/null ||
	bail "QMP migrate failed"
status=
end=$((SECONDS + 90))
while [ $SECONDS -lt $end ]; do
	info=$(qmp "$T/src-qmp.sock" query-migrate) || bail "QMP query-migrate failed"
	status=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1]).get("status", ""))' "$info")
	case "$status" in
	completed|failed|cancelled) break ;;
	esac
	sleep 0.2
done
if [ "$status" = completed ]; then
	summary=$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print("total %s ms, downtime %s ms" % (d.get("total-time"), d.get("downtime")))' "$info")
	tap_ok "migration completed ($summary)"
else
	tap_fail "migration status '$status': $info"
	exit 1
fi
qmp "$T/src-qmp.sock" quit >/dev/null || true
rc=0; wait_gone "$src_qemu" 30 || rc=$?
log "source QEMU exited (rc $rc); source reached iteration $(progress "$T/src-serial.log")"

# The guest must keep going on the destination.
if wait_progress "$T/dst-serial.log" 1 60 "$dst_qemu"; then
	first=$(progress "$T/dst-serial.log")
	if wait_progress "$T/dst-serial.log" $((first + 2)) 60 "$dst_qemu"; then
		tap_ok "guest I/O continues on the destination (iteration $(progress "$T/dst-serial.log"))"
	else
		tap_fail "guest I/O continues on the destination"
	fi
else
	tap_fail "guest I/O continues on the destination: no progress"
fi
request_stop "$T/disk.img"
if wait_log "$T/dst-serial.log" '^VBTEST-RESULT: ' 90 "$dst_qemu"; then
	res=$(guest_result "$T/dst-serial.log")
	if [ "$res" = PASS ]; then
		tap_ok "guest loop finished with PASS on the destination ($((SECONDS - t0)) s after migrate)"
	else
		tap_fail "guest loop on the destination: $res"
	fi
else
	tap_fail "guest loop on the destination: no result"
fi
wait_gone "$dst_qemu" 30 || true
iters=$(grep -a '^VBTEST-ITERS: ' "$T/dst-serial.log" | tr -d '\r' | awk '{print $2}' || true)
if [ -n "$iters" ]; then
	tap_check "image holds the data of the guest's $iters iterations" \
		check_loop_image "$T/disk.img" "$iters" "$SLOTS"
else
	tap_fail "image check: guest reported no iteration count"
fi
rc=0; stop_backend src || rc=$?
tap_check "source back-end exits 0 on SIGTERM (rc $rc)" [ $rc = 0 ]
rc=0; stop_backend dst || rc=$?
tap_check "destination back-end exits 0 on SIGTERM (rc $rc)" [ $rc = 0 ]
tap_exit
