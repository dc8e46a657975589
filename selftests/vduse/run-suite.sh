#!/bin/bash
# The vduse suite on one kernel, as one TAP stream (meson protocol 'tap'):
#   run-suite.sh VERSION [PROGRAM...]
# builds the guest initramfs (build-guest.sh) with $VBLKD and every PROGRAM
# in /xbin, boots $VBLKD_CACHE/kernel-VERSION once under QEMU TCG, lets the
# guest run every guest/t-*.sh (vdtest=suite, see guest-init.sh) and prints
# one TAP point per guest test, with the guest's notes and timings as #
# lines. A test that did not run, or gave no result, is "not ok".
# Exits 0 once the TAP stream is complete (the points carry the verdict);
# prints "1..0 # SKIP" only when QEMU or the kernel is missing, and not even
# then with VDUSE_REQUIRE=1 (scripts/check.sh): there every test fails.
# Environment: VBLKD (required), VBLKD_CACHE (/var/cache/vblkd), QEMU,
#   QEMU_TIMEOUT (840 s for the whole boot), VDTEST_ONLY=t-10-netlink-io,...
#   (a subset), VDTEST_TIMEOUT (per guest test without its own, 300 s),
#   VDTEST_MEM (2G), VDTEST_SMP (2), VBTEST_KEEP=1 (keep the temp dir with
#   the serial log and build log), VDUSE_REQUIRE=1.
set -uo pipefail

[ $# -ge 1 ] || { echo "usage: run-suite.sh VERSION [PROGRAM...]" >&2; exit 2; }
ver=$1
shift
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=boot-lib.sh
. "$here/boot-lib.sh"
cache=${VBLKD_CACHE:-/var/cache/vblkd}
kdir=$cache/kernel-$ver

tests=()
for f in "$here"/guest/t-*.sh; do
	n=$(basename "$f" .sh)
	[ -z "${VDTEST_ONLY:-}" ] || [[ ",$VDTEST_ONLY," == *",$n,"* ]] || continue
	tests+=("$n")
done

echo "TAP version 13"
# all_fail REASON: every test "not ok" with REASON, complete stream, exit 0.
all_fail() {
	local i
	echo "1..${#tests[@]}"
	for ((i = 0; i < ${#tests[@]}; i++)); do
		echo "not ok $((i + 1)) $ver ${tests[$i]} - $*"
	done
	exit 0
}
missing() {
	[ "${VDUSE_REQUIRE:-0}" = 1 ] && all_fail "$* (VDUSE_REQUIRE=1)"
	echo "1..0 # SKIP $*"
	exit 0
}
[ ${#tests[@]} -gt 0 ] || { echo "1..0 # SKIP no guest test selected"; exit 0; }
command -v "$QEMU" > /dev/null 2>&1 || missing "$QEMU not found (scripts/install-deps.sh test)"
[ -r "$kdir/vmlinuz" ] || missing "no kernel at $kdir (scripts/install-deps.sh test)"
[ -x "${VBLKD:-}" ] || all_fail "no vblkd binary (VBLKD=${VBLKD:-unset})"
for p in "$@"; do
	[ -x "$p" ] || all_fail "no test program $p"
done

boot_init "vduse-$ver"

# Kernel messages on the console (quiet: KERN_ERR and worse) that fail the
# test they appear in.
OOPS_RE='BUG:|Oops:|Kernel panic|Call Trace:|blocked for more than'

if ! boot_build "$kdir" "$VBLKD" "$@"; then
	sed 's/^/# build: /' "$T/build.log"
	all_fail "cannot build the guest initramfs"
fi

append="console=ttyS0 quiet panic=-1 vdtest=suite vdtimeout=${VDTEST_TIMEOUT:-300}"
[ -z "${VDTEST_ONLY:-}" ] || append+=" vdonly=$VDTEST_ONLY"
boot_qemu "$kdir" "${QEMU_TIMEOUT:-840}" "${VDTEST_MEM:-2G}" "${VDTEST_SMP:-2}" "$append"

echo "1..${#tests[@]}"
kernel=$(sed -n 's/^VDTEST-KERNEL: //p' "$T/serial.txt" | head -n 1)
echo "# kernel $ver (${kernel:-did not report}): boot to power-off $boot_time s, qemu exit $qrc"
sed -n 's/^VDTEST-TIME: \(init\|modules-loaded\) /#   guest uptime at \1: /p' "$T/serial.txt"

# One test's block of the serial log: from its VDTEST-BEGIN to its
# VDTEST-TAP line (or to the end, when the guest died in it).
block() {
	awk -v n="$1" '
		$0 == "VDTEST-BEGIN: " n { on = 1; next }
		on && /^VDTEST-BEGIN: / { exit }
		on { print }
		on && index($0, "VDTEST-TAP: ") == 1 { exit }' "$T/serial.txt"
}

failed=0
for ((i = 0; i < ${#tests[@]}; i++)); do
	n=${tests[$i]}
	num=$((i + 1))
	if ! grep -qx "VDTEST-BEGIN: $n" "$T/serial.txt"; then
		res=$(sed -n 's/^VDTEST-RESULT: //p' "$T/serial.txt" | head -n 1)
		echo "not ok $num $ver $n - did not run (guest result: ${res:-none}, qemu exit $qrc)"
		failed=$((failed + 1))
		continue
	fi
	block "$n" > "$T/block.txt"
	tb=$(sed -n "s/^VDTEST-TIME: $n-begin //p" "$T/serial.txt" | head -n 1)
	te=$(sed -n "s/^VDTEST-TIME: $n-end //p" "$T/serial.txt" | head -n 1)
	[ -z "$tb" ] || [ -z "$te" ] ||
		echo "# $n: $(awk -v a="$tb" -v b="$te" 'BEGIN { printf "%.1f", b - a }') s"
	sed -n -e 's/^VDTEST-NOTE: /#   /p' -e "s/^VDTEST-TIME: /#   time /p" "$T/block.txt"
	tap=$(sed -n 's/^VDTEST-TAP: //p' "$T/block.txt" | head -n 1)
	# The kernel broke during the test, whatever the script concluded.
	oops=$(grep -E "$OOPS_RE" "$T/block.txt" | head -n 1)
	if [ -n "$oops" ] && [ "$tap" = "ok $n" ]; then
		tap="not ok $n kernel: $oops"
	fi
	case "$tap" in
	"ok $n")
		echo "ok $num $ver $n"
		;;
	"not ok $n"*)
		failed=$((failed + 1))
		# The unprefixed output too (kernel messages, shell errors).
		grep -v '^VDTEST-' "$T/block.txt" | tail -n 40 | sed 's/^/#   | /'
		reason=${tap#"not ok $n"}
		reason=${reason//#/%} # a "# SKIP" in it would turn the point into a skip
		echo "not ok $num $ver $n -${reason:- failed}"
		;;
	*)
		failed=$((failed + 1))
		grep -v '^VDTEST-' "$T/block.txt" | tail -n 40 | sed 's/^/#   | /'
		echo "not ok $num $ver $n - no result (the guest stopped in it; qemu exit $qrc)"
		;;
	esac
done

res=$(sed -n 's/^VDTEST-RESULT: //p' "$T/serial.txt" | head -n 1)
echo "# guest result: ${res:-none}"
if [ "$failed" -gt 0 ] || [ -z "$res" ]; then
	boot_dump
fi
exit 0
