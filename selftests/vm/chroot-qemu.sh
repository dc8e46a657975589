#!/bin/bash
# Runs the trixie chroot's QEMU (scripts/fetch-trixie-qemu.sh installs
# trixie-backports' 11.1 there): chroot-qemu.sh [QEMU-ARGS...]
# In a private mount namespace (unshare), bind-mounts /proc, /sys, /dev and
# each directory of $VBLKD_CHROOT_BIND (space-separated) at the same path
# inside the chroot, then execs `chroot ROOT qemu-system-x86_64 ARGS...`
# (QEMU_BIN overrides the program, e.g. qemu-img).  So paths under a bound
# directory (vhost-user, QMP and migration sockets, kernel, initramfs, serial
# logs) are the same inside and outside.  The mounts live only in that
# namespace: they vanish when QEMU exits, however it exits, and other runs
# using the chroot never see them.  An empty directory ROOT/DIR may remain
# as the mount point: the caller removes it once QEMU is gone.
# Needs root (mount namespaces, chroot).  Environment: VBLKD_CHROOT (default
# $VBLKD_CACHE/trixie-chroot), VBLKD_CACHE (default /var/cache/vblkd).
set -euo pipefail
root=${VBLKD_CHROOT:-${VBLKD_CACHE:-/var/cache/vblkd}/trixie-chroot}
[ -x "$root/usr/bin/qemu-system-x86_64" ] || {
	echo "chroot-qemu: no qemu-system-x86_64 in $root (scripts/fetch-trixie-qemu.sh)" >&2
	exit 127
}
# unshare without --fork execs: the process started as this script becomes
# QEMU, so a signal to it (timeout, kill) reaches QEMU.
exec unshare --mount --propagation private -- bash -euc '
root=$1 binds=$2 prog=$3
shift 3
for d in /proc /sys /dev; do
	mount --rbind "$d" "$root$d"
done
for d in $binds; do
	mkdir -p "$root$d"
	mount --bind "$d" "$root$d"
done
exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 chroot "$root" "$prog" "$@"
' chroot-qemu "$root" "${VBLKD_CHROOT_BIND:-}" "${QEMU_BIN:-qemu-system-x86_64}" "$@"
