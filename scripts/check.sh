#!/usr/bin/env bash
# Runs every test suite (unit, host, qemu) and ends with the summary line
# "N passed, N failed, N skipped". Exit status: non-zero on any failure.
set -uo pipefail
build=${1:-build}

meson test -C "$build" --print-errorlogs --num-processes 2 --timeout-multiplier 2
rc=$?

python3 - "$build/meson-logs/testlog.json" <<'PY'
import json, sys
passed = failed = skipped = 0
with open(sys.argv[1]) as f:
    for line in f:
        line = line.strip()
        if not line:
            continue
        t = json.loads(line)
        r = t.get("result")
        print(f"  {r:8} {t.get('suite', [''])[0].split(':')[-1]:6} {t['name']} ({t.get('duration', 0):.1f} s)")
        if r in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif r == "SKIP":
            skipped += 1
        else:
            failed += 1
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed else 0)
PY
prc=$?
[ $rc -ne 0 ] && exit 1
exit $prc
