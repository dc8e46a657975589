#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Run built test programs and print TAP as the kernel's kselftest runner does.

Usage: run_tests.py --build DIR [--suite S]... [NAME]...
       run_tests.py --prog PATH...

The tests come from the build's meson-info/intro-tests.json (command,
env, timeout, working dir), restricted to the suites (default unit and host)
and, when given, to the NAMEs; --prog runs programs as they are, with
this environment and a 45 s timeout; --override-timeout S sets every
test's. For each test:

    # selftests: vblkd: NAME
    # timeout set to T                     ("# overriding timeout to T")
    # <its output, stdout and stderr, each line prefixed "# ">
    ok N selftests: vblkd: NAME                     exit 0
    ok N selftests: vblkd: NAME # SKIP              exit 4 (KSFT_SKIP) or 77 (meson's)
    not ok N selftests: vblkd: NAME # TIMEOUT T seconds
    not ok N selftests: vblkd: NAME # exit=RC

after "TAP version 13" and "1..N". Exit status: 1 when a test failed.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import time

COLLECTION = "vblkd"
SKIP_CODES = (4, 77)
DEFAULT_TIMEOUT = 45


def out(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def meson_tests(build, suites, names):
    # The file meson writes for introspection: no meson of the build's
    # version needed to read it.
    with open(os.path.join(build, "meson-info", "intro-tests.json")) as f:
        intro = json.load(f)
    tests = []
    for t in intro:
        # meson names a suite "project:suite".
        in_suite = any(s.split(":")[-1] in suites for s in t["suite"])
        if (names and t["name"] in names) or (not names and in_suite):
            tests.append(t)
    missing = set(names) - {t["name"] for t in tests}
    for name in sorted(missing):
        tests.append({"name": name, "cmd": [name], "env": {}, "timeout": DEFAULT_TIMEOUT,
                      "workdir": None})
    return tests


def run_one(num, t, override_timeout):
    hdr = f"selftests: {COLLECTION}: {t['name']}"
    timeout = override_timeout or t.get("timeout") or DEFAULT_TIMEOUT
    out(f"# {hdr}")
    prog = t["cmd"][0]
    if not os.path.exists(prog):
        out(f"# Warning: file {prog} is missing!")
        out(f"not ok {num} {hdr}")
        return False
    if not os.access(prog, os.X_OK):
        out(f"# Warning: file {prog} is not executable")
        out(f"not ok {num} {hdr}")
        return False
    if override_timeout:
        out(f"# overriding timeout to {timeout}")
    else:
        out(f"# timeout set to {timeout}")
    env = dict(os.environ)
    env.update(t.get("env") or {})
    # Its own session, so a timeout kills the daemons it started too.
    p = subprocess.Popen(t["cmd"], cwd=t.get("workdir") or None, env=env,
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + timeout
    timed_out = False
    os.set_blocking(p.stdout.fileno(), False)
    pending = b""
    while True:
        chunk = None
        try:
            chunk = p.stdout.read()
        except BlockingIOError:
            pass
        if chunk:
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                out("# " + line.decode(errors="replace"))
        elif chunk == b"" and p.poll() is not None:
            break
        if time.monotonic() > deadline:
            timed_out = True
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
            break
        if not chunk:
            time.sleep(0.02)
    if pending:
        out("# " + pending.decode(errors="replace"))
    rc = p.wait()
    if timed_out:
        out("#")
        out(f"not ok {num} {hdr} # TIMEOUT {timeout} seconds")
        return False
    if rc == 0:
        out(f"ok {num} {hdr}")
    elif rc in SKIP_CODES:
        out(f"ok {num} {hdr} # SKIP")
    else:
        out(f"not ok {num} {hdr} # exit={rc}")
        return False
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", help="the meson build dir")
    ap.add_argument("--suite", action="append", help="suites to run (default: unit, host)")
    ap.add_argument("--prog", action="store_true", help="the arguments are programs to run")
    ap.add_argument("--override-timeout", type=int, default=0, metavar="S",
                    help="every test's timeout, in seconds")
    ap.add_argument("names", nargs="*")
    a = ap.parse_args()
    if a.prog:
        tests = [{"name": os.path.basename(p), "cmd": [os.path.abspath(p)], "env": {},
                  "timeout": DEFAULT_TIMEOUT, "workdir": None} for p in a.names]
    elif a.build:
        tests = meson_tests(a.build, a.suite or ["unit", "host"], a.names)
    else:
        ap.error("--build DIR or --prog is required")
    out("TAP version 13")
    out(f"1..{len(tests)}")
    ok = True
    for num, t in enumerate(tests, 1):
        ok = run_one(num, t, a.override_timeout) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
