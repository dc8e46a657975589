#!/usr/bin/env bash
# Installs what make bench's libblkio client needs INSIDE the trixie chroot
# at $VBLKD_CACHE/trixie-chroot, never on the host: libblkio-dev (1.5, trixie
# only) and a compiler (gcc, libc6-dev), with --no-install-recommends. The
# chroot (and its QEMU 11.1, whose qemu-storage-daemon the bench also runs)
# comes from scripts/fetch-trixie-qemu.sh, run first. A marker
# $root/.vblkd-blkio holds libblkio's version: a second run only checks it.
# Environment: VBLKD_CACHE (default /var/cache/vblkd).
set -euo pipefail

cache=${VBLKD_CACHE:-/var/cache/vblkd}
root=$cache/trixie-chroot
marker=$root/.vblkd-blkio
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
pkgs=(libblkio-dev gcc libc6-dev)

die() { echo "fetch-trixie-blkio: $*" >&2; exit 1; }
say() { echo "fetch-trixie-blkio: $*"; }
# shellcheck source=scripts/chroot-lib.sh
. "$here/chroot-lib.sh"

if [ -s "$marker" ]; then
	say "cached: libblkio $(cat "$marker") in $root"
	exit 0
fi
bash "$here/fetch-trixie-qemu.sh"

chroot_bind_system

t0=$SECONDS
log=$cache/trixie-blkio-apt.log
say "apt-get install --no-install-recommends ${pkgs[*]} (in $root)"
in_chroot apt-get install -y -q --no-install-recommends "${pkgs[@]}" >"$log" 2>&1 ||
	{ tail -n 30 "$log" >&2; die "apt-get install failed (log: $log)"; }
in_chroot apt-get clean
ver=$(in_chroot dpkg-query -W -f='${Version}' libblkio-dev)
[ -n "$ver" ] || die "libblkio-dev is not installed in the chroot"
echo "$ver" | sudo_ tee "$marker" >/dev/null
say "installed in $((SECONDS - t0)) s: libblkio $ver"
