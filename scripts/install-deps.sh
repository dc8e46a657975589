#!/usr/bin/env bash
# Installs what vblkd needs to build and test on Debian bookworm.
#   install-deps.sh build   - compiler, meson, liburing, libmnl, libseccomp
#   install-deps.sh test    - build deps + QEMU 10 (bookworm-backports), the
#                             6.12 guest kernel and the kselftest headers,
#                             unpacked into a cache (never installed on the host),
#                             iproute2 (vdpa, copied into the VDUSE guest) and
#                             the 7.3 guest kernel (scripts/fetch-trixie-kernel.sh,
#                             through a debootstrapped trixie chroot), QEMU 11.1
#                             installed inside that chroot (scripts/fetch-trixie-qemu.sh,
#                             for the inflight suite), libblkio and gcc in
#                             that chroot (scripts/fetch-trixie-blkio.sh) and
#                             bookworm-backports' meson, unpacked beside the
#                             system one (check.sh builds with both), and
#                             clang with libFuzzer (libclang-rt-14-dev) for
#                             the fuzz suite's own build
# The backports suite reuses the mirror URI of the machine's own apt sources.
set -euo pipefail

what=${1:-build}
cache=${VBLKD_CACHE:-/var/cache/vblkd}
sources=/etc/apt/sources.list.d/debian.sources
bpo_list=/etc/apt/sources.list.d/vblkd-bookworm-backports.sources

build_pkgs=(meson ninja-build pkgconf gcc liburing-dev libmnl-dev libnbd-dev librbd-dev libseccomp-dev libjson-c-dev xz-utils
	    busybox-static cpio kmod python3)
bpo_pkgs=(qemu-system-x86 qemu-utils)
# systemd: systemd-socket-activate, for the socket-activation test;
# clang, libclang-rt-14-dev: libFuzzer, for the fuzz suite
test_pkgs=(debootstrap iproute2 systemd clang libclang-rt-14-dev)
# Network disks for the nbd/rbd tests: an NBD server and a throwaway Ceph
# cluster (scripts/ceph-cluster.sh); without recommends (~250 MB, no daemon starts).
netdisk_pkgs=(nbdkit ceph-mon ceph-osd ceph-common python3-rbd)

sudo_() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

missing() {
	local p out=()
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || out+=("$p")
	done
	echo "${out[@]}"
}

apt_updated=
apt_update() {
	[ -n "$apt_updated" ] && return 0
	sudo_ apt-get update -qq
	apt_updated=1
}

mirror_uri() {
	# The first URIs line of the stanza that carries the plain bookworm suite.
	awk '/^URIs:/ {u=$2} /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == "bookworm") { print u; exit } }' "$sources"
}

add_backports() {
	[ -f "$bpo_list" ] && return 0
	local uri
	uri=$(mirror_uri)
	[ -n "$uri" ] || { echo "install-deps: no bookworm URI in $sources" >&2; exit 1; }
	sudo_ tee "$bpo_list" >/dev/null <<SRC
Types: deb
URIs: $uri
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
	apt_updated=
}

install_pkgs() {
	local m
	m=$(missing "$@")
	[ -z "$m" ] && return 0
	apt_update
	# shellcheck disable=SC2086
	sudo_ env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $m
}

install_pkgs_norec() {
	local m
	m=$(missing "$@")
	[ -z "$m" ] && return 0
	apt_update
	# shellcheck disable=SC2086
	sudo_ env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $m
}

install_qemu() {
	add_backports
	if command -v qemu-system-x86_64 >/dev/null &&
	   qemu-system-x86_64 --version | grep -q 'version 10\.'; then
		return 0
	fi
	apt_update
	sudo_ env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends -t bookworm-backports "${bpo_pkgs[@]}"
}

# Newest package whose name matches the regex, from apt's lists.
newest_pkg() {
	apt-cache search --names-only "$1" | awk '{print $1}' | sort -V | tail -n 1
}

fetch_kernel() {
	local dir=$cache/kernel-6.12
	[ -f "$dir/vmlinuz" ] && return 0
	add_backports
	apt_update
	local pkg
	pkg=$(newest_pkg '^linux-image-6\.12\.[0-9]+\+(deb12|bpo)-amd64$')
	[ -n "$pkg" ] || { echo "install-deps: no linux-image-6.12 package found" >&2; exit 1; }
	local tmp
	tmp=$(mktemp -d)
	(cd "$tmp" && apt-get download -qq "$pkg")
	mkdir -p "$dir.new"
	dpkg -x "$tmp"/*.deb "$dir.new"
	cp "$dir.new"/boot/vmlinuz-* "$dir.new/vmlinuz"
	rm -rf "$tmp" "$dir"
	mv "$dir.new" "$dir"
	echo "install-deps: kernel $pkg unpacked in $dir"
}

# The 7.3 kernel comes from trixie-backports, which never becomes a host
# source: the script works in a chroot and caches the result.
fetch_kernel_73() {
	bash "$(dirname "${BASH_SOURCE[0]}")/fetch-trixie-kernel.sh"
}

# QEMU 11.1 (trixie-backports, with vhost-user-blk's inflight-migration)
# is installed inside the same chroot, never on the host.
fetch_qemu_11() {
	bash "$(dirname "${BASH_SOURCE[0]}")/fetch-trixie-qemu.sh"
}

# libblkio 1.5 and a compiler in the same chroot: the libblkio-defaults test
# and make bench build their libblkio client there.
fetch_blkio() {
	bash "$(dirname "${BASH_SOURCE[0]}")/fetch-trixie-blkio.sh"
}

fetch_kselftest() {
	local dir=$cache/kselftest
	[ -f "$dir/kselftest_harness.h" ] && return 0
	apt_update
	local pkg tmp
	pkg=$(newest_pkg '^linux-source-6\.12$')
	[ -n "$pkg" ] || { echo "install-deps: linux-source-6.12 not found" >&2; exit 1; }
	tmp=$(mktemp -d)
	(cd "$tmp" && apt-get download -qq "$pkg" && dpkg -x ./*.deb x)
	local tarball
	tarball=$(ls "$tmp"/x/usr/src/linux-source-6.12*.tar.xz)
	mkdir -p "$tmp/src"
	tar -C "$tmp/src" -xJf "$tarball" --wildcards --no-anchored \
		'tools/testing/selftests/kselftest.h' \
		'tools/testing/selftests/kselftest_harness.h'
	mkdir -p "$dir"
	find "$tmp/src" -name 'kselftest*.h' -exec cp {} "$dir/" \;
	rm -rf "$tmp"
	echo "install-deps: kselftest headers in $dir"
}

# bookworm-backports' meson, unpacked (never installed) so check.sh can
# configure and test with it as well as with bookworm's 1.0. meson is pure
# Python; $dir/meson is a copy of its launcher beside a mesonbuild link, so
# "python3 $dir/meson" imports this version without PYTHONPATH. That matters:
# meson records the command it was started with in build.ninja and runs it
# again to regenerate, with no PYTHONPATH, which would import the system 1.0.
fetch_meson_bpo() {
	local dir=$cache/meson-bpo
	[ -f "$dir/meson" ] && [ -d "$dir/mesonbuild/" ] && return 0
	add_backports
	apt_update
	local ver tmp
	ver=$(apt-cache madison meson | awk -F'|' '$3 ~ /bookworm-backports/ {gsub(/ /, "", $2); print $2}' |
	      sort -V | tail -n 1)
	[ -n "$ver" ] || { echo "install-deps: no meson in bookworm-backports" >&2; exit 1; }
	tmp=$(mktemp -d)
	(cd "$tmp" && apt-get download -qq "meson=$ver")
	rm -rf "$dir.new"
	mkdir -p "$dir.new"
	dpkg -x "$tmp"/meson_*.deb "$dir.new"
	cp "$dir.new/usr/bin/meson" "$dir.new/meson"
	ln -s usr/lib/python3/dist-packages/mesonbuild "$dir.new/mesonbuild"
	echo "$ver" >"$dir.new/VERSION"
	rm -rf "$tmp" "$dir"
	mv "$dir.new" "$dir"
	echo "install-deps: meson $ver unpacked in $dir"
}

mkdir -p "$cache" 2>/dev/null || sudo_ mkdir -p "$cache"
case "$what" in
build) install_pkgs "${build_pkgs[@]}"; fetch_kselftest ;;
test)
	install_pkgs "${build_pkgs[@]}" "${test_pkgs[@]}"
	install_pkgs_norec "${netdisk_pkgs[@]}"
	fetch_kselftest
	install_qemu
	fetch_kernel
	fetch_kernel_73
	fetch_qemu_11
	fetch_blkio
	fetch_meson_bpo
	;;
*) echo "usage: $0 build|test" >&2; exit 2 ;;
esac
