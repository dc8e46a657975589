# shellcheck shell=bash
# One TCG boot of a test kernel with the VDUSE guest initramfs, shared by
# probe.sh and run-suite.sh; sourced. Works under set -e and without it.
# Environment: QEMU (qemu-system-x86_64), VBTEST_KEEP=1 (keep $T).

boot_lib_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
QEMU=${QEMU:-qemu-system-x86_64}

ms() { date +%s%3N; }
# secs A B: from A to B (ms) in seconds.
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) / 1000 }'; }

# boot_init NAME: a temp dir $T (/tmp/vblkd-NAME.XXXXXX), and traps that stop
# QEMU and remove $T (kept with VBTEST_KEEP=1) on any exit.
boot_init() {
	T=$(mktemp -d "/tmp/vblkd-$1.XXXXXX")
	qpid=
	trap boot_cleanup EXIT
	trap 'exit 130' INT TERM
}

# shellcheck disable=SC2317 # invoked by the traps
boot_cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if [ -n "$qpid" ] && kill -0 "$qpid" 2> /dev/null; then
		kill -TERM "$qpid" 2> /dev/null || true
		wait "$qpid" 2> /dev/null || true
	fi
	if [ "${VBTEST_KEEP:-0}" = 1 ]; then echo "# kept $T"; else rm -rf "$T"; fi
	exit "$rc"
}

# boot_build KERNEL_DIR [FILE...]: $T/guest.cpio.gz with FILEs in /xbin; the
# log stays in $T/build.log for the caller to show when this fails.
boot_build() {
	local t0 t1

	t0=$(ms)
	"$boot_lib_dir/build-guest.sh" "$1" "$T/guest.cpio.gz" "${@:2}" > "$T/build.log" 2>&1 ||
		return 1
	t1=$(ms)
	echo "# $(tail -n 1 "$T/build.log") [$(secs "$t0" "$t1") s]"
}

# boot_qemu KERNEL_DIR TIMEOUT_S MEM SMP APPEND: boot to power-off (or the
# timeout); sets qrc (QEMU's exit code) and boot_time (seconds), and leaves
# the console in $T/serial.txt.
# shellcheck disable=SC2034 # qrc and boot_time are for the caller
boot_qemu() {
	local t0 t1

	t0=$(ms)
	timeout -k 10 "$2" "$QEMU" -accel tcg -m "$3" -smp "$4" \
		-kernel "$1/vmlinuz" -initrd "$T/guest.cpio.gz" -append "$5" \
		-display none -serial "file:$T/serial.log" -monitor none -no-reboot -nodefaults \
		> "$T/qemu.log" 2>&1 &
	qpid=$!
	qrc=0
	wait "$qpid" || qrc=$?
	qpid=
	t1=$(ms)
	boot_time=$(secs "$t0" "$t1")
	tr -d '\r' < "$T/serial.log" > "$T/serial.txt" 2> /dev/null || true
}

# boot_dump: the end of the console and QEMU's own output, as TAP comments.
boot_dump() {
	echo "# ---- tail of the serial log ----"
	tail -n 30 "$T/serial.txt" | sed 's/^/#   /'
	if [ -s "$T/qemu.log" ]; then sed 's/^/# qemu: /' "$T/qemu.log"; fi
}
