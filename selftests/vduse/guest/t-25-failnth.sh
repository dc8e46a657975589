# shellcheck shell=dash
# The fail-the-n-th-call sweep over VDUSE device creation
# (selftests/unit/failnth_test.c), which the host skips for want of
# /dev/vduse/control: every injected failure must unwind without a leaked
# fd or thread, and a create right after must succeed. A SKIP here fails.
# vdtest-timeout: 300
command -v failnth_test > /dev/null ||
	fail "failnth_test is not in the image (selftests/vduse/meson.build: vduse_guest_programs)"
cd /tmp || fail "no /tmp"
run_ksft failnth failnth_test -t vduse_create_fails_cleanly_at_every_step
if grep -qi '^ok .*# *skip' /tmp/ksft.failnth.out; then
	fail "the VDUSE create sweep skipped in a guest with VDUSE"
fi
