#!/bin/bash
# Build the VDUSE test initramfs:
#   build-guest.sh KERNEL_DIR OUT.cpio.gz [EXTRA_FILES...]
# Same approach as selftests/vm/build-initramfs.sh (static busybox, /init,
# decompressed modules under /modules, result cached by a hash of all inputs),
# plus:
#  * the vDPA/VDUSE modules ($VDUSE_MODULES) and their dependencies (from
#    modules.dep when the kernel directory has one, else from each module's
#    "depends:" field, which is what depmod reads), in load order;
#  * iproute2's `vdpa` and every EXTRA_FILE in /xbin, each with the shared
#    libraries and loader that ldd reports, at the same paths as on the host;
#  * guest-init.sh as /init and guest/*.sh as /vdtests/*.sh (kernel command
#    line vdtest=NAME runs /vdtests/NAME.sh; vdtest=suite runs every
#    /vdtests/t-*.sh, see run-suite.sh).
# The cache keeps the newest $VDUSE_GUEST_KEEP (8) archives: each new vblkd
# build makes a new one.
# Environment: BUSYBOX (default /bin/busybox), VBLKD_CACHE (/var/cache/vblkd),
#   VDUSE_MODULES (default below), VDPA (default: `command -v vdpa`).
set -euo pipefail

usage() { echo "usage: build-guest.sh KERNEL_DIR OUT.cpio.gz [EXTRA_FILES...]" >&2; exit 2; }
[ $# -ge 2 ] || usage
kdir=$1 out=$2
shift 2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/../vm/initramfs-lib.sh"
cache=${VBLKD_CACHE:-/var/cache/vblkd}
busybox=${BUSYBOX:-/bin/busybox}
modules=${VDUSE_MODULES:-vdpa vhost_iotlb vduse virtio_vdpa virtio_blk irqbypass vhost vhost_vdpa}

die() { echo "build-guest: $*" >&2; exit 1; }
sudo_() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

[ -x "$busybox" ] || die "no busybox at $busybox"
file -L "$busybox" 2>/dev/null | grep -q 'dynamically linked' && die "$busybox is not static"
mroot=$(echo "$kdir"/lib/modules/*)
[ -d "$mroot/kernel" ] || die "no modules under $kdir/lib/modules/*/kernel"

vdpa=${VDPA:-$(command -v vdpa 2>/dev/null || true)}
if [ -z "$vdpa" ]; then
	echo "build-guest: installing iproute2 on the host (for vdpa)" >&2
	sudo_ env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iproute2 >/dev/null
	vdpa=$(command -v vdpa) || die "no vdpa after installing iproute2"
fi

# --- modules -----------------------------------------------------------------
declare -A kpath=()   # module name -> file
while IFS= read -r p; do
	b=${p##*/}; b=${b%%.ko*}; kpath[${b//-/_}]=$p
done < <(find -L "$mroot/kernel" -name '*.ko*')

declare -A depof=()   # from modules.dep: name -> space-separated dep names
if [ -s "$mroot/modules.dep" ]; then
	while IFS= read -r line; do
		m=${line%%:*}; m=${m##*/}; m=${m%%.ko*}; d=
		for x in ${line#*:}; do x=${x##*/}; x=${x%%.ko*}; d+=" ${x//-/_}"; done
		depof[${m//-/_}]=$d
	done < "$mroot/modules.dep"
fi
deps_of() {
	local m=$1
	if [ -s "$mroot/modules.dep" ]; then echo "${depof[$m]:-}"; return; fi
	modinfo -F depends "${kpath[$m]}" | tr ',' ' '
}

# Depth-first, dependencies first; builtins are skipped.
declare -A seen=()
order=()
visit() {
	local m=${1//-/_} d
	[ -z "${seen[$m]:-}" ] || return 0
	seen[$m]=1
	if [ -z "${kpath[$m]:-}" ]; then
		grep -qs "/$m.ko" "$mroot/modules.builtin" && { echo "build-guest: $m is built in" >&2; return 0; }
		die "module $m not found under $mroot"
	fi
	for d in $(deps_of "$m"); do visit "$d"; done
	order+=("$m")
}
for m in $modules; do visit "$m"; done

# --- binaries and their libraries ------------------------------------------
# files[dst]=src for everything copied verbatim (dst relative to the root).
declare -A files=()
add_binary() {
	local src=$1 lib
	[ -f "$src" ] || die "no such file: $src"
	files[xbin/$(basename "$src")]=$src
	# ldd fails on static binaries ("not a dynamic executable"): no libs.
	while read -r lib; do
		[ -n "$lib" ] && files[${lib#/}]=$lib
	done < <(ldd "$src" 2>/dev/null | awk '/=> \// {print $3} /^[ \t]*\/[^ ]+ \(0x/ {print $1}' || true)
}
add_binary "$vdpa"
for f in "$@"; do add_binary "$f"; done
for f in "$here"/guest/*.sh; do files[vdtests/$(basename "$f")]=$f; done
files[init]=$here/guest-init.sh
# The docs whose "sh vduse" blocks guest/t-36-docs.sh runs, and their extractor.
files[vdtests/docs/README.md]=$here/../../README.md
for f in "$here"/../../docs/*.md; do files[vdtests/docs/d/$(basename "$f")]=$f; done
files[vdtests/docs/doc-blocks.awk]=$here/../../scripts/doc-blocks.awk

# --- cache -------------------------------------------------------------------
mapfile -t dsts < <(printf '%s\n' "${!files[@]}" | LC_ALL=C sort)
key=$( {
	cat "${BASH_SOURCE[0]}" "$busybox"
	echo "modules: ${order[*]}"
	for m in "${order[@]}"; do cat "${kpath[$m]}"; done
	for d in "${dsts[@]}"; do echo "file: $d"; cat "${files[$d]}"; done
} | sha256sum | cut -c1-16)
cached=$cache/vduse-guest-$key.cpio.gz
# (Another run may prune the cache between the test and the copy.)
if [ -s "$cached" ] && cp "$cached" "$out" 2>/dev/null; then
	echo "build-guest: $out (cached, modules: ${order[*]})"
	exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root
mkdir -p "$root"/{bin,dev,proc,sys,tmp,run,modules,xbin,vdtests}
cp "$busybox" "$root/bin/busybox"
for d in "${dsts[@]}"; do
	mkdir -p "$root/$(dirname "$d")"
	cp -L "${files[$d]}" "$root/$d"
done
chmod 755 "$root/init" "$root/bin/busybox" "$root"/xbin/*
i=0
for m in "${order[@]}"; do
	p=${kpath[$m]}
	dst=$root/modules/$(printf '%02d-%s.ko' "$i" "$m")
	unpack_module "$p" "$dst"
	i=$((i + 1))
done
pack_initramfs "$root" "$tmp" "$out" "$cache" "$cached"
# shellcheck disable=SC2012 # our own file names
ls -t "$cache"/vduse-guest-*.cpio.gz 2>/dev/null | tail -n +$((${VDUSE_GUEST_KEEP:-8} + 1)) |
	xargs -r rm -f
echo "build-guest: $out ($(du -k "$out" | cut -f1) KiB, modules: ${order[*]})"
