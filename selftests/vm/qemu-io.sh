#!/bin/bash
# Scenario (a): a TCG guest writes 16 MiB of a deterministic pattern to the
# vhost-user-blk disk with O_DIRECT, reads it back with O_DIRECT and compares;
# the host then compares the image file with the same pattern.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

vm_setup io
tap_plan 3
log "backend: $BACKEND"
make_image "$T/disk.img" 32
start_backend be "$T/vhost.sock" "$T/disk.img" "$T/backend.log" 1 ||
	bail "back-end did not come up"
start_qemu "$T/vhost.sock" "$T/serial.log" "$T/qmp.sock" "vbtest=write16"
t0=$SECONDS
res=$(await_result "$T/serial.log" 150 "$QEMU_PID")
if [ "$res" = PASS ]; then
	tap_ok "guest O_DIRECT write/read-back of 16 MiB ($((SECONDS - t0)) s)"
else
	tap_fail "guest O_DIRECT write/read-back of 16 MiB: $res"
fi
wait_gone "$QEMU_PID" 30 || true
pattern 1 0 32768 > "$T/expected"
tap_check "image file holds the guest's pattern" check_image "$T/disk.img" 0 "$T/expected"
rc=0; stop_backend be || rc=$?
tap_check "back-end exits 0 on SIGTERM (rc $rc)" [ $rc = 0 ]
tap_exit
