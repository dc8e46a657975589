#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# vblkctl shows a transfer's progress on a terminal only: under script(1)
# (a pty) migrate and state save print "saving"/"loading" lines on stderr;
# with stderr on a file they print nothing there. VBLKCTL_PROGRESS_AFTER_MS=0
# shows even a transfer that takes less than the usual second. TAP.
set -u
: "${VBLKD:?}" "${VBLKCTL:?}"
dir=$(mktemp -d /tmp/vblkctl-progress.XXXXXX)
pids=
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	rm -rf "$dir"
}
trap cleanup EXIT
echo "TAP version 13"
echo "1..3"
if ! command -v script >/dev/null; then
	for i in 1 2 3; do echo "ok $i # SKIP script(1) is missing"; done
	exit 0
fi
truncate -s 16M "$dir/img"
for n in a b; do
	"$VBLKD" --vhost-user "$dir/$n.sock" --image "$dir/img" --control-socket "$dir/$n.ctl" \
		2>"$dir/$n.log" &
	pids="$pids $!"
done
for i in $(seq 50); do [ -S "$dir/a.ctl" ] && [ -S "$dir/b.ctl" ] && break; sleep 0.1; done
export VBLKCTL_PROGRESS_AFTER_MS=0

script -qec "\"$VBLKCTL\" migrate --from $dir/a.ctl --to $dir/b.ctl" /dev/null >"$dir/tty.out"
if grep -q "vblkctl: saving: [0-9]* bytes" "$dir/tty.out" &&
	grep -q "vblkctl: loading: [0-9]* bytes" "$dir/tty.out"; then
	echo "ok 1 migrate on a terminal shows saving and loading progress"
else
	echo "not ok 1 migrate on a terminal shows saving and loading progress"
	sed 's/^/# /' "$dir/tty.out"
fi

if "$VBLKCTL" migrate --from "$dir/a.ctl" --to "$dir/b.ctl" >/dev/null 2>"$dir/err" &&
	[ ! -s "$dir/err" ]; then
	echo "ok 2 migrate off a terminal prints nothing on stderr"
else
	echo "not ok 2 migrate off a terminal prints nothing on stderr"
	sed 's/^/# /' "$dir/err"
fi

script -qec "\"$VBLKCTL\" state save --socket $dir/a.ctl -o $dir/a.state" /dev/null >"$dir/tty2.out"
if grep -q "vblkctl: saving: [0-9]* bytes" "$dir/tty2.out" && [ -s "$dir/a.state" ]; then
	echo "ok 3 state save on a terminal shows progress"
else
	echo "not ok 3 state save on a terminal shows progress"
	sed 's/^/# /' "$dir/tty2.out"
fi
