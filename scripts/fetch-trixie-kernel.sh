#!/usr/bin/env bash
# Fetches the Debian 7.3 guest kernel (trixie-backports) without touching the
# host's apt sources:
#   1. a trixie minbase chroot at $VBLKD_CACHE/trixie-chroot (debootstrap),
#      with a trixie-backports source inside it;
#   2. `apt-get download` of the newest linux-binary-7.3.*-amd64 (vmlinuz) and
#      linux-modules-7.3.*-amd64 (modules) inside the chroot;
#   3. `dpkg -x` of both into $VBLKD_CACHE/kernel-7.3 (vmlinuz at
#      kernel-7.3/vmlinuz, modules under kernel-7.3/lib/modules/*/).
# The mirror URI comes from the host's debian.sources.  Idempotent: a second
# run only checks the cache.  FORCE=1 re-resolves the packages (apt-get update
# inside the chroot) and re-downloads if a newer 7.3 is available.
# Environment: VBLKD_CACHE (default /var/cache/vblkd), KVER (default 7.3).
set -euo pipefail

cache=${VBLKD_CACHE:-/var/cache/vblkd}
kver=${KVER:-7.3}
root=$cache/trixie-chroot
kdir=$cache/kernel-$kver
sources=/etc/apt/sources.list.d/debian.sources
t_start=$SECONDS

die() { echo "fetch-trixie-kernel: $*" >&2; exit 1; }
say() { echo "fetch-trixie-kernel: $*"; }
# shellcheck source=scripts/chroot-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/chroot-lib.sh"

if [ -f "$kdir/vmlinuz" ] && [ -f "$kdir/.packages" ] && [ "${FORCE:-0}" != 1 ]; then
	say "cached: $(cat "$kdir/.packages") in $kdir"
	exit 0
fi

mirror_uri() {
	# The URIs line of the stanza that carries the plain bookworm suite.
	awk '/^URIs:/ {u=$2} /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == "bookworm") { print u; exit } }' "$sources"
}
uri=$(mirror_uri)
[ -n "$uri" ] || die "no bookworm URI in $sources"

# Mounts made by this script, unmounted (in reverse order) on exit.
mounted=()
cleanup() {
	local rc=$? i
	trap - EXIT INT TERM
	for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
		sudo_ umount "${mounted[$i]}" 2>/dev/null || sudo_ umount -l "${mounted[$i]}" 2>/dev/null || true
	done
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mount_in_chroot() { # TYPE SRC DIR (DIR relative to the chroot)
	local dst=$root/$3
	mountpoint -q "$dst" && return 0
	sudo_ mkdir -p "$dst"
	sudo_ mount -t "$1" "$2" "$dst"
	mounted+=("$dst")
}

sudo_ mkdir -p "$cache"

# --- 1. the chroot -----------------------------------------------------------
t0=$SECONDS
if [ ! -f "$root/.vblkd-complete" ]; then
	if ! command -v debootstrap >/dev/null 2>&1; then
		say "installing debootstrap on the host"
		{ sudo_ apt-get update -qq &&
		  sudo_ env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap; } \
			> "$cache/host-apt.log" 2>&1 || { cat "$cache/host-apt.log" >&2; die "cannot install debootstrap"; }
	fi
	# A half-made chroot from an interrupted run: start again (never remove
	# a tree that still has something mounted in it).
	for d in "$root" "$root.new"; do
		[ -e "$d" ] || continue
		if findmnt -rn -o TARGET | grep -q "^$d/"; then
			die "something is mounted under $d (another run?); not removing it"
		fi
		sudo_ rm -rf "$d"
	done
	say "debootstrap --variant=minbase trixie $root $uri"
	sudo_ debootstrap --variant=minbase trixie "$root.new" "$uri" > "$cache/trixie-debootstrap.log" 2>&1 ||
		{ tail -n 20 "$cache/trixie-debootstrap.log" >&2; die "debootstrap failed (log: $cache/trixie-debootstrap.log)"; }
	sudo_ mv "$root.new" "$root"
	sudo_ touch "$root/.vblkd-complete"
	say "chroot created in $((SECONDS - t0)) s"
else
	say "chroot present ($root)"
fi

bpo=$root/etc/apt/sources.list.d/trixie-backports.sources
want="Types: deb
URIs: $uri
Suites: trixie-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg"
if [ "$(cat "$bpo" 2>/dev/null)" != "$want" ]; then
	printf '%s\n' "$want" | sudo_ tee "$bpo" >/dev/null
	sudo_ rm -f "$root/.vblkd-apt-updated"
fi

# apt inside the chroot wants /proc (and a /dev, which debootstrap populates).
mount_in_chroot proc proc proc

t0=$SECONDS
if [ ! -f "$root/.vblkd-apt-updated" ] || [ "${FORCE:-0}" = 1 ]; then
	in_chroot apt-get update -qq
	sudo_ touch "$root/.vblkd-apt-updated"
	say "apt-get update (chroot) took $((SECONDS - t0)) s"
fi

# --- 2. the packages -------------------------------------------------------
kv_re=${kver//./\\.}
newest() { in_chroot apt-cache search --names-only "$1" | awk '{print $1}' | sort -V | tail -n 1; }
# Names like linux-binary-7.3.4+deb13-amd64 / linux-modules-7.3.4+deb13-amd64;
# the generic flavour only (not -rt-amd64 or -cloud-amd64).
bin_pkg=$(newest "^linux-binary-${kv_re}\.[0-9]+\+[^-]+-amd64\$")
mod_pkg=$(newest "^linux-modules-${kv_re}\.[0-9]+\+[^-]+-amd64\$")
if [ -z "$bin_pkg" ] || [ -z "$mod_pkg" ]; then
	echo "fetch-trixie-kernel: candidates in the chroot:" >&2
	in_chroot apt-cache search --names-only "^linux-(image|binary|modules)-${kv_re}" >&2 || true
	die "no linux-binary/linux-modules $kver package in trixie-backports"
fi
[ "${bin_pkg#linux-binary-}" = "${mod_pkg#linux-modules-}" ] ||
	die "version mismatch: $bin_pkg vs $mod_pkg"
stamp="$bin_pkg $mod_pkg"
if [ -f "$kdir/vmlinuz" ] && [ "$(cat "$kdir/.packages" 2>/dev/null)" = "$stamp" ]; then
	say "cached: $stamp in $kdir (total $((SECONDS - t_start)) s)"
	exit 0
fi

t0=$SECONDS
# Download into a directory inside the chroot, then move the .debs to
# $cache/trixie-debs/ (kept: re-unpacking never downloads again).
debs=$cache/trixie-debs
sudo_ mkdir -p "$debs"
have() { ls "$debs/$1"_*.deb >/dev/null 2>&1; }
if have "$bin_pkg" && have "$mod_pkg"; then
	say "using the cached .debs in $debs"
else
	dl=/tmp/vblkd-dl.$$
	sudo_ mkdir -p "$root$dl"
	sudo_ chmod 777 "$root$dl" # apt downloads as _apt
	in_chroot sh -c "cd $dl && apt-get download -qq $bin_pkg $mod_pkg" ||
		{ sudo_ rm -rf "$root$dl"; die "apt-get download failed"; }
	sudo_ mv "$root$dl"/*.deb "$debs/"
	sudo_ rm -rf "$root$dl"
	say "downloaded $stamp in $((SECONDS - t0)) s"
fi

# --- 3. unpack -----------------------------------------------------------------
t0=$SECONDS
sudo_ rm -rf "$kdir.new"
sudo_ mkdir -p "$kdir.new"
for p in "$bin_pkg" "$mod_pkg"; do
	deb=$(ls "$debs/$p"_*.deb | sort -V | tail -n 1)
	sudo_ dpkg -x "$deb" "$kdir.new"
done
# 7.x packages put the image at usr/lib/modules/VER/vmlinuz; older ones at
# boot/vmlinuz-VER.
vmlinuz=
for f in "$kdir.new"/usr/lib/modules/*/vmlinuz "$kdir.new"/lib/modules/*/vmlinuz "$kdir.new"/boot/vmlinuz-*; do
	[ -f "$f" ] && { vmlinuz=$f; break; }
done
[ -n "$vmlinuz" ] || die "no vmlinuz in $bin_pkg"
ls -d "$kdir.new"/lib/modules/*/kernel >/dev/null 2>&1 || ls -d "$kdir.new"/usr/lib/modules/*/kernel >/dev/null 2>&1 ||
	die "no lib/modules/*/kernel in $mod_pkg"
# Merged /usr: give the modules the lib/modules path the guest builders use.
if [ ! -d "$kdir.new/lib/modules" ] && [ -d "$kdir.new/usr/lib/modules" ]; then
	sudo_ ln -s usr/lib "$kdir.new/lib"
fi
sudo_ cp "$vmlinuz" "$kdir.new/vmlinuz"
echo "$stamp" | sudo_ tee "$kdir.new/.packages" >/dev/null
sudo_ rm -rf "$kdir"
sudo_ mv "$kdir.new" "$kdir"
say "unpacked in $((SECONDS - t0)) s: $kdir/vmlinuz, $(echo "$kdir"/lib/modules/*)"
say "total $((SECONDS - t_start)) s"
