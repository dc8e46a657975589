#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""`make -C selftests run_tests` prints the kernel kselftest runner's TAP.

Usage: run_tests_test.py SRC BUILD. Runs the runner twice: on two cheap
tests of BUILD (layers, vu_msg), and on four stand-in programs that pass,
skip (exit 4), fail (exit 3) and time out, then checks every line's shape.
Prints TAP.
"""
import os
import re
import subprocess
import sys
import tempfile

src, build = sys.argv[1], sys.argv[2]
points = []


def point(ok, name, detail=""):
    points.append((ok, name, detail))


def run_tests(*make_args):
    p = subprocess.run(["make", "-s", "--no-print-directory", "-C",
                        os.path.join(src, "selftests"), "run_tests", "NO_BUILD=1",
                        f"BUILD={build}", *make_args],
                       capture_output=True, text=True, timeout=300)
    return p.returncode, p.stdout.splitlines()


def shape_errors(lines, names):
    """What in @lines breaks the runner's TAP for the tests @names, in order."""
    errs = []
    if lines[:2] != ["TAP version 13", f"1..{len(names)}"]:
        errs.append(f"header is {lines[:2]}")
    i, num = 2, 0
    for name in names:
        num += 1
        hdr = f"selftests: vblkd: {name}"
        if i >= len(lines) or lines[i] != f"# {hdr}":
            errs.append(f"test {num}: no '# {hdr}' at line {i + 1}")
            return errs
        i += 1
        while i < len(lines) and lines[i].startswith("#"):
            if lines[i] != "#" and not lines[i].startswith("# "):
                errs.append(f"line {i + 1} not indented with '# ': {lines[i]!r}")
            i += 1
        if i >= len(lines) or not re.fullmatch(rf"(not )?ok {num} {re.escape(hdr)}( # .*)?",
                                                lines[i]):
            errs.append(f"test {num}: no result line for {name} at line {i + 1}")
            return errs
        i += 1
    if i != len(lines):
        errs.append(f"{len(lines) - i} lines after the last result")
    return errs


def results(lines):
    return [l for l in lines if re.match(r"(not )?ok \d", l)]


# Two real tests of the build: their own TAP nests, indented.
rc, lines = run_tests("TESTS=layers vu_msg")
errs = shape_errors(lines, ["layers", "vu_msg"])
point(not errs, "built tests: header, per-test header, indented output, result lines",
      "; ".join(errs))
point(results(lines) == ["ok 1 selftests: vblkd: layers", "ok 2 selftests: vblkd: vu_msg"]
      and rc == 0, "built tests that pass are ok and make exits 0", f"rc {rc}: {results(lines)}")
point("# TAP version 13" in lines and any(l.startswith("# ok 1 ") for l in lines),
      "a test's own TAP is nested behind '# '")
point("# timeout set to 60" in lines, "the meson timeout is announced as kselftest does")

# Stand-ins for each outcome.
with tempfile.TemporaryDirectory() as tmp:
    progs = {
        "passes": "echo first line; echo second line >&2; exit 0",
        "skips": "echo not here; exit 4",
        "fails": "echo broken; exit 3",
        "hangs": "echo waiting; exec sleep 60",
    }
    paths = []
    for name, body in progs.items():
        path = os.path.join(tmp, name)
        with open(path, "w") as f:
            f.write(f"#!/bin/sh\n{body}\n")
        os.chmod(path, 0o755)
        paths.append(path)
    rc, lines = run_tests("TEST_PROGS=" + " ".join(paths), "TIMEOUT=2")
errs = shape_errors(lines, list(progs))
point(not errs, "stand-ins: the same shape", "; ".join(errs))
want = [
    "ok 1 selftests: vblkd: passes",
    "ok 2 selftests: vblkd: skips # SKIP",
    "not ok 3 selftests: vblkd: fails # exit=3",
    "not ok 4 selftests: vblkd: hangs # TIMEOUT 2 seconds",
]
point(results(lines) == want, "exit 0, exit 4, exit 3 and a hang give ok, SKIP, exit=3, TIMEOUT",
      f"{results(lines)}")
point("# first line" in lines and "# second line" in lines,
      "stdout and stderr both reach the stream, indented")
point("# overriding timeout to 2" in lines, "TIMEOUT= is announced as an override")
point(rc != 0, "make fails when a test failed", f"rc {rc}")

print("TAP version 13")
print(f"1..{len(points)}")
failed = False
for n, (ok, name, detail) in enumerate(points, 1):
    if not ok:
        failed = True
        for l in detail.splitlines() or [""]:
            print(f"# {l}")
    print(f"{'ok' if ok else 'not ok'} {n} {name}")
if failed:
    print("# runner output:")
    for l in lines:
        print(f"#   {l}")
sys.exit(1 if failed else 0)
