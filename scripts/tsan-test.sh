#!/bin/sh
# meson test --wrapper for check.sh's TSan build: each test program, and each
# vblkd it spawns (which inherits TSAN_OPTIONS), writes its reports to
# $VBLKD_TSAN_LOGS/<test>.<pid>, so a report names the test that caused it
# even when the test deletes the daemon's own log.
TSAN_OPTIONS="${TSAN_OPTIONS:+$TSAN_OPTIONS:}log_path=$VBLKD_TSAN_LOGS/$(basename "$1")" exec "$@"
