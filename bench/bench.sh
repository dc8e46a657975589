#!/usr/bin/env bash
# make bench: vblkd against qemu-storage-daemon with two clients
# (bench/iops-bench.py; docs/performance.md).
#   bench.sh [BUILD] [REPS] [RUNTIME_MS] [QUICK]
# Builds the libblkio client inside the trixie chroot (libblkio-dev and gcc
# installed there by scripts/fetch-trixie-blkio.sh, never on the host) and
# runs it through selftests/vm/chroot-qemu.sh, which needs root; without
# root only frontend/'s client runs. iops-bench.py pins every client to CPU
# 0 and every back-end to CPU 1, and first checks that the machine is quiet:
# if not, it names what is busy and exits 3 before measuring anything,
# unless BENCH_FORCE=1 is in the environment (then the results carry the
# finding). Then bench/vduse-bench.sh (root: a TCG guest) measures the VDUSE
# path, after the host figures so that its guest does not load the machine
# under them, and the report is made again with its table. Writes
# bench/results/bench.{json,md,png} and vduse.json.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=${1:-build}
reps=${2:-5}
runtime=${3:-500}
quick=${4:-0}
out=$here/results
cache=${VBLKD_CACHE:-/var/cache/vblkd}
root=$cache/trixie-chroot

# shellcheck source=bench/plot-python.sh
. "$here/plot-python.sh"

# qemu-storage-daemon's rbd driver is a module of its own package, from the
# same suite as QEMU (bookworm-backports, added by install-deps.sh test).
if ! dpkg-query -W -f='${Status}' qemu-block-extra 2>/dev/null | grep -q 'ok installed'; then
	sudo_ env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		-t bookworm-backports qemu-block-extra
fi

blkio=()
if [ "$(id -u)" = 0 ]; then
	bash "$here/../scripts/fetch-trixie-blkio.sh"
	src=$root/tmp/vblkd-bench-src
	mkdir -p "$src"
	cp "$here/iobench.c" "$here/iobench.h" "$here/iops_blkio.c" "$src/"
	chroot "$root" gcc -O2 -Wall -Wextra -o /tmp/vblkd-bench-src/iops_blkio \
		/tmp/vblkd-bench-src/iops_blkio.c /tmp/vblkd-bench-src/iobench.c -lblkio -lpthread
	blkio=(--blkio "$src/iops_blkio")
else
	echo "bench: not root: no libblkio client (it runs in the trixie chroot)" >&2
fi
q=()
[ "$quick" = 1 ] && q=(--quick)
rc=0
"$py" "$here/iops-bench.py" --build "$build" --output "$out" --reps "$reps" \
	--runtime-ms "$runtime" "${blkio[@]}" "${q[@]}" || rc=$?
# 1: a vblkd row failed (the report is written); 2: usage; 3: not quiet.
[ "$rc" -le 1 ] || exit "$rc"
# The VDUSE path, in the vduse suite's guest (root: QEMU, the guest kernel).
if [ "$(id -u)" = 0 ]; then
	if bash "$here/vduse-bench.sh" "$build" "$out/vduse.json" "$((quick ? 1 : 3))" 1000; then
		"$py" "$here/iops-report.py" "$out/bench.json" "$out/bench.md" "$out/bench.png" \
			"$out/vduse.json" >/dev/null
	else
		echo "bench: the VDUSE run failed; no VDUSE table" >&2
	fi
fi
echo "bench: wrote $out/bench.json, bench.md, bench.png"
exit "$rc"
