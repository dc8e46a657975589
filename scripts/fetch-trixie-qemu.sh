#!/usr/bin/env bash
# Installs Debian trixie-backports' QEMU (qemu-system-x86, qemu-utils: 11.1,
# with vhost-user-blk-pci's inflight-migration property) INSIDE the trixie
# chroot at $VBLKD_CACHE/trixie-chroot, never on the host:
#   1. the chroot with its trixie-backports source, made by
#      scripts/fetch-trixie-kernel.sh (run first when the chroot is missing;
#      it also caches the 7.3 kernel);
#   2. `apt-get install -t trixie-backports --no-install-recommends
#      qemu-system-x86 qemu-utils` inside the chroot, with /proc, /sys and
#      /dev bind-mounted only while installing (unmounted on exit);
#   3. a marker $root/.vblkd-qemu holding `qemu-system-x86_64 --version`'s
#      first line: a second run only checks it.
# The selftests run this QEMU with `chroot $root qemu-system-x86_64 ...`
# (selftests/vm/chroot-qemu.sh).  FORCE=1 re-runs apt-get update and the
# install (an upgrade when trixie-backports has a newer QEMU).
# Environment: VBLKD_CACHE (default /var/cache/vblkd).
set -euo pipefail

cache=${VBLKD_CACHE:-/var/cache/vblkd}
root=$cache/trixie-chroot
marker=$root/.vblkd-qemu
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
pkgs=(qemu-system-x86 qemu-utils)
t_start=$SECONDS

die() { echo "fetch-trixie-qemu: $*" >&2; exit 1; }
say() { echo "fetch-trixie-qemu: $*"; }
# shellcheck source=scripts/chroot-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/chroot-lib.sh"

if [ -s "$marker" ] && [ "${FORCE:-0}" != 1 ]; then
	say "cached: $(cat "$marker") in $root"
	exit 0
fi

# The chroot itself (debootstrap, trixie-backports source, apt-get update)
# comes from the kernel script, which also leaves the 7.3 kernel cached.
# (FORCE=1: it would stop at its own cached kernel without a chroot.)
[ -f "$root/.vblkd-complete" ] && [ -f "$root/.vblkd-apt-updated" ] ||
	FORCE=1 bash "$here/fetch-trixie-kernel.sh"
[ -f "$root/.vblkd-complete" ] || die "no trixie chroot at $root"

chroot_bind_system

t0=$SECONDS
if [ "${FORCE:-0}" = 1 ] || ! in_chroot apt-cache policy qemu-system-x86 2>/dev/null |
	grep -q 'trixie-backports'; then
	in_chroot apt-get update -qq
	sudo_ touch "$root/.vblkd-apt-updated"
	say "apt-get update (chroot) took $((SECONDS - t0)) s"
fi

t0=$SECONDS
log=$cache/trixie-qemu-apt.log
say "apt-get install -t trixie-backports --no-install-recommends ${pkgs[*]} (in $root)"
in_chroot apt-get install -y -q -t trixie-backports --no-install-recommends \
	-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
	"${pkgs[@]}" >"$log" 2>&1 ||
	{ tail -n 30 "$log" >&2; die "apt-get install failed (log: $log)"; }
in_chroot apt-get clean
ver=$(in_chroot qemu-system-x86_64 --version | head -n 1)
[ -n "$ver" ] || die "qemu-system-x86_64 does not run in the chroot"
say "installed in $((SECONDS - t0)) s: $ver"
echo "$ver" | sudo_ tee "$marker" >/dev/null
say "total $((SECONDS - t_start)) s"
