# shellcheck shell=dash
# Issue 4, item 2: with --no-vdpa-add vblkd serves /dev/vduse/NAME but leaves
# the vdpa bus to the operator: `vdpa dev add` makes the disk appear (I/O on
# it verifies), `vdpa dev del` removes it while vblkd keeps running, and
# SIGTERM still destroys the device and exits 0.
# vdtest-timeout: 180

NAME=vblk2
IMG=/tmp/img2
LOG=/tmp/vblkd-$NAME.log
# shellcheck disable=SC2034 # read by fail (lib.sh)
VDTEST_LOGS=$LOG

truncate -s 16M "$IMG" || fail "cannot create $IMG"
vblkd_start "$LOG" --vduse "$NAME" --image "$IMG" --no-vdpa-add --log-level debug
wait_until 30 [ -c "/dev/vduse/$NAME" ] || fail "no /dev/vduse/$NAME"
# Give vblkd the time it would need to (wrongly) add the device itself.
sleep 1
alive "$VBLKD_PID" || fail "vblkd exited"
[ ! -e "/sys/bus/vdpa/devices/$NAME" ] || fail "$NAME is on the vdpa bus despite --no-vdpa-add"

out=$(vdpa dev add name "$NAME" mgmtdev vduse 2>&1) || fail "vdpa dev add: $out"
vduse_wait_disk "$NAME" "$VBLKD_PID" 60
dev=$VD_DEV
note "vdpa dev add: /dev/$dev; $(vdpa dev show "$NAME" 2>&1)"
dd if=/dev/urandom of=/tmp/pat2 bs=1M count=4 2> /dev/null || fail "no pattern"
dd if=/tmp/pat2 of="/dev/$dev" bs=1M oflag=direct conv=notrunc,fsync 2> /tmp/dd.err ||
	fail "write to /dev/$dev: $(cat /tmp/dd.err)"
dd if="/dev/$dev" bs=1M count=4 iflag=direct 2> /tmp/dd.err | cmp - /tmp/pat2 > /dev/null ||
	fail "read-back from /dev/$dev differs or failed: $(cat /tmp/dd.err)"

out=$(vdpa dev del "$NAME" 2>&1) || fail "vdpa dev del: $out"
wait_until 10 [ ! -e "/sys/bus/vdpa/devices/$NAME" ] || fail "$NAME still on the bus after vdpa dev del"
[ ! -e "/sys/block/$dev" ] || fail "/dev/$dev still exists after vdpa dev del"
sleep 0.5
alive "$VBLKD_PID" || fail "vblkd exited when the device left the bus"
[ -c "/dev/vduse/$NAME" ] || fail "/dev/vduse/$NAME went with vdpa dev del"

vblkd_stop "$VBLKD_PID" 30
rc=$?
[ "$rc" = 0 ] || fail "vblkd exited with status $rc after SIGTERM"
wait_until 10 [ ! -e "/dev/vduse/$NAME" ] || fail "/dev/vduse/$NAME still exists after SIGTERM"
note "--no-vdpa-add: operator add/del worked, SIGTERM destroyed the device"
