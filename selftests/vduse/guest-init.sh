#!/bin/busybox sh
# shellcheck shell=dash
# /init of the VDUSE test initramfs (built by build-guest.sh).
# Loads /modules/*.ko in order (build-guest.sh numbered them dependencies
# first), then, for vdtest=NAME on the kernel command line:
#  * NAME=suite: runs every /vdtests/t-*.sh in name order (or those listed in
#    vdonly=A,B,...), each in its own process group with a timeout (vdtimeout=
#    seconds, default 300, or a "# vdtest-timeout: N" line in the script),
#    printing around each
#      VDTEST-BEGIN: NAME
#      VDTEST-TAP: ok NAME        or      VDTEST-TAP: not ok NAME <reason>
#    and after the last one "VDTEST-SUITE-END: N tests, N failed";
#  * otherwise: runs /vdtests/NAME.sh once in a subshell (the probe).
# Either way it ends with exactly one
#   VDTEST-RESULT: PASS        or        VDTEST-RESULT: FAIL <reason>
# line on the serial console, then powers off.
# Helpers for test scripts are in /vdtests/lib.sh (guest/lib.sh), sourced
# before every script. Test scripts' binaries (vblkd, vdpa, the host's test
# programs) are in /xbin, first in PATH.
/bin/busybox --install -s /bin
export PATH=/xbin:/bin
mkdir -p /proc /sys /dev /tmp /run
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
# Room for the tests' disk images and their reference copies.
mount -t tmpfs -o size=768m tmp /tmp

result() {
	echo "VDTEST-RESULT: $*"
	sync
	poweroff -f
	sleep 60
}
[ -f /vdtests/lib.sh ] || result "FAIL no /vdtests/lib.sh in the image"
# shellcheck source-path=SCRIPTDIR source=guest/lib.sh
. /vdtests/lib.sh

stamp init
for m in /modules/*.ko; do
	[ -e "$m" ] || continue
	insmod "$m" || result "FAIL insmod $m"
done
stamp modules-loaded
echo "VDTEST-KERNEL: $(uname -r)"

# One test in its own session, so a timeout or a test that leaves daemons
# behind can be cleaned up with one kill of the process group.
run_one() {
	local _t=$1 _name _tmo _pid _wd _rc=0
	_name=$(basename "$_t" .sh)
	_tmo=$(sed -n 's/^# vdtest-timeout: *\([0-9][0-9]*\).*/\1/p' "$_t" | head -n 1)
	_tmo=${_tmo:-$SUITE_TMO}
	rm -f /tmp/vdtest-reason /tmp/vdtest-timeout
	echo "VDTEST-BEGIN: $_name"
	stamp "$_name-begin"
	# shellcheck disable=SC2016 # expanded by the child
	setsid sh -c '. /vdtests/lib.sh; . "$1"' sh "$_t" < /dev/null &
	_pid=$!
	(
		sleep "$_tmo"
		echo "timed out after $_tmo s" > /tmp/vdtest-timeout
		kill -KILL -- "-$_pid" 2> /dev/null
	) &
	_wd=$!
	wait "$_pid" || _rc=$?
	kill "$_wd" 2> /dev/null
	# Whatever the test left running (a daemon after a failure).
	kill -KILL -- "-$_pid" 2> /dev/null
	stamp "$_name-end"
	if [ -f /tmp/vdtest-timeout ]; then
		echo "VDTEST-TAP: not ok $_name $(cat /tmp/vdtest-timeout)"
	elif [ "$_rc" = 0 ]; then
		echo "VDTEST-TAP: ok $_name"
		return 0
	else
		echo "VDTEST-TAP: not ok $_name $(cat /tmp/vdtest-reason 2> /dev/null ||
			echo "exited with status $_rc")"
	fi
	return 1
}

run_suite() {
	local _only _t _name _n=0 _failed=0
	SUITE_TMO=$(cmdline_arg vdtimeout) || SUITE_TMO=300
	_only=$(cmdline_arg vdonly) || _only=
	for _t in /vdtests/t-*.sh; do
		[ -f "$_t" ] || continue
		_name=$(basename "$_t" .sh)
		if [ -n "$_only" ]; then
			case ",$_only," in *",$_name,"*) ;; *) continue ;; esac
		fi
		_n=$((_n + 1))
		run_one "$_t" || _failed=$((_failed + 1))
	done
	echo "VDTEST-SUITE-END: $_n tests, $_failed failed"
	[ "$_n" -gt 0 ] || result "FAIL no test ran"
	[ "$_failed" = 0 ] || result "FAIL $_failed of $_n tests failed"
	result PASS
}

MODE=$(cmdline_arg vdtest) || result "FAIL no vdtest= on the kernel command line"
echo "VDTEST-MODE: $MODE"
[ "$MODE" != suite ] || run_suite
[ -f "/vdtests/$MODE.sh" ] || result "FAIL no test script /vdtests/$MODE.sh"
# shellcheck disable=SC1090
if ( . "/vdtests/$MODE.sh" ); then
	result PASS
else
	result "FAIL $(cat /tmp/vdtest-reason 2>/dev/null || echo "$MODE.sh exited with an error")"
fi
