# shellcheck shell=dash
# The guest environment every other test relies on: VDUSE and vdpa modules,
# /dev/vduse/control, the vduse management device, room in /tmp, and a vblkd
# that runs here (its shared libraries were copied in).
# vdtest-timeout: 60
[ -c /dev/vduse/control ] || fail "no /dev/vduse/control"
[ -d /sys/bus/vdpa/devices ] || fail "no /sys/bus/vdpa"
for m in vdpa vduse virtio_vdpa vhost_vdpa virtio_blk; do
	[ -d "/sys/module/$m" ] || fail "module $m is not loaded"
done
note "kernel $(uname -r), $(nproc) CPUs, $(awk '/MemTotal/ { print $2 / 1024 " MiB" }' /proc/meminfo)"
for d in /sys/bus/vdpa/drivers/*; do
	[ -d "$d" ] && note "vdpa driver $(basename "$d")"
done
for f in /sys/module/vduse/parameters/*; do
	[ -e "$f" ] && note "vduse parameter $(basename "$f")=$(cat "$f" 2>/dev/null)"
done
mgmt=$(vdpa mgmtdev show 2>&1) || fail "vdpa mgmtdev show: $mgmt"
note "vdpa mgmtdev show: $mgmt"
case "$mgmt" in *vduse*) ;; *) fail "vdpa mgmtdev show does not list vduse" ;; esac
free_kib=$(df -k /tmp | awk 'NR == 2 { print $4 }')
[ "${free_kib:-0}" -ge 262144 ] || fail "only ${free_kib} KiB free in /tmp"
command -v vblkd > /dev/null || fail "no vblkd in /xbin"
vblkd --help > /tmp/vblkd-help.txt 2>&1 || fail "vblkd --help failed: $(head -n 3 /tmp/vblkd-help.txt)"
grep -q -- --vduse /tmp/vblkd-help.txt || fail "this vblkd has no --vduse option"
