# shellcheck shell=dash
# The C tests of the VDUSE device through the kernel (selftests/vduse/
# vdpa_test.c, kselftest harness): vhost-vdpa I/O, migration with the state
# moved through the compat endpoint, corrupt states. Each of its TAP lines
# becomes a note; any "not ok", a SKIP of the whole program (exit 4: this
# guest has VDUSE), or no result at all fails this test.
# vdtest-timeout: 600
command -v vdpa_test > /dev/null ||
	fail "vdpa_test is not in the image (selftests/vduse/meson.build: vduse_guest_programs)"
cd /tmp || fail "no /tmp"
run_ksft vdpa_test vdpa_test
