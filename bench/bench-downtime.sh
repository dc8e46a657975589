#!/usr/bin/env bash
# make bench-downtime: run bench/downtime (built in BUILD) over the whole
# matrix and write bench/results/downtime.{json,md,png}.
#   bench-downtime.sh [BUILD] [REPS] [QEMU] [QEMU_REPS]
# QEMU=1 also runs bench/downtime-qemu.py (QEMU 11.1's vhost-user-blk-pci,
# inflight-migration off and on, QMP's downtime; needs root and the trixie
# chroot's QEMU, about 10 minutes at QEMU_REPS=3) and writes
# bench/results/downtime-qemu.{json,png}; its table goes into downtime.md,
# as does that of an earlier downtime-qemu.json when QEMU=0.  A QEMU run that
# fails functionally (a TAP "not ok") makes this exit 1, after the report.
# Installs python3-matplotlib (no recommends) when neither python3 nor the
# system's /usr/bin/python3 (where apt puts it) can import matplotlib.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=${1:-build}
reps=${2:-5}
qemu=${3:-0}
qemu_reps=${4:-3}
out=$here/results

# shellcheck source=bench/plot-python.sh
. "$here/plot-python.sh"

mkdir -p "$out"
t=$SECONDS
"$build/bench/downtime" --vblkd "$build/vblkd" --reps "$reps" \
	--output "$out/downtime.json" >/dev/null
echo "bench-downtime: $(grep -c '"type": "run"' "$out/downtime.json") runs in $((SECONDS - t)) s"
qrc=0
if [ "$qemu" = 1 ]; then
	t=$SECONDS
	sudo_ python3 "$here/downtime-qemu.py" --vblkd "$build/vblkd" --reps "$qemu_reps" \
		--output "$out/downtime-qemu.json" || qrc=$?
	echo "bench-downtime: QEMU matrix in $((SECONDS - t)) s (exit $qrc)"
fi
qargs=()
[ -s "$out/downtime-qemu.json" ] && qargs=("$out/downtime-qemu.json" "$out/downtime-qemu.png")
"$py" "$here/downtime-report.py" "$out/downtime.json" "$out/downtime.md" "$out/downtime.png" \
	"${qargs[@]}"
cat "$out/downtime.md"
echo "bench-downtime: wrote $out/downtime.json, downtime.md, downtime.png${qargs:+, downtime-qemu.json, downtime-qemu.png}"
[ $qrc = 0 ] || { echo "bench-downtime: QEMU runs failed (exit $qrc)" >&2; exit 1; }
