#!/bin/busybox sh
# shellcheck shell=dash
# /init of the VDUSE test initramfs (built by build-guest.sh).
# Loads /modules/*.ko in order (build-guest.sh numbered them dependencies
# first), then runs /vdtests/NAME.sh for vdtest=NAME on the kernel command
# line, in a subshell that can use the helpers below, and prints exactly one
#   VDTEST-RESULT: PASS        or        VDTEST-RESULT: FAIL <reason>
# line on the serial console before powering off.
# Helpers for test scripts: fail REASON (ends the test), note TEXT (prints
# "VDTEST-NOTE: TEXT"), stamp LABEL (prints "VDTEST-TIME: LABEL <uptime s>"),
# cmdline_arg NAME (value of NAME= on the kernel command line).
# Test scripts' binaries (vdpa, EXTRA_FILES) are in /xbin, first in PATH.
/bin/busybox --install -s /bin
export PATH=/xbin:/bin
mkdir -p /proc /sys /dev /tmp /run
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp

result() {
	echo "VDTEST-RESULT: $*"
	sync
	poweroff -f
	sleep 60
}
note() { echo "VDTEST-NOTE: $*"; }
stamp() { echo "VDTEST-TIME: $1 $(cut -d' ' -f1 /proc/uptime)"; }
fail() { echo "$*" > /tmp/vdtest-reason; exit 1; }
cmdline_arg() {
	local a
	for a in $(cat /proc/cmdline); do
		case "$a" in "$1"=*) echo "${a#*=}"; return 0 ;; esac
	done
	return 1
}

stamp init
for m in /modules/*.ko; do
	[ -e "$m" ] || continue
	insmod "$m" || result "FAIL insmod $m"
done
stamp modules-loaded

MODE=$(cmdline_arg vdtest) || result "FAIL no vdtest= on the kernel command line"
[ -f "/vdtests/$MODE.sh" ] || result "FAIL no test script /vdtests/$MODE.sh"
echo "VDTEST-MODE: $MODE"
# shellcheck disable=SC1090
if ( . "/vdtests/$MODE.sh" ); then
	result PASS
else
	result "FAIL $(cat /tmp/vdtest-reason 2>/dev/null || echo "$MODE.sh exited with an error")"
fi
