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

# Bind mounts made while installing into the chroot, undone by
# chroot_unmount_all (an EXIT trap) in reverse order.
mounted=()
chroot_unmount_all() {
	local rc=$? i
	trap - EXIT INT TERM
	for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
		sudo_ umount -R "${mounted[$i]}" 2>/dev/null || sudo_ umount -R -l "${mounted[$i]}" 2>/dev/null || true
	done
	exit $rc
}

bind_in_chroot() { # DIR (same path inside the chroot)
	local dst=$root$1
	mountpoint -q "$dst" && return 0
	sudo_ mkdir -p "$dst"
	sudo_ mount --rbind "$1" "$dst"
	sudo_ mount --make-rslave "$dst"
	mounted+=("$dst")
}

# /proc, /sys and /dev bound into the chroot for apt-get, undone on exit.
chroot_bind_system() {
	trap chroot_unmount_all EXIT
	trap 'exit 130' INT TERM
	bind_in_chroot /proc
	bind_in_chroot /sys
	bind_in_chroot /dev
}
