# Shared helpers for the real-QEMU test tier; sourced by the qemu-*.sh tests.
# Environment:
#   BACKEND=vblkd|qsd     back-end under test (default vblkd)
#   VBLKD                 path to the vblkd binary (BACKEND=vblkd)
#   VBLKD_ARGS            extra vblkd arguments (e.g. --direct)
#   VBLKD_CACHE           cache directory (default /var/cache/vblkd)
#   VBLKD_KERNEL_DIR      unpacked kernel (default $VBLKD_CACHE/kernel-6.12)
#   QEMU, QSD             qemu-system-x86_64 / qemu-storage-daemon binaries
#   VBTEST_KEEP=1         keep the temp dir (logs, image) after the run
# Exit codes follow kselftest: 0 pass, 1 fail, 4 skip.
set -euo pipefail

VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${VBLKD_CACHE:-/var/cache/vblkd}
KDIR=${VBLKD_KERNEL_DIR:-$CACHE/kernel-6.12}
VMLINUZ=${VBLKD_VMLINUZ:-$KDIR/vmlinuz}
BACKEND=${BACKEND:-vblkd}
QEMU=${QEMU:-qemu-system-x86_64}
QSD=${QSD:-qemu-storage-daemon}
VBUSYBOX=${BUSYBOX:-/bin/busybox}
KSFT_PASS=0 KSFT_FAIL=1 KSFT_SKIP=4

T=
TAP_N=0
TAP_FAILED=0
QEMU_PIDS=()
declare -A BE_PID=()
declare -A BE_SOCK=()

log() { echo "# $*"; }

tap_plan() { echo "TAP version 13"; echo "1..$1"; }
tap_ok() { TAP_N=$((TAP_N + 1)); echo "ok $TAP_N $*"; }
tap_fail() { TAP_N=$((TAP_N + 1)); TAP_FAILED=1; echo "not ok $TAP_N $*"; }
tap_skip() { TAP_N=$((TAP_N + 1)); echo "ok $TAP_N # SKIP $*"; }
# tap_check DESC CMD...: run CMD, report ok/not ok.
tap_check() {
	local desc=$1; shift
	if "$@"; then tap_ok "$desc"; else tap_fail "$desc"; fi
}
skip_all() { echo "TAP version 13"; echo "1..0 # SKIP $*"; exit $KSFT_SKIP; }
# need REASON: a prerequisite of the chroot tier (suite 'inflight') is
# missing: skip, or fail under INFLIGHT_REQUIRE=1 (scripts/check.sh).
need() {
	if [ "${INFLIGHT_REQUIRE:-0}" = 1 ]; then
		echo "TAP version 13"; echo "1..1"
		echo "not ok 1 $* (INFLIGHT_REQUIRE=1)"
		exit $KSFT_FAIL
	fi
	skip_all "$*"
}
# bail REASON: fatal error in the middle of a test: report, exit 1 (cleanup
# runs from the EXIT trap).
bail() { tap_fail "$*"; dump_logs; exit $KSFT_FAIL; }
tap_exit() {
	if [ "$TAP_FAILED" -ne 0 ]; then dump_logs; exit $KSFT_FAIL; fi
	exit $KSFT_PASS
}

dump_logs() {
	[ -n "$T" ] && [ -d "$T" ] || return 0
	local f
	for f in "$T"/*.log; do
		[ -s "$f" ] || continue
		echo "# ---- tail of $(basename "$f") ----"
		tail -n 25 "$f" | sed 's/^/#   /'
	done
}

# alive PID: true if PID exists and is not a zombie.
alive() {
	local st
	st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ]
}

# wait_gone PID SECONDS: wait for a child to exit; prints nothing; returns
# its exit status, or 124 on timeout.
wait_gone() {
	local pid=$1 end=$((SECONDS + $2)) rc=0
	while alive "$pid"; do
		[ $SECONDS -lt $end ] || return 124
		sleep 0.1
	done
	wait "$pid" 2>/dev/null || rc=$?
	return $rc
}

# kill_wait PID: SIGTERM, up to 10 s, then SIGKILL.
kill_wait() {
	local pid=$1
	alive "$pid" || { wait "$pid" 2>/dev/null || true; return 0; }
	kill -TERM "$pid" 2>/dev/null || true
	if ! wait_gone "$pid" 10; then
		{ kill -KILL "$pid"; wait "$pid"; } 2>/dev/null || true
	fi
	return 0
}

vm_cleanup() {
	local rc=$? pid name
	trap - EXIT INT TERM
	for pid in "${QEMU_PIDS[@]}"; do kill_wait "$pid"; done
	for name in "${!BE_PID[@]}"; do kill_wait "${BE_PID[$name]}"; done
	if [ -n "$T" ] && [ -f "$T/ceph/ceph.conf" ]; then
		"$VM_DIR/../../scripts/ceph-cluster.sh" stop "$T/ceph" || true
	fi
	if [ -n "$T" ] && [ -d "$T" ]; then
		if [ "${VBTEST_KEEP:-0}" = 1 ]; then
			echo "# kept $T"
		else
			rm -rf "$T"
		fi
	fi
	exit $rc
}

# vm_setup NAME: check prerequisites (skip if missing), make the temp dir,
# install the cleanup trap, build the initramfs.
vm_setup() {
	command -v "$QEMU" >/dev/null 2>&1 || skip_all "$QEMU not found"
	[ -r "$VMLINUZ" ] || skip_all "no guest kernel at $VMLINUZ"
	[ -x "$VBUSYBOX" ] || skip_all "no static busybox at $VBUSYBOX"
	command -v cpio >/dev/null 2>&1 || skip_all "cpio not found"
	command -v xz >/dev/null 2>&1 || skip_all "xz not found"
	case "$BACKEND" in
	vblkd)
		[ -n "${VBLKD:-}" ] && [ -x "$VBLKD" ] || skip_all "vblkd binary not found (VBLKD=${VBLKD:-unset})" ;;
	qsd)
		command -v "$QSD" >/dev/null 2>&1 || skip_all "$QSD not found" ;;
	*)
		echo "unknown BACKEND=$BACKEND (vblkd|qsd)" >&2; exit $KSFT_FAIL ;;
	esac
	T=$(mktemp -d "/tmp/vblkd-$1.XXXXXX")
	trap vm_cleanup EXIT
	trap 'exit 130' INT TERM
	"$VM_DIR/build-initramfs.sh" "$T/initramfs.cpio.gz" > "$T/build.log" 2>&1 ||
		{ cat "$T/build.log" >&2; skip_all "cannot build the initramfs"; }
}

# make_image FILE MIB: zero-filled raw image.
make_image() {
	rm -f "$1"
	truncate -s "$2M" "$1"
}

# start_backend NAME SOCK IMAGE LOG NUM_QUEUES [VBLKD_ARG...]: start the
# back-end, wait for its socket.  Its pid is ${BE_PID[NAME]}.  Arguments after
# NUM_QUEUES are passed to this vblkd only (after ${VBLKD_ARGS}); qsd ignores
# them.
start_backend() {
	local name=$1 sock=$2 img=$3 log=$4 nq=$5 end
	shift 5
	rm -f "$sock"
	case "$BACKEND" in
	vblkd)
		# shellcheck disable=SC2086
		"$VBLKD" --vhost-user "$sock" --image "$img" --num-queues "$nq" \
			${VBLKD_ARGS:-} "$@" >>"$log" 2>&1 &
		;;
	qsd)
		# locking=off: the migration test opens the image from two back-ends.
		"$QSD" --blockdev "driver=file,node-name=f,filename=$img,cache.direct=off,locking=off" \
			--export "type=vhost-user-blk,id=e,node-name=f,addr.type=unix,addr.path=$sock,writable=on,num-queues=$nq" \
			>>"$log" 2>&1 &
		;;
	esac
	BE_PID[$name]=$!
	BE_SOCK[$name]=$sock
	end=$((SECONDS + 15))
	while [ ! -S "$sock" ]; do
		alive "${BE_PID[$name]}" || { wait "${BE_PID[$name]}" || true; unset "BE_PID[$name]"; return 1; }
		[ $SECONDS -lt $end ] || return 1
		sleep 0.05
	done
}

# kill9_backend NAME: SIGKILL (simulated crash).
kill9_backend() {
	local pid=${BE_PID[$1]}
	# Reap it at once (SIGKILL is immediate) with stderr redirected, so
	# bash does not print a "Killed" job notice.
	{ kill -KILL "$pid"; wait "$pid"; } 2>/dev/null || true
	unset "BE_PID[$1]"
}

# stop_backend NAME: SIGTERM, wait; returns the exit status (124 timeout).
# For vblkd also fails (125) if the socket was not removed.
stop_backend() {
	local name=$1 pid=${BE_PID[$1]} rc=0
	kill -TERM "$pid" 2>/dev/null || true
	wait_gone "$pid" 15 || rc=$?
	if [ $rc = 124 ]; then
		{ kill -KILL "$pid"; wait "$pid"; } 2>/dev/null || true
	fi
	unset "BE_PID[$name]"
	if [ $rc = 0 ] && [ "$BACKEND" = vblkd ] && [ -e "${BE_SOCK[$name]}" ]; then
		echo "# $name: socket ${BE_SOCK[$name]} still exists after exit"
		rc=125
	fi
	return $rc
}

# start_qemu SOCK SERIAL_LOG QMP_SOCK "APPEND" [extra qemu args...]
# Variables: SMP (1), NUM_QUEUES (1), RECONNECT_MS (unset), QEMU_TIMEOUT (300),
# BLK_PROPS (unset: more vhost-user-blk-pci properties, e.g. inflight-migration=on).
# The QEMU pid (a `timeout` wrapper) is left in QEMU_PID.
QEMU_PID=
start_qemu() {
	local sock=$1 serial=$2 qmp=$3 append=$4 chardev
	shift 4
	chardev="socket,id=c0,path=$sock"
	[ -z "${RECONNECT_MS:-}" ] || chardev+=",reconnect-ms=$RECONNECT_MS"
	timeout -k 10 "${QEMU_TIMEOUT:-300}" "$QEMU" -accel tcg -m 512M -smp "${SMP:-1}" \
		-object memory-backend-memfd,id=mem,size=512M,share=on -numa node,memdev=mem \
		-chardev "$chardev" \
		-device "vhost-user-blk-pci,chardev=c0,num-queues=${NUM_QUEUES:-1}${BLK_PROPS:+,$BLK_PROPS}" \
		-kernel "$VMLINUZ" -initrd "$T/initramfs.cpio.gz" \
		-append "console=ttyS0 quiet panic=-1 $append" \
		-display none -serial "file:$serial" -monitor none -no-reboot -nodefaults \
		-qmp "unix:$qmp,server=on,wait=off" "$@" >>"$serial.qemu.log" 2>&1 &
	QEMU_PID=$!
	QEMU_PIDS+=("$QEMU_PID")
}

# wait_log FILE ERE SECONDS [PID]: wait until FILE has a line matching ERE.
# Gives up early if PID (e.g. QEMU) has exited.  Returns 1 on failure.
wait_log() {
	local f=$1 re=$2 end=$((SECONDS + $3)) pid=${4:-}
	while ! grep -Eq -- "$re" "$f" 2>/dev/null; do
		[ $SECONDS -lt $end ] || { echo "# timeout waiting for '$re' in $(basename "$f")"; return 1; }
		if [ -n "$pid" ] && ! alive "$pid"; then
			grep -Eq -- "$re" "$f" 2>/dev/null && return 0
			echo "# process $pid exited while waiting for '$re' in $(basename "$f")"
			return 1
		fi
		sleep 0.05
	done
}

# guest_result SERIAL_LOG: print the VBTEST-RESULT line's payload.
guest_result() {
	grep -a -m1 '^VBTEST-RESULT: ' "$1" | tr -d '\r' | sed 's/^VBTEST-RESULT: //' || true
}

# await_result SERIAL_LOG SECS PID: the guest's result ("PASS", "FAIL ..."),
# or "no result" when none came in SECS seconds or QEMU PID died first.
await_result() {
	# wait_log's own notes go to stderr: stdout is the result.
	if wait_log "$1" '^VBTEST-RESULT: ' "$2" "$3" >&2; then
		guest_result "$1"
	else
		echo "no result"
	fi
}

# progress SERIAL_LOG: number of the last completed loop iteration (0 if none).
progress() {
	local n
	n=$(grep -a '^VBTEST-PROGRESS: iter ' "$1" 2>/dev/null | tail -n 1 | awk '{print $3}' || true)
	echo "${n:-0}"
}

# wait_progress SERIAL_LOG N SECONDS [PID]: until iteration >= N.
wait_progress() {
	local f=$1 n=$2 end=$((SECONDS + $3)) pid=${4:-}
	while [ "$(progress "$f")" -lt "$n" ]; do
		[ $SECONDS -lt $end ] || { echo "# timeout waiting for iteration $n in $(basename "$f")"; return 1; }
		if grep -aq '^VBTEST-RESULT: FAIL' "$f" 2>/dev/null; then
			echo "# guest failed: $(guest_result "$f")"; return 1
		fi
		if [ -n "$pid" ] && ! alive "$pid"; then
			echo "# QEMU exited while waiting for iteration $n"; return 1
		fi
		sleep 0.05
	done
}

# qmp SOCK COMMAND [ARGS-JSON]
qmp() { timeout 30 python3 "$VM_DIR/qmp.py" "$@"; }

# pattern SEED START_SECTOR COUNT: the guest's data pattern (same awk).
pattern() {
	"$VBUSYBOX" awk -v seed="$1" -v start="$2" -v count="$3" -f "$VM_DIR/pattern.awk"
}

# check_image IMAGE OFFSET_MIB EXPECTED_FILE: compare the image region.
check_image() {
	local img=$1 off=$2 exp=$3 size
	size=$(stat -c %s "$exp")
	if ! dd if="$img" bs=1M skip="$off" count=$((size / 1048576)) 2>/dev/null | cmp - "$exp"; then
		echo "# image $img at ${off} MiB differs from the expected pattern"
		return 1
	fi
}

# request_stop IMAGE: write the loop mode's stop sentinel at byte 16 MiB
# (into the RBD image RBD_IMAGE of cluster RBD_CONF when set: rbd_setup).
request_stop() {
	if [ -n "${RBD_IMAGE:-}" ]; then
		/usr/bin/python3 - "$RBD_CONF" "$RBD_IMAGE" <<'PY'
import sys, rados, rbd
with rados.Rados(conffile=sys.argv[1]) as c, c.open_ioctx("rbd") as io, rbd.Image(io, sys.argv[2]) as img:
    img.write(b"VBTEST-STOP\n".ljust(4096, b"\0"), 16 << 20)
    img.flush()
PY
		return
	fi
	printf 'VBTEST-STOP\n' | dd of="$1" bs=4096 seek=4096 conv=notrunc,fsync 2>/dev/null
}

# rbd_setup MIB: a throwaway Ceph cluster in $T/ceph (scripts/ceph-cluster.sh)
# with an image of MIB MiB; sets RBD_CONF, RBD_IMAGE and RBD_SPEC (for
# --image). Skips without Ceph.
rbd_setup() {
	command -v ceph-mon >/dev/null 2>&1 && command -v rbd >/dev/null 2>&1 ||
		skip_all "Ceph (ceph-mon, rbd) not installed"
	# Debian's bindings (python3-rbd), for the stop sentinel.
	/usr/bin/python3 -c 'import rados, rbd' 2>/dev/null || skip_all "python3-rbd not installed"
	CEPH_CLUSTER_OWNER=$$ "$VM_DIR/../../scripts/ceph-cluster.sh" start "$T/ceph" >"$T/ceph-start.log" 2>&1 ||
		{ cat "$T/ceph-start.log" >&2; bail "the Ceph cluster did not start"; }
	log "$(grep 'cluster up' "$T/ceph-start.log")"
	RBD_CONF=$T/ceph/ceph.conf
	RBD_IMAGE=disk
	RBD_SPEC="rbd:rbd/$RBD_IMAGE:conf=$RBD_CONF"
	timeout 60 rbd -c "$RBD_CONF" create --size "$1M" "rbd/$RBD_IMAGE" ||
		bail "rbd create failed"
}

# rbd_export FILE: the RBD image's bytes into FILE, for check_image.
rbd_export() {
	rm -f "$1"
	timeout 60 rbd -c "$RBD_CONF" export --no-progress "rbd/$RBD_IMAGE" "$1" >/dev/null 2>&1
}

# check_loop_image IMAGE ITERS SLOTS: the image after the guest's loop mode
# ran ITERS iterations over SLOTS 1 MiB slots (plus the 4 MiB at 20 MiB).
check_loop_image() {
	local img=$1 iters=$2 slots=$3 s last v
	pattern 100 0 $((slots * 2048)) > "$T/v0"
	pattern 101 0 $((slots * 2048)) > "$T/v1"
	: > "$T/expected"
	for ((s = 0; s < slots; s++)); do
		if [ "$iters" -le "$s" ]; then
			head -c 1048576 /dev/zero >> "$T/expected"
			continue
		fi
		last=$((s + slots * ((iters - 1 - s) / slots)))
		v=$(((last / slots) % 2))
		dd if="$T/v$v" bs=1M skip="$s" count=1 2>/dev/null >> "$T/expected"
	done
	check_image "$img" 0 "$T/expected" || return 1
	# The guest's background reader region (written once, pattern 200).
	pattern 200 $((20 * 2048)) $((4 * 2048)) > "$T/aux"
	check_image "$img" 20 "$T/aux"
}

# Live migration between two QEMUs, each on its own back-end, both on
# $T/disk.img: the source's QMP socket is $T/src-qmp.sock, it migrates to
# unix:$T/mig.sock, the serial logs are $T/src-serial.log and
# $T/dst-serial.log.  The guest runs the loop mode (vbtest=loop).

# json_get JSON EXPR: print a field of a JSON document (EXPR is Python on d).
json_get() {
	python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"
}

# migrate_start: send QMP migrate to the source (bail on failure); sets
# MIG_T0 to $SECONDS just before.
MIG_T0=0
migrate_start() {
	MIG_T0=$SECONDS
	qmp "$T/src-qmp.sock" migrate "{\"uri\": \"unix:$T/mig.sock\"}" >/dev/null ||
		bail "QMP migrate failed"
}

# migrate_wait QMP SECONDS STATUS...: poll query-migrate until its status is
# one of STATUS (or failed/cancelled); the last reply is left in MIG_INFO and
# its status in MIG_STATUS ('qmp error' when query-migrate itself failed).
# Returns 1 unless the status is one of STATUS.
MIG_INFO='' MIG_STATUS=''
migrate_wait() {
	local qmp_sock=$1 end=$((SECONDS + $2)) s
	shift 2
	while :; do
		MIG_INFO=$(qmp "$qmp_sock" query-migrate) || { MIG_STATUS='qmp error'; return 1; }
		MIG_STATUS=$(json_get "$MIG_INFO" 'd.get("status", "")')
		for s in "$@"; do [ "$MIG_STATUS" = "$s" ] && return 0; done
		case "$MIG_STATUS" in failed|cancelled|completed) return 1 ;; esac
		[ $SECONDS -lt $end ] || return 1
		sleep 0.1
	done
}

# migrate_summary: total time and downtime from the last reply (MIG_INFO).
migrate_summary() {
	json_get "$MIG_INFO" '"total %s ms, downtime %s ms" % (d.get("total-time"), d.get("downtime"))'
}

# migrate_finish SRC_QEMU DST_QEMU SLOTS: after a completed migration, quit
# the source, then three TAP lines: the guest makes progress on the
# destination; once the stop sentinel is written it finishes with PASS there;
# the image holds the data of its loop over SLOTS slots.
migrate_finish() {
	local src_qemu=$1 dst_qemu=$2 slots=$3 rc=0 first res iters
	qmp "$T/src-qmp.sock" quit >/dev/null || true
	wait_gone "$src_qemu" 30 || rc=$?
	log "source QEMU exited (rc $rc); source reached iteration $(progress "$T/src-serial.log")"

	# The guest must keep going on the destination.
	if wait_progress "$T/dst-serial.log" 1 60 "$dst_qemu"; then
		first=$(progress "$T/dst-serial.log")
		if wait_progress "$T/dst-serial.log" $((first + 2)) 60 "$dst_qemu"; then
			tap_ok "guest I/O continues on the destination (iteration $(progress "$T/dst-serial.log"))"
		else
			tap_fail "guest I/O continues on the destination"
		fi
	else
		tap_fail "guest I/O continues on the destination: no progress"
	fi

	# Stop the loop; PASS on the destination.
	request_stop "$T/disk.img"
	res=$(await_result "$T/dst-serial.log" 90 "$dst_qemu")
	if [ "$res" = PASS ]; then
		tap_ok "guest loop finished with PASS on the destination ($((SECONDS - MIG_T0)) s after migrate)"
	else
		tap_fail "guest loop on the destination: $res"
	fi
	wait_gone "$dst_qemu" 30 || true

	# The image as the host sees it.
	iters=$(grep -a '^VBTEST-ITERS: ' "$T/dst-serial.log" | tr -d '\r' | awk '{print $2}' || true)
	if [ -n "${RBD_IMAGE:-}" ] && ! rbd_export "$T/disk.img"; then
		tap_fail "image check: rbd export failed"
	elif [ -n "$iters" ]; then
		tap_check "image holds the data of the guest's $iters iterations" \
			check_loop_image "$T/disk.img" "$iters" "$slots"
	else
		tap_fail "image check: guest reported no iteration count"
	fi
}
