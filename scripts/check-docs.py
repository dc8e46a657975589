#!/usr/bin/env python3
# Every command line README.md and docs/*.md show is run by a test. Each
# fenced block says how in its info string:
#   ```text                  not commands (a synopsis, output, a file layout)
#   ```sh test [fresh]       run here, in a sandbox: a private /tmp (when
#                            unshare works), build/ linked into the working
#                            directory and on PATH
#   ```sh qemu [fresh]       run by the qemu suite (selftests/vm/qemu-docs.sh)
#   ```sh vduse [fresh]      run inside the VDUSE guest (guest/t-36-docs.sh)
#   ```sh untested REASON    shown, not run: reported as a TAP SKIP with REASON
# A block without one of these tags fails. TAP, one point per file.
#   check-docs.py SOURCE_ROOT BUILD_DIR
import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile

KINDS = {"test", "qemu", "vduse", "untested"}
RUNNERS = {"qemu": "selftests/vm/qemu-docs.sh", "vduse": "selftests/vduse/guest/t-36-docs.sh"}


def fences(path):
    """(line number, info string) of every opening fence."""
    out, inside = [], False
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.startswith("```"):
                continue
            if inside:
                inside = False
                continue
            inside = True
            out.append((n, line[3:].strip()))
    return out


def run_test_blocks(root, build, path):
    """Run the file's "sh test" blocks in a sandbox. Return (ok, output)."""
    script = subprocess.run(["awk", "-v", "kind=test", "-f",
                             os.path.join(root, "scripts/doc-blocks.awk"), path],
                            capture_output=True, text=True, check=True).stdout
    prologue = ("set -e\n"
                "doc_fresh() { for p in $(jobs -p); do kill $p; wait $p || true; done; }\n"
                "trap 'doc_fresh' EXIT\nset -x\n")
    # Not under /tmp, which the sandbox replaces with its own.
    work = tempfile.mkdtemp(prefix="vblkd-docs.", dir="/var/tmp")
    try:
        wbuild = os.path.join(work, "build")
        env = dict(os.environ, PATH=wbuild + ":" + os.environ["PATH"])
        cmd = ["bash", "-c", prologue + script]
        # A private /tmp: the docs name fixed paths such as /tmp/src.sock.
        # The build tree is bound into the working directory first: it may
        # itself live under /tmp (a clone there), which the tmpfs hides.
        if shutil.which("unshare") and os.geteuid() == 0:
            # Sanitizer options naming files under /tmp (a suppressions
            # file, a log path of a clone there) would stop every program
            # at start: reports go to stderr instead, and still fail.
            for var in ("TSAN_OPTIONS", "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
                if var in env:
                    env[var] = ":".join(o for o in env[var].split(":")
                                        if not o.partition("=")[2].startswith("/tmp"))
            os.mkdir(wbuild)
            cmd = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
                   'mount --bind "$0" build && mount -t tmpfs docs-tmp /tmp && exec "$@"',
                   os.path.abspath(build)] + cmd
        else:
            os.symlink(os.path.abspath(build), wbuild)
        p = subprocess.Popen(cmd, cwd=work, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, start_new_session=True)
        try:
            out, _ = p.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            out, _ = p.communicate()
            return False, out + "\n(timed out after 120 s)"
        return p.returncode == 0, out
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main():
    root, build = sys.argv[1], sys.argv[2]
    files = [os.path.join(root, "README.md")] + sorted(glob.glob(os.path.join(root, "docs/*.md")))
    points = []
    for path in files:
        rel = os.path.relpath(path, root)
        blocks = fences(path)
        bad = [f"{rel}:{n}: ```{info}" for n, info in blocks
               if info != "text" and not (info.split()[:1] == ["sh"] and len(info.split()) > 1
                                          and info.split()[1] in KINDS)]
        for n, info in blocks:
            words = info.split()
            if len(words) > 1 and words[0] == "sh" and words[1] in RUNNERS and \
                    not os.path.exists(os.path.join(root, RUNNERS[words[1]])):
                bad.append(f"{rel}:{n}: no runner {RUNNERS[words[1]]}")
            if words[:2] == ["sh", "untested"]:
                points.append((True, f"{rel}:{n} # SKIP not run: {' '.join(words[2:]) or '?'}", ""))
        points.append((not bad, f"{rel}: every fenced block says how it is tested",
                       "\n".join(bad)))
        kinds = {info.split()[1] for _, info in blocks if len(info.split()) > 1}
        for k in sorted(kinds & set(RUNNERS)):
            nb = sum(1 for _, i in blocks if i.split()[1:2] == [k])
            points.append((True, f"{rel}: {nb} '{k}' block(s), run by {RUNNERS[k]}", ""))
        if "test" in kinds:
            ok, out = run_test_blocks(root, build, path)
            points.append((ok, f"{rel}: the 'sh test' blocks run and succeed", out))
    print("TAP version 13")
    print(f"1..{len(points)}")
    for i, (ok, desc, detail) in enumerate(points, 1):
        print(f"{'ok' if ok else 'not ok'} {i} {desc}")
        if not ok and detail:
            for line in detail.splitlines()[-40:]:
                print(f"# {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
