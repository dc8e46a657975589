#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Migration downtime through a real QEMU 11.1: drain vs capture.

    downtime-qemu.py --vblkd BUILD/vblkd --output downtime-qemu.json
                     [--reps 3] [--iops 100,1000] [--writers 16,64]

Runs selftests/vm/qemu-inflight.sh (a TCG guest of the trixie chroot's QEMU
11.1 live-migrated between two throttled vblkd while W O_DIRECT writers, one
4 KiB write in flight each, write their blocks) for inflight-migration=off
(drain) and on (capture), each throttle and writer count, REPS times, and
records QMP query-migrate's "downtime" (ms) of each run.  A run whose TAP
output has a "not ok" line, no plan, or a non-zero exit is a functional
failure: it is recorded, and the program exits 1 once the matrix is done.
Timings never fail it.  Needs root (the chroot), as the test does.

Each writer writes BLOCKS blocks, sized per case so that the writing lasts
about --seconds (default 3) at min(throttle, --guest-iops): the writers must
still be running when the migration completes (the test checks it), while
the guest generates every payload before it starts (about 2 ms a block in
TCG), so a run is as short as that allows.
"""
import argparse
import datetime
import json
import math
import os
import platform
import re
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)
MIGRATED = re.compile(r"^ok \d+ migration completed \(total (\d+) ms, downtime (\d+) ms")
CAPTURED = re.compile(r"with (\d+) request\(s\) captured")
RESUB = re.compile(r"resubmitting (\d+) in-flight")
STILL = re.compile(r"writers still running when the migration completed: (\d+) of")


def blocks_for(iops, writers, seconds, guest_iops, minimum):
    return max(minimum, math.ceil(seconds * min(iops, guest_iops) / writers))


def run_one(args, variant, iops, writers, blocks, logdir, n):
    env = dict(os.environ)
    # make bench-downtime QEMU=1 exports QEMU=1; lib.sh reads QEMU as a program.
    env.pop("QEMU", None)
    env.update({
        "VBLKD": os.path.abspath(args.vblkd),
        "VBLKD_SRC": SRC,
        "VBLKD_CACHE": env.get("VBLKD_CACHE", "/var/cache/vblkd"),
        "INFLIGHT_VBLKD_ARGS": f"--throttle-iops {iops}",
        "INFLIGHT_WRITERS": str(writers),
        "INFLIGHT_BLOCKS": str(blocks),
        "INFLIGHT_MIG_DELAY": str(args.mig_delay),
        "INFLIGHT_REQUIRE": "1",
    })
    cmd = ["bash", os.path.join(SRC, "selftests/vm/qemu-inflight.sh"), variant]
    if os.geteuid() != 0:
        cmd = ["sudo", "--preserve-env"] + cmd
    t0 = time.monotonic()
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, errors="replace", timeout=900)
    wall = time.monotonic() - t0
    out = p.stdout
    log = os.path.join(logdir, f"{n:03d}-{variant}-{iops}-{writers}.tap")
    with open(log, "w", encoding="utf-8") as f:
        f.write(out)
    lines = out.splitlines()
    run = {"type": "run", "mode": "capture" if variant == "on" else "drain",
           "inflight_migration": variant, "throttle_iops": iops, "writers": writers,
           "blocks_per_writer": blocks, "rc": p.returncode, "wall_s": round(wall, 1),
           "downtime_ms": None, "total_ms": None}
    for ln in lines:
        m = MIGRATED.match(ln)
        if m:
            run["total_ms"], run["downtime_ms"] = int(m.group(1)), int(m.group(2))
        m = STILL.search(ln)
        if m:
            run["writers_running_at_completion"] = int(m.group(1))
    run["captured"] = sum(int(x) for x in CAPTURED.findall(out))
    run["resubmitted"] = sum(int(x) for x in RESUB.findall(out))
    bad = [ln for ln in lines if ln.startswith("not ok") or ln.startswith("Bail out")]
    plan = any(re.match(r"^1\.\.\d+$", ln) for ln in lines)
    run["ok"] = p.returncode == 0 and plan and not bad and run["downtime_ms"] is not None
    if not run["ok"]:
        run["failures"] = bad[:5] or [f"exit {p.returncode}"]
        run["log"] = log
    return run


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--vblkd", required=True)
    ap.add_argument("--output", required=True)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--iops", default="100,1000")
    # One writer is between two writes at the stop about half the time: then
    # nothing is in flight, and the test's "resubmitted > 0" check fails.
    ap.add_argument("--writers", default="16,64")
    ap.add_argument("--modes", default="off,on", help="inflight-migration values")
    ap.add_argument("--seconds", type=float, default=3.0,
                    help="how long the writing should last at the throttle")
    ap.add_argument("--guest-iops", type=int, default=2000,
                    help="what the TCG guest writes at most, for sizing")
    ap.add_argument("--min-blocks", type=int, default=8)
    ap.add_argument("--mig-delay", type=float, default=0.5,
                    help="INFLIGHT_MIG_DELAY: seconds from the writers' start to migrate")
    ap.add_argument("--logdir", default=None)
    a = ap.parse_args()
    iops = [int(x) for x in a.iops.split(",")]
    writers = [int(x) for x in a.writers.split(",")]
    modes = a.modes.split(",")
    logdir = a.logdir or "/tmp/vblkd-downtime-qemu-logs"
    os.makedirs(logdir, exist_ok=True)
    qver = subprocess.run(["bash", os.path.join(SRC, "selftests/vm/chroot-qemu.sh"),
                           "--version"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True).stdout.splitlines()[:1]
    doc = {"type": "downtime-qemu", "qemu": qver[0] if qver else "?",
           "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
           "machine": {"cpus": os.cpu_count(), "kernel": platform.release(),
                       "arch": platform.machine()},
           "guest": "TCG, 2 vCPUs, 512 MiB, vhost-user-blk-pci num-queues=2, "
                    "each writer one O_DIRECT 4 KiB write at a time",
           "reps": a.reps, "seconds": a.seconds, "guest_iops": a.guest_iops,
           "mig_delay_s": a.mig_delay, "runs": []}
    t0 = time.monotonic()
    n = 0
    failed = 0
    # Repetitions outermost, so that a drift of the machine spreads over every case.
    for rep in range(a.reps):
        for t in iops:
            for w in writers:
                for v in modes:
                    b = blocks_for(t, w, a.seconds, a.guest_iops, a.min_blocks)
                    n += 1
                    r = run_one(a, v, t, w, b, logdir, n)
                    r["rep"] = rep
                    doc["runs"].append(r)
                    failed += not r["ok"]
                    print(f"downtime-qemu: {n:3d} {r['mode']:7s} {t:5d} IOPS {w:2d} writers "
                          f"x {b:5d}: downtime {r['downtime_ms']} ms, total {r['total_ms']} ms, "
                          f"captured {r['captured']}, {r['wall_s']} s"
                          + ("" if r["ok"] else f"  FAILED {r['failures']} ({r['log']})"),
                          flush=True)
                    with open(a.output, "w", encoding="utf-8") as f:
                        json.dump(doc, f, indent=1)
    doc["elapsed_s"] = round(time.monotonic() - t0)
    doc["failed_runs"] = failed
    med = []
    for t in iops:
        for w in writers:
            for v in modes:
                ds = [r["downtime_ms"] for r in doc["runs"]
                      if r["ok"] and r["throttle_iops"] == t and r["writers"] == w
                      and r["inflight_migration"] == v]
                if ds:
                    med.append({"type": "median", "mode": "capture" if v == "on" else "drain",
                                "throttle_iops": t, "writers": w, "runs": len(ds),
                                "downtime_ms": statistics.median(ds)})
    doc["medians"] = med
    with open(a.output, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1)
    print(f"downtime-qemu: {n} runs in {doc['elapsed_s']} s, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
