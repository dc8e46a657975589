#!/bin/bash
# VDUSE probe: boot a TCG guest with the chosen Debian kernel and check that
# VDUSE and vDPA work in it (modules load, /dev/vduse/control, the VDUSE API
# version via vduse_probe.c, `vdpa mgmtdev show` lists vduse).
#   probe.sh [6.12|7.3]        (default 6.12)
# Kernels: $VBLKD_CACHE/kernel-6.12 (scripts/install-deps.sh test) and
# $VBLKD_CACHE/kernel-7.3 (scripts/fetch-trixie-kernel.sh).
# Environment: VBLKD_CACHE, QEMU, SMP (1), QEMU_TIMEOUT (180),
#   VBTEST_KEEP=1 (keep the temp dir with the serial log).
# Exit codes follow kselftest: 0 pass, 1 fail, 4 skip.
set -euo pipefail

ver=${1:-6.12}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${VBLKD_CACHE:-/var/cache/vblkd}
kdir=$cache/kernel-$ver
QEMU=${QEMU:-qemu-system-x86_64}

skip() { echo "# SKIP: $*"; exit 4; }
case "$ver" in 6.12|7.3) ;; *) echo "usage: probe.sh [6.12|7.3]" >&2; exit 2 ;; esac
command -v "$QEMU" >/dev/null 2>&1 || skip "$QEMU not found"
[ -r "$kdir/vmlinuz" ] || skip "no kernel at $kdir (6.12: scripts/install-deps.sh test; 7.3: scripts/fetch-trixie-kernel.sh)"
command -v gcc >/dev/null 2>&1 || skip "gcc not found"

T=$(mktemp -d "/tmp/vblkd-vduse-probe.XXXXXX")
qpid=
# shellcheck disable=SC2317 # invoked by the traps
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if [ -n "$qpid" ] && kill -0 "$qpid" 2>/dev/null; then
		kill -TERM "$qpid" 2>/dev/null || true
		wait "$qpid" 2>/dev/null || true
	fi
	if [ "${VBTEST_KEEP:-0}" = 1 ]; then echo "# kept $T"; else rm -rf "$T"; fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ms() { date +%s%3N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b - a) / 1000 }'; }

t0=$(ms)
gcc -static -O2 -Wall -Wextra -o "$T/vduse_probe" "$here/vduse_probe.c"
"$here/build-guest.sh" "$kdir" "$T/guest.cpio.gz" "$T/vduse_probe" > "$T/build.log" 2>&1 ||
	{ cat "$T/build.log" >&2; echo "# FAIL: cannot build the guest"; exit 1; }
t1=$(ms)
echo "# $(tail -n 1 "$T/build.log") [$(secs "$t0" "$t1") s]"

serial=$T/serial.log
timeout -k 10 "${QEMU_TIMEOUT:-180}" "$QEMU" -accel tcg -m 1G -smp "${SMP:-1}" \
	-kernel "$kdir/vmlinuz" -initrd "$T/guest.cpio.gz" \
	-append "console=ttyS0 quiet panic=-1 vdtest=probe" \
	-display none -serial "file:$serial" -monitor none -no-reboot -nodefaults \
	> "$T/qemu.log" 2>&1 &
qpid=$!
qrc=0
wait "$qpid" || qrc=$?
qpid=
t2=$(ms)

tr -d '\r' < "$serial" > "$T/serial.txt" || true
res=$(grep -a -m1 '^VDTEST-RESULT: ' "$T/serial.txt" | sed 's/^VDTEST-RESULT: //' || true)
echo "# kernel $ver: boot to power-off $(secs "$t1" "$t2") s (qemu exit $qrc)"
grep -a '^VDTEST-TIME: ' "$T/serial.txt" | sed 's/^VDTEST-TIME: /#   guest uptime at /' || true
# The framed outputs, then notes.
awk '/^VDTEST-OUT-BEGIN /{name=$2; print "# --- " name; next}
     /^VDTEST-OUT-END /{name = ""; next}
     name != "" {print "#   " $0}' "$T/serial.txt"
grep -a '^VDTEST-NOTE: ' "$T/serial.txt" | sed 's/^VDTEST-NOTE: /# note: /' || true

case "$res" in
PASS) echo "ok 1 vduse probe on kernel $ver"; exit 0 ;;
*)
	echo "not ok 1 vduse probe on kernel $ver: ${res:-no result (qemu exit $qrc)}"
	echo "# ---- tail of the serial log ----"
	tail -n 30 "$T/serial.txt" | sed 's/^/#   /'
	[ -s "$T/qemu.log" ] && sed 's/^/# qemu: /' "$T/qemu.log"
	exit 1 ;;
esac
