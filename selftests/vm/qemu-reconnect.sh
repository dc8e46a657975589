#!/bin/bash
# Scenario (d): back-end crash and reconnect.  QEMU's chardev has
# reconnect-ms=1000; the guest writes+verifies 1 MiB slots with O_DIRECT in a
# loop; the host kills the back-end with SIGKILL 5 times, each time right
# after the guest finished an iteration (so its next write is in flight), and
# restarts it on the same socket.  The guest must see no I/O error or
# mismatch, make progress after every restart, and finish with PASS; the host
# verifies the final image.  For BACKEND=vblkd, at least one restarted
# back-end must log a line containing "resubmitting" (in-flight requests
# recovered from QEMU's inflight region).  So that a kill always finds
# requests in flight, vblkd runs with --io-delay-ms (a slow disk): each
# request spends that long between leaving the ring and reaching the image.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

vm_setup reconnect
KILLS=${VBTEST_KILLS:-5}
tap_plan 5
log "backend: $BACKEND"
SLOTS=16
if [ "$BACKEND" = vblkd ]; then
	VBLKD_ARGS="${VBLKD_ARGS:-} --io-delay-ms ${VBTEST_IO_DELAY_MS:-20}"
	log "vblkd runs with --io-delay-ms ${VBTEST_IO_DELAY_MS:-20}"
fi
make_image "$T/disk.img" 32
start_backend be "$T/vhost.sock" "$T/disk.img" "$T/backend-0.log" 1 ||
	bail "back-end did not come up"
RECONNECT_MS=1000 start_qemu "$T/vhost.sock" "$T/serial.log" "$T/qmp.sock" \
	"vbtest=loop vbslots=$SLOTS vbmin=$((SLOTS + 4)) vbmax=170 vbaux=4"
qemu=$QEMU_PID
wait_progress "$T/serial.log" 2 120 "$qemu" ||
	bail "guest loop did not make progress"

t0=$SECONDS
recovered=0
delays=(0 0.04 0.08 0.02 0.06)
for ((k = 1; k <= KILLS; k++)); do
	# Kill shortly after an iteration completes: the guest is then starting
	# its next write, and its background reader is usually mid-read.
	n=$(progress "$T/serial.log")
	wait_progress "$T/serial.log" $((n + 1)) 60 "$qemu" || break
	sleep "${delays[k % ${#delays[@]}]}"
	kill9_backend be
	n=$(progress "$T/serial.log")
	log "kill $k: SIGKILL at guest iteration $n"
	sleep 0.3
	start_backend be "$T/vhost.sock" "$T/disk.img" "$T/backend-$k.log" 1 ||
		{ log "back-end restart $k failed"; break; }
	if ! wait_progress "$T/serial.log" $((n + 2)) 60 "$qemu"; then
		log "no guest progress after restart $k"
		break
	fi
	recovered=$k
done
if [ $recovered = "$KILLS" ]; then
	tap_ok "guest made progress after each of $KILLS back-end kills ($((SECONDS - t0)) s)"
else
	tap_fail "guest made progress after each of $KILLS back-end kills (only $recovered)"
fi

request_stop "$T/disk.img"
res=$(await_result "$T/serial.log" 60 "$qemu")
if [ "$res" = PASS ]; then
	tap_ok "guest saw no I/O error or mismatch (PASS)"
else
	tap_fail "guest result: $res"
fi
wait_gone "$qemu" 30 || kill_wait "$qemu"
iters=$(grep -a '^VBTEST-ITERS: ' "$T/serial.log" | tr -d '\r' | awk '{print $2}' || true)
if [ -n "$iters" ]; then
	tap_check "image holds the data of the guest's $iters iterations" \
		check_loop_image "$T/disk.img" "$iters" "$SLOTS"
else
	tap_fail "image check: guest reported no iteration count"
fi
if [ "$BACKEND" = vblkd ]; then
	if grep -h resubmitting "$T"/backend-*.log | sed 's/^/# /' | grep -q .; then
		grep -h resubmitting "$T"/backend-*.log | sed 's/^/# /'
		tap_ok "a restarted back-end resubmitted in-flight requests"
	else
		tap_fail "a restarted back-end resubmitted in-flight requests (no 'resubmitting' log line)"
	fi
else
	tap_skip "resubmitting log check (only for BACKEND=vblkd)"
fi
if [ -n "${BE_PID[be]:-}" ]; then
	rc=0; stop_backend be || rc=$?
	tap_check "back-end exits 0 on SIGTERM (rc $rc)" [ $rc = 0 ]
else
	tap_fail "back-end exits 0 on SIGTERM (not running)"
fi
tap_exit
