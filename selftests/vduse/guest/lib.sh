# shellcheck shell=dash
# Helpers for the guest's test scripts, sourced by /init (guest-init.sh) and
# by every suite test (vdtest=suite runs each /vdtests/t-*.sh in its own
# process). busybox sh: functions share variables with their caller, so
# helpers prefix their own names with _.
#
#   fail REASON          end the test: REASON becomes the TAP explanation; the
#                        tails of the files in $VDTEST_LOGS are printed first
#   note TEXT            "VDTEST-NOTE: TEXT", a # line in the host's TAP
#   stamp LABEL          "VDTEST-TIME: LABEL <uptime s>"
#   cmdline_arg NAME     value of NAME= on the kernel command line
#   uptime_s             seconds since boot (centiseconds)
#   mbps BYTES T0 T1     MB/s between two uptime_s values
#   alive PID            PID exists and is not a zombie
#   gone PID             not alive PID
#   wait_until SECS CMD  poll CMD every 0.1 s, up to SECS seconds
#   vdpa_blkdev NAME     the block device (vdX) virtio_vdpa made for NAME
#   vblkd_start LOG ARG  vblkd ARG... in the background; pid in VBLKD_PID
#   vblkd_stop PID SECS  SIGTERM, wait up to SECS; returns its exit status
#   vduse_wait_disk NAME PID SECS
#                        wait until NAME is on the vdpa bus with a disk, set
#                        VD_DEV to its vdX; fails the test if PID dies first
#   log_notes FILE [N]   the last N (20) lines of FILE as notes
#   dmesg_mark / dmesg_since MARK
#                        kernel log lines printed after the mark
#   run_ksft NAME CMD    run a kselftest program, forward its TAP as notes,
#                        fail on any "not ok", no result, or exit != 0 (exit
#                        4, SKIP, is a failure here: the guest has VDUSE)

export PATH=/xbin:/bin
# Test programs find the daemon here (the host passes it in /xbin).
export VBLKD=/xbin/vblkd
VDTEST_LOGS=

note() {
	local _l
	printf '%s\n' "$*" | while IFS= read -r _l; do echo "VDTEST-NOTE: $_l"; done
}
uptime_s() { cut -d' ' -f1 /proc/uptime; }
stamp() { echo "VDTEST-TIME: $1 $(uptime_s)"; }
fail() {
	local _f
	for _f in $VDTEST_LOGS; do
		[ -s "$_f" ] && log_notes "$_f" 25
	done
	echo "$*" > /tmp/vdtest-reason
	exit 1
}
cmdline_arg() {
	local _a
	# shellcheck disable=SC2013 # words, not lines
	for _a in $(cat /proc/cmdline); do
		case "$_a" in "$1"=*) echo "${_a#*=}"; return 0 ;; esac
	done
	return 1
}
mbps() { awk -v b="$1" -v a="$2" -v c="$3" 'BEGIN { d = c - a; if (d <= 0) d = 0.01; printf "%.1f", b / 1e6 / d }'; }

alive() {
	local _st
	_st=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$_st" ] && [ "$_st" != Z ]
}

gone() { ! alive "$1"; }

wait_until() {
	local _end
	_end=$(($(cut -d. -f1 /proc/uptime) + $1))
	shift
	while ! "$@"; do
		[ "$(cut -d. -f1 /proc/uptime)" -lt "$_end" ] || return 1
		sleep 0.1
	done
}

vdpa_blkdev() {
	local _b
	for _b in /sys/bus/vdpa/devices/"$1"/virtio*/block/*; do
		[ -e "$_b" ] || continue
		basename "$_b"
		return 0
	done
	return 1
}

log_notes() {
	local _l
	note "--- last ${2:-20} lines of $1"
	tail -n "${2:-20}" "$1" | while IFS= read -r _l; do note "  $_l"; done
}

vblkd_start() {
	local _log=$1
	shift
	echo "+ vblkd $*" >> "$_log"
	vblkd "$@" >> "$_log" 2>&1 &
	# shellcheck disable=SC2034 # the caller's
	VBLKD_PID=$!
}

vblkd_stop() {
	local _pid=$1 _end _rc=0
	kill -TERM "$_pid" 2>/dev/null || true
	_end=$(($(cut -d. -f1 /proc/uptime) + $2))
	while alive "$_pid"; do
		if [ "$(cut -d. -f1 /proc/uptime)" -ge "$_end" ]; then
			kill -KILL "$_pid" 2>/dev/null
			wait "$_pid" 2>/dev/null
			return 124
		fi
		sleep 0.1
	done
	wait "$_pid" || _rc=$?
	return $_rc
}

# Not for $(...): fail must end the test's own shell.
vduse_wait_disk() {
	local _end
	VD_DEV=
	_end=$(($(cut -d. -f1 /proc/uptime) + $3))
	while :; do
		if [ -e "/sys/bus/vdpa/devices/$1" ] && VD_DEV=$(vdpa_blkdev "$1") &&
		   [ -b "/dev/$VD_DEV" ]; then
			return 0
		fi
		alive "$2" || { wait "$2"; fail "vblkd for $1 exited (status $?) before its disk appeared"; }
		[ "$(cut -d. -f1 /proc/uptime)" -lt "$_end" ] ||
			fail "$1: no disk on the vdpa bus after $3 s"
		sleep 0.1
	done
}

dmesg_mark() { dmesg | wc -l; }
dmesg_since() { dmesg | awk -v m="$1" 'NR > m'; }

run_ksft() {
	local _name=$1 _rc _ok _notok _skip _l
	shift
	rm -f "/tmp/ksft.$_name.out" "/tmp/ksft.$_name.rc"
	stamp "$_name-start"
	{ "$@" 2>&1; echo "$?" > "/tmp/ksft.$_name.rc"; } |
		while IFS= read -r _l; do
			echo "$_l" >> "/tmp/ksft.$_name.out"
			note "$_name: $_l"
		done
	stamp "$_name-end"
	_rc=$(cat "/tmp/ksft.$_name.rc" 2>/dev/null || echo none)
	_ok=$(grep -c '^ok ' "/tmp/ksft.$_name.out" 2>/dev/null)
	_notok=$(grep -c '^not ok ' "/tmp/ksft.$_name.out" 2>/dev/null)
	_skip=$(grep -ci '^ok .*# *skip' "/tmp/ksft.$_name.out" 2>/dev/null)
	note "$_name: exit $_rc; ${_ok:-0} ok (${_skip:-0} of them SKIP), ${_notok:-0} not ok"
	[ "$_rc" != 4 ] || fail "$_name skipped everything (exit 4) although this guest has VDUSE"
	_l=$(sed -n 's/^not ok [0-9]* \([^ ]*\).*/\1/p' "/tmp/ksft.$_name.out" | head -n 4 | tr '\n' ' ')
	_l=${_l% }
	[ "$_rc" = 0 ] || fail "$_name: exit $_rc, ${_notok:-0} not ok${_l:+: $_l}"
	[ "${_notok:-0}" = 0 ] || fail "$_name: ${_notok} not ok: $_l"
	[ "${_ok:-0}" -gt 0 ] || fail "$_name printed no test result"
	[ "${_ok:-0}" -gt "${_skip:-0}" ] || fail "$_name: every test skipped"
}
