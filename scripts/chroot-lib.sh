# shellcheck shell=bash
# What the trixie chroot scripts share (fetch-trixie-kernel.sh,
# fetch-trixie-qemu.sh). Sourced; the caller sets $root to the chroot.

sudo_() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# A command inside the chroot with a clean environment (proxy settings pass through).
in_chroot() {
	local e=() v
	for v in http_proxy https_proxy no_proxy; do
		[ -z "${!v:-}" ] || e+=("$v=${!v}")
	done
	sudo_ env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 \
		DEBIAN_FRONTEND=noninteractive "${e[@]}" chroot "$root" "$@"
}
