#!/bin/bash
# Build the busybox test initramfs: build-initramfs.sh OUT.cpio.gz
# Inputs: static busybox ($BUSYBOX, default /bin/busybox), guest-init.sh and
# pattern.awk from this directory, virtio_blk (and its modules.dep
# dependencies, if any) from the cached kernel ($VBLKD_KERNEL_DIR, default
# $VBLKD_CACHE/kernel-6.12).  The result is cached under $VBLKD_CACHE keyed by
# a hash of all inputs.
set -euo pipefail

out=${1:?usage: build-initramfs.sh OUT.cpio.gz}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/initramfs-lib.sh"
cache=${VBLKD_CACHE:-/var/cache/vblkd}
kdir=${VBLKD_KERNEL_DIR:-$cache/kernel-6.12}
busybox=${BUSYBOX:-/bin/busybox}
# Modules to load, in order (dependencies first). virtio, virtio_ring and
# virtio_pci are built into the Debian 6.12 kernel; virtio_blk has no
# module dependencies (modinfo: "depends:" is empty).
modules=${VBTEST_MODULES:-virtio_blk}

die() { echo "build-initramfs: $*" >&2; exit 1; }
[ -x "$busybox" ] || die "no busybox at $busybox"
file "$busybox" 2>/dev/null | grep -q 'dynamically linked' && die "$busybox is not static"
mdir=$(echo "$kdir"/lib/modules/*/kernel)
[ -d "$mdir" ] || die "no modules under $kdir/lib/modules/*/kernel"

modpaths=()
for m in $modules; do
	p=$(find "$mdir" -name "$m.ko*" | head -n 1)
	[ -n "$p" ] || die "module $m not found under $mdir"
	modpaths+=("$p")
done

key=$( { cat "$here/guest-init.sh" "$here/pattern.awk" "${BASH_SOURCE[0]}" \
	"$busybox" "${modpaths[@]}"; echo "$modules"; } | sha256sum | cut -c1-16)
cached=$cache/initramfs-$key.cpio.gz
if [ -s "$cached" ]; then
	cp "$cached" "$out"
	exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root
mkdir -p "$root"/{bin,dev,proc,sys,tmp,modules}
cp "$busybox" "$root/bin/busybox"
cp "$here/guest-init.sh" "$root/init"
cp "$here/pattern.awk" "$root/pattern.awk"
chmod 755 "$root/init" "$root/bin/busybox"
i=0
for p in "${modpaths[@]}"; do
	base=$(basename "$p")
	name=$(printf '%02d-%s.ko' "$i" "${base%%.ko*}")
	unpack_module "$p" "$root/modules/$name"
	i=$((i + 1))
done
pack_initramfs "$root" "$tmp" "$out" "$cache" "$cached"
