#!/bin/bash
# Run a kselftest-style script for `meson test`: meson treats exit 77 (not
# kselftest's 4) as "skipped", so map 4 to 77; other codes pass through.
set -uo pipefail
[ $# -ge 1 ] || { echo "usage: ksft-to-meson.sh SCRIPT [ARGS...]" >&2; exit 99; }
bash "$@"
rc=$?
[ $rc -eq 4 ] && exit 77
exit $rc
