#!/usr/bin/env bash
# make bench's VDUSE path: boots the vduse suite's TCG guest once (kernel
# 6.12 from $VBLKD_CACHE) with vblkd, qemu-storage-daemon 10.0 and
# bench/vdbench inside, runs selftests/vduse/guest/b-vduse-bench.sh there
# (vblkd --vduse against qsd's vduse-blk export under virtio_vdpa, the same
# in-guest client) and writes the runs to OUT.json. Under TCG the absolute
# figures mean little: the report gives the ratio.
#   vduse-bench.sh BUILD OUT.json [REPS] [RUNTIME_MS] [KERNEL_VERSION]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=$(realpath "$1")
out=$2
reps=${3:-3}
runtime=${4:-1000}
ver=${5:-6.12}
cache=${VBLKD_CACHE:-/var/cache/vblkd}
kdir=$cache/kernel-$ver
# shellcheck source=selftests/vduse/boot-lib.sh
. "$here/../selftests/vduse/boot-lib.sh"

[ -r "$kdir/vmlinuz" ] || { echo "vduse-bench: no kernel at $kdir" >&2; exit 1; }
qsd=$(command -v qemu-storage-daemon) || { echo "vduse-bench: no qemu-storage-daemon" >&2; exit 1; }
boot_init vduse-bench
boot_build "$kdir" "$build/vblkd" "$qsd" "$build/bench/vdbench" ||
	{ cat "$T/build.log" >&2; exit 1; }
boot_qemu "$kdir" $((600 + reps * runtime * 16 / 1000 * 2)) 2G 2 \
	"console=ttyS0 quiet panic=-1 vdtest=b-vduse-bench vdreps=$reps vdrt=$runtime"
res=$(grep -a -m1 '^VDTEST-RESULT: ' "$T/serial.txt" | sed 's/^VDTEST-RESULT: //' || true)
echo "vduse-bench: kernel $ver, boot to power-off $boot_time s: ${res:-no result}"
grep -a '^VDBENCH: ' "$T/serial.txt" | sed 's/^VDBENCH: //' > "$T/runs.jsonl" || true
python3 - "$T/runs.jsonl" "$out" "$ver" <<'PY'
import json, sys
runs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
json.dump({"kernel": sys.argv[3], "runs": runs}, open(sys.argv[2], "w"), indent=1)
print(f"vduse-bench: {len(runs)} runs")
PY
[ "$res" = PASS ] || { boot_dump; exit 1; }
