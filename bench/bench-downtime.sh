#!/usr/bin/env bash
# make bench-downtime: run bench/downtime (built in BUILD) over the whole
# matrix and write bench/results/downtime.{json,md,png}.
#   bench-downtime.sh [BUILD] [REPS]
# Installs python3-matplotlib (no recommends) when neither python3 nor the
# system's /usr/bin/python3 (where apt puts it) can import matplotlib.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=${1:-build}
reps=${2:-5}
out=$here/results

sudo_() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

py=
for p in python3 /usr/bin/python3; do
	if "$p" -c 'import matplotlib' 2>/dev/null; then
		py=$p
		break
	fi
done
if [ -z "$py" ]; then
	sudo_ apt-get update -qq
	sudo_ env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends python3-matplotlib
	py=/usr/bin/python3
fi

mkdir -p "$out"
t=$SECONDS
"$build/bench/downtime" --vblkd "$build/vblkd" --reps "$reps" \
	--output "$out/downtime.json" >/dev/null
echo "bench-downtime: $(grep -c '"type": "run"' "$out/downtime.json") runs in $((SECONDS - t)) s"
"$py" "$here/downtime-report.py" "$out/downtime.json" "$out/downtime.md" "$out/downtime.png"
cat "$out/downtime.md"
echo "bench-downtime: wrote $out/downtime.json, downtime.md, downtime.png"
