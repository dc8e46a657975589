#!/bin/bash
# Scenario (b): like qemu-io.sh but with num-queues=2 and -smp 2: two guest
# writers pinned to CPU 0 and CPU 1 write+verify the two 8 MiB halves in
# parallel with O_DIRECT, so both virtqueues carry requests; the host checks
# the image. The guest also checks it sees 2 hw queues (and, with debugfs,
# that both dispatched requests).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

vm_setup mq
tap_plan 3
log "backend: $BACKEND"
make_image "$T/disk.img" 32
start_backend be "$T/vhost.sock" "$T/disk.img" "$T/backend.log" 2 ||
	bail "back-end did not come up"
SMP=2 NUM_QUEUES=2 start_qemu "$T/vhost.sock" "$T/serial.log" "$T/qmp.sock" "vbtest=mq"
t0=$SECONDS
res=$(await_result "$T/serial.log" 150 "$QEMU_PID")
if [ "$res" = PASS ]; then
	tap_ok "guest two parallel O_DIRECT writers on 2 queues ($((SECONDS - t0)) s)"
	grep -a '^VBTEST-\(DISK\|QUEUE\)' "$T/serial.log" | tr -d '\r' | sed 's/^/# /' || true
else
	tap_fail "guest two parallel O_DIRECT writers on 2 queues: $res"
fi
wait_gone "$QEMU_PID" 30 || true
{ pattern 2 0 16384; pattern 3 16384 16384; } > "$T/expected"
tap_check "image file holds the guest's pattern" check_image "$T/disk.img" 0 "$T/expected"
rc=0; stop_backend be || rc=$?
tap_check "back-end exits 0 on SIGTERM (rc $rc)" [ $rc = 0 ]
tap_exit
