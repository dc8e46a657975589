# shellcheck shell=dash
# Issue 4, section 3: the control socket as the suspend of a VDUSE device
# (the only one on 6.12; it works on 7.3 too), driven by vblkctl on a disk
# that virtio_vdpa serves. A state save is refused while the rings run;
# `vblkctl suspend` stops both rings and prints their indices; a write
# issued while suspended waits; the save is then accepted, and a second
# suspend reports the same indices (they are stable); `vblkctl resume`
# restarts the rings, the waiting write completes and the data verifies.
# Between the two suspends vblkd is killed with SIGKILL and restarted: the
# restarted one re-attaches still suspended (the in-flight file under
# --state-dir keeps that), so the write keeps waiting and the indices hold.
# vdtest-timeout: 180

NAME=vblk3
IMG=/tmp/img3
CTL=/tmp/vblk3.ctl
STATE=/tmp/st3
LOG=/tmp/vblkd-$NAME.log
# shellcheck disable=SC2034 # read by fail (lib.sh)
VDTEST_LOGS=$LOG

truncate -s 32M "$IMG" || fail "cannot create $IMG"
mkdir -p "$STATE"
vblkd_start "$LOG" --vduse "$NAME" --image "$IMG" --num-queues 2 --control-socket "$CTL" \
	--state-dir "$STATE"
vduse_wait_disk "$NAME" "$VBLKD_PID" 60
dev=$VD_DEV
dd if=/dev/urandom of=/tmp/p3a bs=1M count=4 2> /dev/null
dd if=/dev/urandom of=/tmp/p3b bs=64k count=1 2> /dev/null
dd if=/tmp/p3a of="/dev/$dev" bs=1M oflag=direct 2> /dev/null || fail "first write failed"

vblkctl state save --socket "$CTL" -o /tmp/s3 > /tmp/s3.out 2>&1 &&
	fail "a state save was accepted while the rings run"
grep -q "not suspended" /tmp/s3.out || fail "save refused for another reason: $(cat /tmp/s3.out)"

t0=$(uptime_s)
vblkctl --json suspend --socket "$CTL" --queues 2 > /tmp/sus1.json || fail "suspend failed"
t1=$(uptime_s)
note "suspend: $(cat /tmp/sus1.json)"
bases1=$(sed -n 's/.*"bases":\[\([0-9,]*\)\].*/\1/p' /tmp/sus1.json)
[ -n "$bases1" ] || fail "suspend printed no bases"

dd if=/tmp/p3b of="/dev/$dev" bs=64k seek=100 oflag=direct 2> /tmp/p3b.err &
wpid=$!
sleep 1
alive "$wpid" || fail "a write completed while the device was suspended"

vblkctl state save --socket "$CTL" -o /tmp/s3 || fail "state save refused while suspended"
note "state saved while suspended: $(wc -c < /tmp/s3) bytes"

kill -KILL "$VBLKD_PID"
wait "$VBLKD_PID" 2> /dev/null
LOG=/tmp/vblkd-$NAME.2.log
VDTEST_LOGS="$VDTEST_LOGS $LOG"
vblkd_start "$LOG" --vduse "$NAME" --image "$IMG" --num-queues 2 --control-socket "$CTL" \
	--state-dir "$STATE"
wait_until 30 grep -q "re-attached.*rings held" "$LOG" ||
	fail "the restarted vblkd did not re-attach with its rings held"
wait_until 10 grep -q "listening on $CTL" "$LOG" || fail "the restarted vblkd has no control socket"
sleep 1
alive "$wpid" || fail "the waiting write completed after the restart, before resume"
vblkctl --json suspend --socket "$CTL" --queues 2 > /tmp/sus2.json || fail "second suspend failed"
bases2=$(sed -n 's/.*"bases":\[\([0-9,]*\)\].*/\1/p' /tmp/sus2.json)
[ "$bases1" = "$bases2" ] || fail "indices moved while suspended: $bases1 then $bases2"
alive "$wpid" || fail "the waiting write completed before resume"

t2=$(uptime_s)
vblkctl resume --socket "$CTL" --queues 2 || fail "resume failed"
wait_until 30 gone "$wpid" || fail "the waiting write did not complete after resume"
t3=$(uptime_s)
wait "$wpid" || fail "the waiting write failed: $(cat /tmp/p3b.err)"
note "suspend $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b - a}') s, bases $bases1; write done $(awk -v a="$t2" -v b="$t3" 'BEGIN{printf "%.2f", b - a}') s after resume"

dd if="/dev/$dev" of=/tmp/r3a bs=1M count=4 iflag=direct 2> /dev/null || fail "read-back failed"
cmp /tmp/p3a /tmp/r3a > /dev/null || fail "data written before the suspend differs"
dd if="/dev/$dev" of=/tmp/r3b bs=64k skip=100 count=1 iflag=direct 2> /dev/null ||
	fail "read-back failed"
cmp /tmp/p3b /tmp/r3b > /dev/null || fail "the write issued while suspended differs"

vblkd_stop "$VBLKD_PID" 60 || fail "vblkd exited with status $? after SIGTERM"
