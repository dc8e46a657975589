# shellcheck shell=dash
# Issue 13, item 5: the "sh vduse" blocks of README.md and docs/*.md, run as
# shown (build-guest.sh copies the docs and scripts/doc-blocks.awk into
# /vdtests/docs). The working directory has build/vblkd and build/vblkctl.
# The guest loaded its modules at boot, so modprobe here only checks that
# they are loaded. A block tagged "fresh" first stops the vblkd that earlier
# blocks started (SIGTERM: each removes its device). Checks: every block
# exits 0, `vdpa dev show` printed the device, and the quickstart's resize to
# 512M shows in sysfs (1048576 sectors).
# vdtest-timeout: 300

D=/vdtests/docs
W=/tmp/docs-vduse
LOG=/tmp/docs-vduse.log
# shellcheck disable=SC2034 # read by fail (lib.sh)
VDTEST_LOGS=$LOG

mkdir -p "$W/build" /var/tmp
ln -sf /xbin/vblkd "$W/build/vblkd"
ln -sf /xbin/vblkctl "$W/build/vblkctl"
awk -v kind=vduse -f "$D/doc-blocks.awk" "$D/README.md" "$D"/d/*.md > /tmp/docs-vduse.sh ||
	fail "cannot extract the docs' vduse blocks"
note "$(grep -c '^# ' /tmp/docs-vduse.sh) vduse block(s) from the docs"
cat > /tmp/docs-prologue.sh << 'EOS'
set -e
modprobe() {
	for _m in "$@"; do
		case "$_m" in -*) continue ;; esac
		grep -q "^$_m " /proc/modules || { echo "module $_m is not loaded"; return 1; }
	done
}
# The vblkd this shell started, by parent pid: SIGTERM and reap each.
doc_fresh() {
	set +x
	for _s in /proc/[0-9]*/stat; do
		read -r _pid _comm _st _ppid _rest < "$_s" 2> /dev/null || continue
		[ "$_ppid" = "$$" ] && [ "$_comm" = "(vblkd)" ] || continue
		echo "doc_fresh: stopping vblkd $_pid"
		kill "$_pid"
		wait "$_pid" || true
	done
	set -x
}
trap doc_fresh EXIT
set -x
EOS
(cd "$W" && sh -c "$(cat /tmp/docs-prologue.sh /tmp/docs-vduse.sh)") > "$LOG" 2>&1 ||
	fail "the docs' vduse command lines failed (status $?)"
log_notes "$LOG" 40
grep -q "vblk0: type block" "$LOG" || fail "vdpa dev show printed no vblk0"
grep -qx 1048576 "$LOG" || fail "the resize to 512M did not show in sysfs"
