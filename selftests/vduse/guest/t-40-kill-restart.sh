# shellcheck shell=dash
# Issue 4, vduse suite item (d): vblkd is killed with SIGKILL while writers
# have requests in flight on /dev/vdX, and started again with the same
# arguments. It re-attaches to the existing VDUSE device (CREATE_DEV answers
# EEXIST, it opens /dev/vduse/NAME), rebuilds the rings from VQ_GET_INFO and
# its in-flight file under --state-dir, and resubmits; the writers finish
# without an error, the data verifies on the disk and in the image, and the
# kernel logs no I/O error. ROUNDS kills, each on fresh regions.
# vdtest-timeout: 420

NAME=vblk1
IMG=/tmp/img1
STATE=/tmp/st1
IMG_MIB=64
ROUNDS=3
WRITERS=2
# Per writer and round; with bs=64k and --io-delay-ms 20 a writer needs
# several seconds, so the kill after KILL_AFTER s lands mid-write.
W_MIB=8
BS_KIB=64
DELAY_MS=20
KILL_AFTER=1
# vblkd's log lines after a restart (adjust to the daemon's wording).
REATTACH_RE='re-attach'
RESUBMIT_RE='resubmitting'

LOG=/tmp/vblkd-$NAME.log
# shellcheck disable=SC2034 # read by fail (lib.sh)
VDTEST_LOGS=$LOG

secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

vblkd_args() {
	echo "--vduse $NAME --image $IMG --state-dir $STATE --io-delay-ms $DELAY_MS --num-queues 1 --log-level debug"
}

truncate -s "${IMG_MIB}M" "$IMG" || fail "cannot create $IMG"
mkdir -p "$STATE"
[ $((ROUNDS * WRITERS * W_MIB)) -le "$IMG_MIB" ] || fail "regions do not fit the image"
dmark=$(dmesg_mark)

# shellcheck disable=SC2046 # word splitting wanted
vblkd_start "$LOG" $(vblkd_args)
vduse_wait_disk "$NAME" "$VBLKD_PID" 60
dev=$VD_DEV
note "$NAME: /dev/$dev"

resubmitted=0
r=0
while [ "$r" -lt "$ROUNDS" ]; do
	w=0
	while [ "$w" -lt "$WRITERS" ]; do
		i=$((r * WRITERS + w))
		dd if=/dev/urandom of="/tmp/w$i" bs=1M count="$W_MIB" 2> /dev/null || fail "no pattern"
		w=$((w + 1))
	done
	w=0
	pids=
	t0=$(uptime_s)
	while [ "$w" -lt "$WRITERS" ]; do
		i=$((r * WRITERS + w))
		dd if="/tmp/w$i" of="/dev/$dev" bs="${BS_KIB}k" seek=$((i * W_MIB * 1024 / BS_KIB)) \
			oflag=direct conv=notrunc,fsync 2> "/tmp/w$i.err" &
		pids="$pids $!"
		w=$((w + 1))
	done
	sleep "$KILL_AFTER"
	for p in $pids; do
		alive "$p" || fail "round $r: a writer finished before the kill (make W_MIB larger)"
	done
	kill -KILL "$VBLKD_PID"
	tk=$(uptime_s)
	wait "$VBLKD_PID" 2> /dev/null
	stamp "round-$r-killed"
	# The writers must still be waiting, not failing, while no daemon runs.
	sleep 1
	for p in $pids; do
		alive "$p" || fail "round $r: a writer ended while vblkd was dead"
	done
	[ -e "/sys/bus/vdpa/devices/$NAME" ] || fail "round $r: $NAME left the bus when vblkd died"

	LOG=/tmp/vblkd-$NAME.$r.log
	VDTEST_LOGS="$VDTEST_LOGS $LOG"
	t1=$(uptime_s)
	# shellcheck disable=SC2046
	vblkd_start "$LOG" $(vblkd_args)
	wait_until 60 grep -q "$REATTACH_RE" "$LOG" ||
		fail "round $r: the restarted vblkd did not log '$REATTACH_RE'"
	t2=$(uptime_s)
	w=0
	for p in $pids; do
		i=$((r * WRITERS + w))
		wait_until 120 gone "$p" ||
			fail "round $r: writer $w still running 120 s after the restart"
		wait "$p" || fail "round $r: writer $w failed: $(cat "/tmp/w$i.err")"
		w=$((w + 1))
	done
	t3=$(uptime_s)
	if grep -q "$RESUBMIT_RE" "$LOG"; then
		resubmitted=$((resubmitted + 1))
		how=$(grep "$RESUBMIT_RE" "$LOG" | head -n 1)
	else
		how="no '$RESUBMIT_RE' line"
	fi
	note "round $r: killed $(secs "$t0" "$tk") s into the writes, restarted $(secs "$tk" "$t1") s later, re-attached in $(secs "$t1" "$t2") s, writers done $(secs "$t2" "$t3") s later; $how"
	[ "$(vdpa_blkdev "$NAME")" = "$dev" ] || fail "round $r: the disk is no longer /dev/$dev"

	w=0
	while [ "$w" -lt "$WRITERS" ]; do
		i=$((r * WRITERS + w))
		dd if="/dev/$dev" of=/tmp/rb bs=1M skip=$((i * W_MIB)) count="$W_MIB" \
			iflag=direct 2> /tmp/rb.err ||
			fail "round $r: read-back of region $i: $(cat /tmp/rb.err)"
		cmp "/tmp/w$i" /tmp/rb > /dev/null || fail "round $r: region $i differs on /dev/$dev"
		w=$((w + 1))
	done
	rm -f /tmp/rb
	r=$((r + 1))
done
[ "$resubmitted" -gt 0 ] || fail "no restart logged '$RESUBMIT_RE' in $ROUNDS rounds"

errs=$(dmesg_since "$dmark" | grep -iE "I/O error|$dev.*(error|fail)" || true)
[ -z "$errs" ] || fail "kernel log: $errs"

vblkd_stop "$VBLKD_PID" 60
rc=$?
[ "$rc" = 0 ] || fail "vblkd exited with status $rc after SIGTERM"
wait_until 10 sh -c "! [ -e /sys/bus/vdpa/devices/$NAME ] && ! [ -e /dev/vduse/$NAME ]" ||
	fail "$NAME still exists after SIGTERM"
i=0
while [ "$i" -lt $((ROUNDS * WRITERS)) ]; do
	dd if="$IMG" bs=1M skip=$((i * W_MIB)) count="$W_MIB" 2> /dev/null | cmp - "/tmp/w$i" > /dev/null ||
		fail "image: region $i differs"
	i=$((i + 1))
done
note "$ROUNDS kill -9 rounds: writes completed and verified ($resubmitted restarts resubmitted); image verified"
log_notes "$LOG" 8
