#!/usr/bin/env bash
# Runs every test suite (unit, host, qemu, vduse, inflight) of the normal build, then
# the unit and host suites again in a build with AddressSanitizer and UBSan
# and in one with ThreadSanitizer, the unit suite in a build configured by
# bookworm-backports' meson, the fuzz suite in a clang build (30 s per
# libFuzzer target), and ends with the summary line
# "N passed, N failed, N skipped" over all of them.
# Exit status: non-zero on any failure.
set -uo pipefail
build=${1:-build}
asan=${build}-asan
tsan=${build}-tsan
mnew=${build}-meson-new
fuzz=${build}-fuzz
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${VBLKD_CACHE:-/var/cache/vblkd}
werror=$( [ -n "${CI:-}" ] && echo --werror )

# "check: <step> took N s" after each of the added builds.
took() { echo "check: $1 took $((SECONDS - $2)) s"; }

rc=0
# VDUSE_REQUIRE: the vduse suite fails, rather than skips, when QEMU or a
# guest kernel is missing; INFLIGHT_REQUIRE: the inflight suite fails when
# the trixie chroot has no QEMU 11.1 (install-deps.sh test provides them all).
VDUSE_REQUIRE=1 INFLIGHT_REQUIRE=1 meson test -C "$build" --print-errorlogs --num-processes 2 --timeout-multiplier 2 || rc=1

# Sanitizers: any report aborts the daemon or the test, which fails it.
if [ ! -f "$asan/build.ninja" ]; then
	meson setup $werror -Db_sanitize=address,undefined -Db_lundef=false "$asan" >/dev/null || rc=1
fi
ninja -C "$asan" >/dev/null || rc=1
ASAN_OPTIONS=abort_on_error=1:detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	meson test -C "$asan" --print-errorlogs --num-processes 2 --timeout-multiplier 3 \
	--suite unit --suite host || rc=1

# The newest meson too (install-deps.sh test unpacks bookworm-backports' one
# beside the system 1.0): configure, build and run the unit suite, so both
# versions read meson.build and meson_options.txt. Missing is a failure.
t=$SECONDS
meson_bpo=$cache/meson-bpo/meson
meson_bpo_ver=$(cat "$cache/meson-bpo/VERSION" 2>/dev/null || echo missing)
meson_bpo_ver=${meson_bpo_ver%%-*} # upstream version: 1.7.0-1~bpo12+1 is meson 1.7.0
rm -f "$mnew/meson-logs/testlog.json"
if [ -f "$meson_bpo" ]; then
	if [ ! -f "$mnew/build.ninja" ]; then
		python3 "$meson_bpo" setup $werror "$mnew" >/dev/null || rc=1
	fi
	ninja -C "$mnew" >/dev/null || rc=1
	python3 "$meson_bpo" test -C "$mnew" --print-errorlogs --num-processes 2 \
		--timeout-multiplier 2 --suite unit || rc=1
else
	echo "check: no bookworm-backports meson in $cache/meson-bpo (install-deps.sh test)" >&2
	rc=1
fi
took "meson $meson_bpo_ver build and unit suite" $t

# ThreadSanitizer: the unit and host suites once more. The host tests spawn
# vblkd from this build (selftests/meson.build), so the daemon is checked too.
# scripts/tsan-test.sh points the log_path of each test, inherited by the
# vblkd processes it starts, at $tsan_logs/<test>.<pid>: a report names its
# test and outlives the test deleting the daemon's own log. halt_on_error
# stops a racing process at its first report with exit code 66, which its
# test may not notice (a daemon torn down with SIGKILL, a second daemon), so
# any report left in $tsan_logs fails the check, one failure per distinct
# report. -Wno-error=tsan: gcc 12 warns that TSan does not model
# atomic_thread_fence; the fences in core/ and frontend/ order guest memory
# against the other side, another process, which TSan cannot follow anyway.
# With a wrapper, meson names the log testlog-<wrapper>.json.
t=$SECONDS
tsan_logs=$(realpath -m "$tsan")/tsan-logs
tsan_json=$tsan/meson-logs/testlog-tsan-test.sh.json
if [ ! -f "$tsan/build.ninja" ]; then
	meson setup $werror -Dc_args=-Wno-error=tsan -Db_sanitize=thread -Db_lundef=false \
		"$tsan" >/dev/null || rc=1
fi
ninja -C "$tsan" >/dev/null || rc=1
rm -rf "$tsan_logs" "$tsan_json" "$tsan/meson-logs/tsan-reports.json"
mkdir -p "$tsan_logs"
VBLKD_TSAN_LOGS=$tsan_logs TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:exitcode=66 \
	meson test -C "$tsan" --wrapper "$here/tsan-test.sh" --print-errorlogs \
	--num-processes 2 --timeout-multiplier 4 --suite unit --suite host || rc=1
python3 "$here/tsan-reports.py" "$tsan_logs" "$tsan/meson-logs/tsan-reports.json" || rc=1
took "ThreadSanitizer build and unit, host suites" $t

# libFuzzer: each target of the fuzz suite for 30 s from its seeds in
# selftests/fuzz/corpus, two at a time, in a clang tree of its own that
# builds only them (scripts/fuzz-build.sh). A crash, a leak, a UBSan report
# or an input that hangs fails its test (selftests/fuzz/README.md).
t=$SECONDS
rm -f "$fuzz/meson-logs/testlog.json"
if bash "$here/fuzz-build.sh" "$fuzz" $werror; then
	meson test -C "$fuzz" --no-rebuild --print-errorlogs --num-processes 2 --suite fuzz || rc=1
else
	rc=1
fi
took "clang fuzz build and fuzz suite" $t

python3 - "$build/meson-logs/testlog.json" "" "$asan/meson-logs/testlog.json" " [asan]" \
	"$mnew/meson-logs/testlog.json" " [meson $meson_bpo_ver]" \
	"$tsan_json" " [tsan]" "$tsan/meson-logs/tsan-reports.json" " [tsan]" \
	"$fuzz/meson-logs/testlog.json" " [fuzz]" <<'PY'
# Count the TAP test points every program prints, so the summary says how
# many checks ran, not how many programs; a program that failed without a
# failing point (a crash, a timeout) counts as one failure. Arguments: pairs
# of a testlog.json and the tag its lines get.
import json, re, sys
total = {"passed": 0, "failed": 0, "skipped": 0}
point = re.compile(r"^(not ok|ok)\b(.*)$")
lines = []
for path, tag in zip(sys.argv[1::2], sys.argv[2::2]):
    try:
        with open(path) as f:
            lines += [(l, tag) for l in f]
    except FileNotFoundError:
        lines.append((json.dumps({"name": "missing " + path, "result": "ERROR"}), tag))
for line, tag in lines:
    if not line.strip():
        continue
    t = json.loads(line)
    c = {"passed": 0, "failed": 0, "skipped": 0}
    for out in (t.get("stdout") or "").splitlines():
        m = point.match(out.strip())
        if not m:
            continue
        if re.search(r"#\s*SKIP", m.group(2), re.I):
            c["skipped"] += 1
        elif m.group(1) == "ok":
            c["passed"] += 1
        else:
            c["failed"] += 1
    r = t.get("result")
    if r == "SKIP" and not any(c.values()):
        c["skipped"] = 1
    elif r not in ("OK", "EXPECTEDFAIL", "SKIP") and not c["failed"]:
        c["failed"] += 1
    elif r in ("OK", "EXPECTEDFAIL") and not any(c.values()):
        c["passed"] = 1
    for k in total:
        total[k] += c[k]
    print(f"  {r:8} {t['name'] + tag:40} {c['passed']} passed, {c['failed']} failed, "
          f"{c['skipped']} skipped ({t.get('duration', 0):.1f} s)")
print(f"{total['passed']} passed, {total['failed']} failed, {total['skipped']} skipped")
sys.exit(1 if total["failed"] else 0)
PY
prc=$?
[ $rc -ne 0 ] && exit 1
exit $prc
