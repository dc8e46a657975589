# shellcheck shell=dash
# Issue 13, item 3: the management socket of a VDUSE device that virtio_vdpa
# serves. `vblkctl status` says vduse; `vblkctl resize` grows the disk online:
# vblkd updates the kernel's copy of the config space (VDUSE_DEV_SET_CONFIG)
# and raises a config interrupt (VDUSE_DEV_INJECT_CONFIG_IRQ), so
# /sys/block/vdX/size changes without a reboot and the new last MiB takes a
# write that reads back. `vblkctl stats` counted the I/O; suspend over the
# management socket holds a write until resume.
# vdtest-timeout: 180

NAME=vblk5
IMG=/tmp/img5
MGMT=/tmp/vblk5.mgmt
LOG=/tmp/vblkd-$NAME.log
# shellcheck disable=SC2034 # read by fail (lib.sh)
VDTEST_LOGS=$LOG

truncate -s 32M "$IMG" || fail "cannot create $IMG"
vblkd_start "$LOG" --vduse "$NAME" --image "$IMG" --num-queues 2 --mgmt-socket "$MGMT"
vduse_wait_disk "$NAME" "$VBLKD_PID" 60
dev=$VD_DEV
wait_until 10 test -S "$MGMT" || fail "no management socket"

vblkctl status --socket "$MGMT" > /tmp/st5.out || fail "status failed"
log_notes /tmp/st5.out 12
grep -q "^transport *vduse" /tmp/st5.out || fail "status does not say vduse"
[ "$(cat "/sys/block/$dev/size")" = 65536 ] || fail "size $(cat "/sys/block/$dev/size") before resize"

vblkctl resize --socket "$MGMT" --size 48M > /tmp/rs5.out 2>&1 || fail "resize: $(cat /tmp/rs5.out)"
note "$(cat /tmp/rs5.out)"
wait_until 10 grep -qx 98304 "/sys/block/$dev/size" ||
	fail "the guest still sees $(cat "/sys/block/$dev/size") sectors after resize to 48M"
note "/sys/block/$dev/size: 65536 -> $(cat "/sys/block/$dev/size") sectors"
dd if=/dev/urandom of=/tmp/p5 bs=1M count=1 2> /dev/null
dd if=/tmp/p5 of="/dev/$dev" bs=1M seek=47 oflag=direct conv=notrunc 2> /tmp/p5.err ||
	fail "write at the new end failed: $(cat /tmp/p5.err)"
dd if="/dev/$dev" of=/tmp/r5 bs=1M skip=47 count=1 iflag=direct 2> /dev/null ||
	fail "read at the new end failed"
cmp /tmp/p5 /tmp/r5 > /dev/null || fail "the new last MiB does not read back"
[ "$(wc -c < "$IMG")" = 50331648 ] || fail "the image file did not grow to 48 MiB"

vblkctl --json stats --socket "$MGMT" > /tmp/sx5.json || fail "stats failed"
grep -q '"write_bytes":[1-9]' /tmp/sx5.json || fail "stats counted no written bytes: $(cat /tmp/sx5.json)"

vblkctl suspend --mgmt-socket "$MGMT" > /tmp/su5.out || fail "suspend failed"
note "$(cat /tmp/su5.out)"
dd if=/tmp/p5 of="/dev/$dev" bs=64k count=1 oflag=direct conv=notrunc 2> /dev/null &
wpid=$!
sleep 1
alive "$wpid" || fail "a write completed while suspended over the management socket"
vblkctl resume --mgmt-socket "$MGMT" || fail "resume failed"
wait_until 30 gone "$wpid" || fail "the waiting write did not complete after resume"
wait "$wpid" || fail "the waiting write failed"

vblkd_stop "$VBLKD_PID" 60 || fail "vblkd exited with status $? after SIGTERM"
