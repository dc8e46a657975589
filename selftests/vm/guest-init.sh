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
#   resize   print "VBTEST-RESIZE-READY: SECTORS", wait up to VBMAX seconds for
#            the host to resize the disk online (vblkctl resize), print
#            "VBTEST-RESIZED: SECTORS", then write and read back (O_DIRECT)
#            the last MiB of the new size.
#   inflight VBWRITERS (default 32) writers run in parallel, one O_DIRECT dd
#            each, so up to VBWRITERS requests are in flight; writer w owns the
#            VBBLOCKS (default 64) 4 KiB blocks from block w*VBBLOCKS and writes
#            them in order, one request per block.  Block b holds 64 lines of
#            63 characters and a newline: "VBINF <tag> blk <b, 8 digits> ln
#            <line, 2 digits>" left-aligned, padded with spaces (tag =
#            vbtag=, default "x"), so every block's payload is unique.  Prints
#            VBTEST-INFLIGHT-START once all writers run, "VBTEST-WRITER-DONE:
#            w" as each ends, "VBTEST-IOERR: N" (kernel "I/O error" lines),
#            then reads every block back (O_DIRECT) and compares:
#            "VBTEST-VERIFIED: N blocks".  The host migrates the guest while
#            the writers run (selftests/vm/qemu-inflight.sh).
# Kernel command-line parameters: vbtest= vbsize= vbslots= vbmin= vbmax= vbaux=
#   vbwriters= vbblocks= vbtag=
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
VBWRITERS=32; VBBLOCKS=64; VBTAG=x
for a in $(cat /proc/cmdline); do
	case "$a" in
	vbtest=*) MODE=${a#vbtest=} ;;
	vbsize=*) VBSIZE=${a#vbsize=} ;;
	vbslots=*) VBSLOTS=${a#vbslots=} ;;
	vbmin=*) VBMIN=${a#vbmin=} ;;
	vbmax=*) VBMAX=${a#vbmax=} ;;
	vbaux=*) VBAUX=${a#vbaux=} ;;
	vbwriters=*) VBWRITERS=${a#vbwriters=} ;;
	vbblocks=*) VBBLOCKS=${a#vbblocks=} ;;
	vbtag=*) VBTAG=${a#vbtag=} ;;
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

mode_inflight() {
	# Every writer's blocks, generated up front (one awk for all of them).
	awk -v tag="$VBTAG" -v nw="$VBWRITERS" -v nb="$VBBLOCKS" 'BEGIN {
		for (w = 0; w < nw; w++) {
			f = "/tmp/w" w
			for (b = w * nb; b < (w + 1) * nb; b++)
				for (l = 0; l < 64; l++)
					printf "%-63s\n", sprintf("VBINF %s blk %08d ln %02d", tag, b, l) > f
			close(f)
		}
	}' || fail "block generation"
	rm -f /tmp/inf.fail
	wpids=
	w=0
	while [ $w -lt "$VBWRITERS" ]; do
		(
			dd if=/tmp/w$w of=/dev/vda bs=4096 seek=$((w * VBBLOCKS)) oflag=direct \
				conv=notrunc 2>/tmp/dd.w$w ||
				{ cat /tmp/dd.w$w; echo "writer $w: write error" >> /tmp/inf.fail; exit 1; }
			echo "VBTEST-WRITER-DONE: $w"
		) &
		wpids="$wpids $!"
		w=$((w + 1))
	done
	echo "VBTEST-INFLIGHT-START: $VBWRITERS writers x $VBBLOCKS blocks"
	for p in $wpids; do wait $p; done
	echo "VBTEST-IOERR: $(dmesg | grep -c 'I/O error')"
	[ ! -e /tmp/inf.fail ] && echo "VBTEST-WRITERS-OK" ||
		echo "VBTEST-ERR: $(cat /tmp/inf.fail)"
	# Read back each writer's blocks in one request and compare; on a
	# mismatch name the first bad block.
	bad=0
	w=0
	while [ $w -lt "$VBWRITERS" ]; do
		dd if=/dev/vda of=/tmp/rb bs=$((VBBLOCKS * 4096)) skip=$w count=1 iflag=direct \
			2>/tmp/dd.r ||
			{ cat /tmp/dd.r; fail "read back writer $w: I/O error"; }
		if ! cmp -s /tmp/rb /tmp/w$w; then
			off=$(cmp /tmp/rb /tmp/w$w 2>/dev/null | awk '{ sub(",", "", $5); print $5 }')
			b=$((w * VBBLOCKS + (${off:-1} - 1) / 4096))
			echo "VBTEST-BAD: block $b (writer $w) holds: $(dd if=/tmp/rb bs=4096 skip=$((b - w * VBBLOCKS)) count=1 2>/dev/null | head -c 40)"
			bad=$((bad + 1))
		fi
		w=$((w + 1))
	done
	[ $bad = 0 ] || fail "$bad writer(s) with a block that does not verify"
	echo "VBTEST-VERIFIED: $((VBWRITERS * VBBLOCKS)) blocks"
	[ ! -e /tmp/inf.fail ] || fail "$(cat /tmp/inf.fail)"
}

mode_resize() {
	old=$(cat /sys/block/vda/size)
	echo "VBTEST-RESIZE-READY: $old"
	n=0
	while [ "$(cat /sys/block/vda/size)" = "$old" ]; do
		n=$((n + 1))
		[ $n -le $((VBMAX * 10)) ] || fail "size still $old sectors after ${VBMAX}s"
		sleep 0.1
	done
	new=$(cat /sys/block/vda/size)
	echo "VBTEST-RESIZED: $new"
	pattern 5 $((new - 2048)) 2048 > /tmp/tail || fail "pattern"
	wr_verify /tmp/tail $((new / 2048 - 1)) 1 t || fail "I/O at the new end"
}

case "$MODE" in
write16) mode_write16 ;;
resize) mode_resize ;;
mq) mode_mq ;;
loop) mode_loop ;;
inflight) mode_inflight ;;
*) fail "unknown mode '$MODE'" ;;
esac
result PASS
