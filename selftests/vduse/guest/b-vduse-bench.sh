# shellcheck shell=dash
# make bench's VDUSE row (bench/vduse-bench.sh boots this with
# vdtest=b-vduse-bench; the suite does not run it, its name is not t-*):
# vblkd --vduse against qemu-storage-daemon's vduse-blk export, each on a
# 256 MiB image in the guest's tmpfs, each made a /dev/vdX by virtio_vdpa,
# driven by the same client (vdbench: O_DIRECT, io_uring) with 4 KiB random
# reads and writes at QD 1 and 32. Repetitions alternate the order of the
# two back-ends. Every run prints one "VDBENCH: {json}" line.
# Kernel command line: vdreps=N (default 3), vdrt=MS (default 1000).
# vdtest-timeout: 1800

IMG=/tmp/bench.img
REPS=$(cmdline_arg vdreps)
REPS=${REPS:-3}
RT=$(cmdline_arg vdrt)
RT=${RT:-1000}
LOG=/tmp/bench-backend.log
# shellcheck disable=SC2034 # read by fail (lib.sh)
VDTEST_LOGS=$LOG

dd if=/dev/zero of="$IMG" bs=1M count=256 2> /dev/null || fail "cannot create $IMG"

# be_start NAME: serve $IMG as the vdpa device bench-NAME; sets BPID and DEV.
be_start() {
	case "$1" in
	vblkd)
		vblkd_start "$LOG" --vduse bench-vblkd --image "$IMG" --log-level warn
		BPID=$VBLKD_PID
		;;
	qsd)
		qemu-storage-daemon --blockdev driver=file,node-name=d0,filename="$IMG",aio=io_uring \
			--export type=vduse-blk,id=e0,node-name=d0,name=bench-qsd,writable=on,num-queues=1 \
			>> "$LOG" 2>&1 &
		BPID=$!
		wait_until 20 test -c /dev/vduse/bench-qsd || fail "qemu-storage-daemon made no /dev/vduse/bench-qsd"
		vdpa dev add name bench-qsd mgmtdev vduse >> "$LOG" 2>&1 || fail "vdpa dev add bench-qsd"
		;;
	esac
	vduse_wait_disk "bench-$1" "$BPID" 60
	DEV=$VD_DEV
}

be_stop() {
	[ "$1" = qsd ] && vdpa dev del bench-qsd >> "$LOG" 2>&1
	vblkd_stop "$BPID" 20 || note "$1 exited with status $?"
}

rep=0
while [ "$rep" -lt "$REPS" ]; do
	order="vblkd qsd"
	[ $((rep % 2)) = 1 ] && order="qsd vblkd"
	for be in $order; do
		be_start "$be"
		for w in "randread 1" "randread 32" "randwrite 1" "randwrite 32"; do
			set -- $w
			out=$(vdbench --device "/dev/$DEV" --rw "$1" --qd "$2" --runtime-ms "$RT" \
				--warmup-ms 200 --pid "$BPID" 2>&1) || fail "vdbench on $be ($w): $out"
			echo "VDBENCH: {\"backend\": \"$be\", \"rep\": $rep, ${out#\{}"
		done
		be_stop "$be"
	done
	rep=$((rep + 1))
done
