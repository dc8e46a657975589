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
# shellcheck source-path=SCRIPTDIR source=boot-lib.sh
. "$here/boot-lib.sh"
cache=${VBLKD_CACHE:-/var/cache/vblkd}
kdir=$cache/kernel-$ver

skip() { echo "# SKIP: $*"; exit 4; }
case "$ver" in 6.12|7.3) ;; *) echo "usage: probe.sh [6.12|7.3]" >&2; exit 2 ;; esac
command -v "$QEMU" >/dev/null 2>&1 || skip "$QEMU not found"
[ -r "$kdir/vmlinuz" ] || skip "no kernel at $kdir (6.12: scripts/install-deps.sh test; 7.3: scripts/fetch-trixie-kernel.sh)"
command -v gcc >/dev/null 2>&1 || skip "gcc not found"

boot_init vduse-probe
gcc -static -O2 -Wall -Wextra -I "$here/../../vduse" -o "$T/vduse_probe" "$here/vduse_probe.c"
boot_build "$kdir" "$T/vduse_probe" ||
	{ cat "$T/build.log" >&2; echo "# FAIL: cannot build the guest"; exit 1; }
boot_qemu "$kdir" "${QEMU_TIMEOUT:-180}" 1G "${SMP:-1}" "console=ttyS0 quiet panic=-1 vdtest=probe"

res=$(grep -a -m1 '^VDTEST-RESULT: ' "$T/serial.txt" | sed 's/^VDTEST-RESULT: //' || true)
echo "# kernel $ver: boot to power-off $boot_time s (qemu exit $qrc)"
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
	boot_dump
	exit 1 ;;
esac
