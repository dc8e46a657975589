#!/bin/bash
# Online resize: a TCG guest waits on /sys/block/vda/size while the host runs
# `vblkctl resize` on vblkd's --mgmt-socket. vblkd sends
# VHOST_USER_BACKEND_CONFIG_CHANGE_MSG on the back-end channel QEMU gave it
# (SET_BACKEND_REQ_FD); QEMU re-reads the config (GET_CONFIG) and raises the
# guest's config interrupt. The guest then sees the new size without a
# reboot and writes and reads back the last MiB of it.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[ "$BACKEND" = vblkd ] || skip_all "the management socket is vblkd's"
VBLKCTL=${VBLKCTL:-$(dirname "$VBLKD")/vblkctl}
vm_setup resize
tap_plan 4
make_image "$T/disk.img" 32
start_backend be "$T/vhost.sock" "$T/disk.img" "$T/backend.log" 1 \
	--mgmt-socket "$T/mgmt.sock" || bail "back-end did not come up"
start_qemu "$T/vhost.sock" "$T/serial.log" "$T/qmp.sock" "vbtest=resize vbmax=120"
wait_log "$T/serial.log" '^VBTEST-RESIZE-READY: ' 150 "$QEMU_PID" ||
	bail "the guest did not come up"
log "guest sees $(grep -a -m1 '^VBTEST-RESIZE-READY: ' "$T/serial.log" | tr -d '\r')"
tap_check "vblkctl resize --size 48M notifies the front-end" \
	sh -c "\"$VBLKCTL\" resize --socket \"$T/mgmt.sock\" --size 48M | tee -a \"$T/backend.log\" | grep -q 'driver was notified'"
res=$(await_result "$T/serial.log" 150 "$QEMU_PID")
got=$(grep -a -m1 '^VBTEST-RESIZED: ' "$T/serial.log" | tr -d '\r' | awk '{print $2}' || true)
tap_check "the guest sees 48 MiB without a reboot (${got:-no} sectors)" [ "${got:-0}" = 98304 ]
tap_check "the guest writes and reads back the new last MiB ($res)" [ "$res" = PASS ]
wait_gone "$QEMU_PID" 30 || true
rc=0; stop_backend be || rc=$?
tap_check "back-end exits 0 on SIGTERM (rc $rc)" [ $rc = 0 ]
tap_exit
