#!/bin/busybox sh
# /init of the test initramfs (built by build-initramfs.sh).
# Reads the test mode from /proc/cmdline (vbtest=MODE) and prints exactly one
#   VBTEST-RESULT: PASS        or        VBTEST-RESULT: FAIL <reason>
# line on the serial console, then powers off.
#
# Modes:
#   write16  write VBSIZE MiB (default 16) of pattern seed 1 to /dev/vda with
#            O_DIRECT, read it back with O_DIRECT, compare.
#   mq       the same with two writers (and readers) pinned to CPU 0 and CPU 1
#            on the two halves (seeds 2 and 3); checks the disk has 2 hw queues
#            and that both virtqueues' interrupts fired.
#   loop     write+verify 1 MiB slots (of VBSLOTS, default 16) in a loop with
#            O_DIRECT until the host writes VBTEST-STOP at byte offset 16 MiB
#            (and at least VBMIN iterations ran); gives up after VBMAX seconds.
#            Iteration i writes slot i%VBSLOTS with variant (i/VBSLOTS)%2
#            (seed 100+variant); prints "VBTEST-ITERS: N" at the end.
#            Meanwhile VBAUX (default 2) background workers rewrite, re-read
#            and check 4 MiB at 20 MiB (pattern seed 200) with O_DIRECT, to
#            keep I/O in flight.
# Kernel command-line parameters: vbtest= vbsize= vbslots= vbmin= vbmax= vbaux=
/bin/busybox --install -s /bin
export PATH=/bin
mkdir -p /proc /sys /dev /tmp
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp

result() {
	echo "VBTEST-RESULT: $*"
	sync
	poweroff -f
	sleep 60
}
fail() { result "FAIL $*"; }

for m in /modules/*.ko; do
	[ -e "$m" ] || continue
	insmod "$m" || fail "insmod $m"
done

MODE=; VBSIZE=16; VBSLOTS=16; VBMIN=1; VBMAX=150; VBAUX=2
for a in $(cat /proc/cmdline); do
	case "$a" in
	vbtest=*) MODE=${a#vbtest=} ;;
	vbsize=*) VBSIZE=${a#vbsize=} ;;
	vbslots=*) VBSLOTS=${a#vbslots=} ;;
	vbmin=*) VBMIN=${a#vbmin=} ;;
	vbmax=*) VBMAX=${a#vbmax=} ;;
	vbaux=*) VBAUX=${a#vbaux=} ;;
	esac
done
echo "VBTEST-MODE: $MODE"

n=0
while [ ! -b /dev/vda ]; do
	n=$((n + 1))
	[ $n -le 300 ] || fail "no /dev/vda after 30s"
	sleep 0.1
done
echo "VBTEST-DISK: /dev/vda size $(cat /sys/block/vda/size) sectors, hw queues $(ls /sys/block/vda/mq | wc -l)"

# pattern SEED START_SECTOR COUNT_SECTORS > FILE
pattern() {
	awk -v seed="$1" -v start="$2" -v count="$3" -f /pattern.awk
}

# wr_verify FILE MIB_OFFSET MIB_COUNT TAG: O_DIRECT write FILE at the
# offset, O_DIRECT read back, compare.  Returns non-zero on any error.
wr_verify() {
	dd if="$1" of=/dev/vda bs=1M seek="$2" count="$3" oflag=direct conv=notrunc,fsync 2>/tmp/dd.$4 ||
		{ cat /tmp/dd.$4; echo "VBTEST-ERR: write $4"; return 1; }
	dd if=/dev/vda of=/tmp/rb.$4 bs=1M skip="$2" count="$3" iflag=direct 2>/tmp/dd.$4 ||
		{ cat /tmp/dd.$4; echo "VBTEST-ERR: read $4"; return 1; }
	cmp "$1" /tmp/rb.$4 || { echo "VBTEST-ERR: mismatch $4"; return 1; }
	rm -f /tmp/rb.$4
}

mode_write16() {
	pattern 1 0 $((VBSIZE * 2048)) > /tmp/p || fail "pattern"
	wr_verify /tmp/p 0 "$VBSIZE" w || fail "write16 I/O error or mismatch"
}

mode_mq() {
	q=$(ls /sys/block/vda/mq | wc -l)
	[ "$q" -eq 2 ] || fail "expected 2 hw queues, have $q"
	half=$((VBSIZE / 2))
	pattern 2 0 $((half * 2048)) > /tmp/p0 || fail "pattern"
	pattern 3 $((half * 2048)) $((half * 2048)) > /tmp/p1 || fail "pattern"
	# Children inherit the CPU affinity of this shell at fork time, so each
	# writer submits from its own CPU and so uses its own hw queue.
	taskset -p 1 $$ >/dev/null || fail "taskset"
	( wr_verify /tmp/p0 0 "$half" q0 ) &
	w0=$!
	taskset -p 2 $$ >/dev/null || fail "taskset"
	( wr_verify /tmp/p1 "$half" "$half" q1 ) &
	w1=$!
	taskset -p 3 $$ >/dev/null
	wait $w0 || fail "mq writer 0 (cpu 0) I/O error or mismatch"
	wait $w1 || fail "mq writer 1 (cpu 1) I/O error or mismatch"
	# Each virtqueue has its own MSI-X vector, "virtioN-req.Q", in
	# /proc/interrupts: both must have fired.
	for h in 0 1; do
		d=$(awk -v q="-req.$h" 'index($NF, q) { for (i = 2; i < NF; i++) if ($i ~ /^[0-9]+$/) s += $i } END { print s + 0 }' /proc/interrupts)
		echo "VBTEST-QUEUE: vq $h interrupts $d"
		[ "$d" -gt 0 ] || fail "virtqueue $h saw no completions"
	done
}

stop_requested() {
	dd if=/dev/vda bs=4096 skip=4096 count=1 iflag=direct 2>/dev/null | grep -q VBTEST-STOP
}

mode_loop() {
	slot_sectors=2048
	pattern 100 0 $((VBSLOTS * slot_sectors)) > /tmp/v0 || fail "pattern"
	pattern 101 0 $((VBSLOTS * slot_sectors)) > /tmp/v1 || fail "pattern"
	for v in 0 1; do
		mkdir -p /tmp/s$v
		s=0
		while [ $s -lt "$VBSLOTS" ]; do
			dd if=/tmp/v$v of=/tmp/s$v/$s bs=1M skip=$s count=1 2>/dev/null || fail "split"
			s=$((s + 1))
		done
		rm /tmp/v$v
	done
	# Background workers keep requests in flight most of the time (so a
	# back-end kill or a migration hits in-flight I/O): VBAUX processes
	# rewrite the 4 MiB at 20 MiB with the same data (pattern seed 200,
	# written once here first), read it back and compare, with O_DIRECT.
	pattern 200 $((20 * 2048)) $((4 * 2048)) > /tmp/aux || fail "pattern"
	dd if=/tmp/aux of=/dev/vda bs=1M seek=20 oflag=direct conv=notrunc,fsync 2>/dev/null ||
		fail "aux region write"
	rm -f /tmp/aux.fail /tmp/aux.stop /tmp/aux.count
	auxpids=
	a=0
	while [ $a -lt "$VBAUX" ]; do
		(
			set -o pipefail
			n=0
			while [ ! -e /tmp/aux.stop ]; do
				dd if=/tmp/aux of=/dev/vda bs=1M seek=20 oflag=direct conv=notrunc 2>/tmp/aux.err.$a ||
					{ cat /tmp/aux.err.$a; echo "worker $a: write error" >> /tmp/aux.fail; exit 1; }
				# cmp is slow under TCG: compare every 8th pass only.
				if [ $((n % 8)) = 7 ]; then
					dd if=/dev/vda bs=1M skip=20 count=4 iflag=direct 2>/tmp/aux.err.$a |
						cmp -s - /tmp/aux
				else
					dd if=/dev/vda of=/dev/null bs=1M skip=20 count=4 iflag=direct 2>/tmp/aux.err.$a
				fi || { cat /tmp/aux.err.$a; echo "worker $a: read error or mismatch" >> /tmp/aux.fail; exit 1; }
				n=$((n + 1))
				echo x >> /tmp/aux.count
			done
		) &
		auxpids="$auxpids $!"
		a=$((a + 1))
	done
	t0=$(date +%s)
	i=0
	echo "VBTEST-LOOP-START"
	while :; do
		slot=$((i % VBSLOTS))
		v=$(((i / VBSLOTS) % 2))
		wr_verify /tmp/s$v/$slot "$slot" 1 l || fail "loop iteration $i slot $slot: I/O error or mismatch"
		i=$((i + 1))
		now=$(date +%s)
		echo "VBTEST-PROGRESS: iter $i t $((now - t0))"
		if [ $i -ge "$VBMIN" ] && stop_requested; then
			break
		fi
		[ $((now - t0)) -lt "$VBMAX" ] || fail "no stop request after ${VBMAX}s ($i iterations)"
		[ ! -e /tmp/aux.fail ] || fail "background worker: $(cat /tmp/aux.fail)"
	done
	touch /tmp/aux.stop
	for a in $auxpids; do wait $a; done
	[ ! -e /tmp/aux.fail ] || fail "background worker: $(cat /tmp/aux.fail)"
	echo "VBTEST-AUX: $(cat /tmp/aux.count 2>/dev/null | wc -l) rewrites of 4 MiB verified"
	echo "VBTEST-ITERS: $i"
}

case "$MODE" in
write16) mode_write16 ;;
mq) mode_mq ;;
loop) mode_loop ;;
*) fail "unknown mode '$MODE'" ;;
esac
result PASS
