#!/bin/sh
# meson test --wrapper for check.sh's TSan build: each test program, and each
# vblkd it spawns (which inherits TSAN_OPTIONS), writes its reports to
# $VBLKD_TSAN_LOGS/<test>.<pid>, so a report names the test that caused it
# even when the test deletes the daemon's own log.
# tsan.supp: Ceph's libraries (not built with TSan) for the rbd tests.
TSAN_OPTIONS="${TSAN_OPTIONS:+$TSAN_OPTIONS:}suppressions=$(dirname "$0")/tsan.supp:log_path=$VBLKD_TSAN_LOGS/$(basename "$1")" exec "$@"
