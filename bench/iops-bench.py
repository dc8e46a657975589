#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""make bench: vblkd side by side with qemu-storage-daemon, one run.

    iops-bench.py --build BUILD --output DIR [--reps N] [--runtime-ms N]
                  [--blkio PROG] [--quick] [--vduse VDUSE.json]

Starts every back-end once, each on its own vhost-user socket:
  vblkd        vblkd on a page-cached 1 GiB file (io_uring)
  vblkd-poll   the same with --poll-us 50
  vblkd-null   vblkd on null:1G, when this vblkd knows null: images
  qsd-uring    qemu-storage-daemon 10.0, file driver, aio=io_uring
  qsd-threads  qemu-storage-daemon 10.0, file driver, aio=threads
  qsd-null     qemu-storage-daemon 10.0, null-co with read-zeroes=on
  qsd11-uring  the trixie chroot's qemu-storage-daemon 11.1, aio=io_uring,
               when the chroot has it
  vblkd-nbd, qsd-nbd   both on one nbdkit memory export (UNIX socket)
  vblkd-rbd, qsd-rbd   both on one image of a throwaway Ceph cluster
               (scripts/ceph-cluster.sh, memstore, layering only, a 256 MiB
               image) that
               --no-netdisk leaves out
then drives each with two clients, bench/iops_fe (frontend/'s driver) and,
with --blkio, bench/iops_blkio (libblkio 1.5, run in the trixie chroot).
Every repetition of a workload runs each back-end once, in an order rotated
per repetition (A/B alternation), so a drift of the machine spreads over
all of them. Writes bench.json (every run, the medians, the memory figures),
bench.md (tables with ratios) and bench.png in DIR. Timings never fail the
run; a client that fails or reports errors on a vblkd row does (exit 1,
after the report); one on a qemu-storage-daemon row is listed under
Failures in bench.md.
"""
import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CHROOT = os.path.join(os.environ.get("VBLKD_CACHE", "/var/cache/vblkd"), "trixie-chroot")
CHROOT_RUN = os.path.join(ROOT, "selftests", "vm", "chroot-qemu.sh")
IMAGE_SIZE = 1 << 30
# The rbd image: the test cluster's memstore OSD holds 1 GiB in RAM.
RBD_SIZE = 256 << 20
QUEUES = 2          # every back-end offers two; a client uses 1 or 2
QUEUE_SIZE = 1024   # the largest ring each back-end accepts

# (rw, bs, qd, queues, clients): the matrix. "both" runs the
# libblkio client too; the 64 KiB and multi-queue rows use frontend/'s.
WORKLOADS = [(rw, 4096, qd, nq, "both" if nq == 1 else "fe")
             for rw in ("randread", "randwrite") for nq in (1, 2) for qd in (1, 4, 32, 128)]
WORKLOADS += [("read", 65536, 8, 1, "fe"), ("write", 65536, 8, 1, "fe"),
              ("randrw", 4096, 32, 1, "both")]
QUICK = [w for w in WORKLOADS if w[3] == 1 and w[2] in (1, 32) and w[1] == 4096]
# Polling only where it can matter: one request at a time.
POLL_ONLY = lambda w: w[2] == 1 and w[3] == 1
# Notification suppression: frontend/'s client without EVENT_IDX ("fe-noei"),
# on vblkd and qsd's io_uring file driver, 4 KiB at QD 1 and 32.
NOEI = lambda w: w[1] == 4096 and w[3] == 1 and w[2] in (1, 32) and w[0] != "randrw"
NOEI_BACKENDS = ("vblkd", "qsd-uring")


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


class Backend:
    def __init__(self, name, argv, sock, chroot=False, label=None):
        self.name, self.argv, self.sock, self.chroot = name, argv, sock, chroot
        self.label = label or name
        self.proc = None

    def start(self, tmp):
        out = open(os.path.join(tmp, self.name + ".log"), "wb")
        argv = self.argv
        env = dict(os.environ)
        if self.chroot:
            env.update(VBLKD_CHROOT_BIND=tmp, QEMU_BIN=argv[0])
            argv = ["bash", CHROOT_RUN] + argv[1:]
        self.proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env)
        deadline = time.time() + 20
        while not os.path.exists(self.sock):
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"{self.name} did not start: see {out.name}")
            time.sleep(0.02)
        # chroot-qemu.sh execs into the daemon: the pid is the daemon's.
        self.pid = self.proc.pid

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def qsd_argv(binary, sock, blockdev):
    return [binary, "--blockdev", blockdev,
            "--export", f"type=vhost-user-blk,id=e0,node-name=d0,addr.type=unix,"
            f"addr.path={sock},writable=on,num-queues={QUEUES}"]


class NetDisks:
    """An nbdkit memory export and a one-node Ceph cluster with an rbd image."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.nbd_sock = os.path.join(tmp, "nbdkit.sock")
        self.ceph = os.path.join(tmp, "ceph")
        self.nbdkit = None
        self.ceph_up = False

    def start(self):
        self.nbdkit = subprocess.Popen(["nbdkit", "--foreground", "--unix", self.nbd_sock,
                                        "--exit-with-parent", "memory", str(IMAGE_SIZE)],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while not os.path.exists(self.nbd_sock):
            if self.nbdkit.poll() is not None or time.time() > deadline:
                raise RuntimeError("nbdkit did not start")
            time.sleep(0.02)
        os.makedirs(self.ceph)
        r = subprocess.run(["bash", os.path.join(ROOT, "scripts", "ceph-cluster.sh"), "start",
                            self.ceph, "layering"], capture_output=True, text=True,
                           env=dict(os.environ, CEPH_CLUSTER_OWNER=str(os.getpid())))
        if r.returncode:
            raise RuntimeError(f"ceph-cluster.sh: {r.stderr.strip()}")
        self.ceph_up = True
        conf = os.path.join(self.ceph, "ceph.conf")
        r = subprocess.run(["timeout", "60", "rbd", "-c", conf, "create", "--size",
                            f"{RBD_SIZE >> 20}M", "rbd/bench"], capture_output=True, text=True)
        if r.returncode:
            raise RuntimeError(f"rbd create: {r.stderr.strip()}")
        # Written once, so reads do not see unallocated objects.
        r = subprocess.run(["timeout", "300", "rbd", "-c", conf, "bench", "--io-type", "write",
                            "--io-size", "4M", "--io-total", str(RBD_SIZE),
                            "--io-pattern", "seq", "rbd/bench"], capture_output=True, text=True)
        if r.returncode:
            raise RuntimeError(f"rbd bench (fill): {r.stderr.strip()}")
        self.conf = conf

    def stop(self):
        if self.nbdkit and self.nbdkit.poll() is None:
            self.nbdkit.kill()
            self.nbdkit.wait()
        if self.ceph_up:
            subprocess.run(["bash", os.path.join(ROOT, "scripts", "ceph-cluster.sh"), "stop",
                            self.ceph], capture_output=True)


def netdisk_backends(args, tmp, nd):
    vblkd = os.path.join(args.build, "vblkd")
    qsd = shutil.which("qemu-storage-daemon")
    s = lambda n: os.path.join(tmp, n + ".sock")
    common = ["--num-queues", str(QUEUES), "--log-level", "warn"]
    return [
        Backend("vblkd-nbd", [vblkd, "--vhost-user", s("vblkd-nbd"), "--image",
                              f"nbd+unix:///?socket={nd.nbd_sock}"] + common, s("vblkd-nbd")),
        Backend("qsd-nbd", qsd_argv(qsd, s("qsd-nbd"), "driver=nbd,node-name=d0,"
                                    f"server.type=unix,server.path={nd.nbd_sock}"),
                s("qsd-nbd")),
        Backend("vblkd-rbd", [vblkd, "--vhost-user", s("vblkd-rbd"), "--image",
                              f"rbd:rbd/bench:conf={nd.conf}"] + common, s("vblkd-rbd")),
        Backend("qsd-rbd", qsd_argv(qsd, s("qsd-rbd"), "driver=rbd,node-name=d0,pool=rbd,"
                                    f"image=bench,conf={nd.conf}"), s("qsd-rbd")),
    ]


# Network disks: 4 KiB random I/O on one queue at QD 1 and 32 (two servers
# behind one ring each; every request crosses a socket or librados).
NETDISK = lambda w: w[1] == 4096 and w[3] == 1 and w[2] in (1, 32) and w[0] != "randrw"


def backends(args, tmp, image):
    vblkd = os.path.join(args.build, "vblkd")
    help_text = subprocess.run([vblkd, "--help"], capture_output=True, text=True).stdout
    s = lambda n: os.path.join(tmp, n + ".sock")
    common = ["--num-queues", str(QUEUES), "--queue-size", str(QUEUE_SIZE), "--log-level", "warn"]
    file_bd = lambda aio: (f"driver=file,node-name=d0,filename={image},aio={aio},"
                           "cache.direct=off")
    null_bd = f"driver=null-co,node-name=d0,size={IMAGE_SIZE},read-zeroes=on"
    out = [
        Backend("vblkd", [vblkd, "--vhost-user", s("vblkd"), "--image", image] + common,
                s("vblkd")),
        Backend("vblkd-poll", [vblkd, "--vhost-user", s("vblkd-poll"), "--image", image,
                               "--poll-us", "50"] + common, s("vblkd-poll")),
    ]
    if "null:" in help_text:
        out.append(Backend("vblkd-null", [vblkd, "--vhost-user", s("vblkd-null"), "--image",
                                          f"null:{IMAGE_SIZE}"] + common, s("vblkd-null")))
    else:
        log("this vblkd has no null: images; no vblkd-null row")
    qsd = shutil.which("qemu-storage-daemon")
    for name, bd in (("qsd-uring", file_bd("io_uring")), ("qsd-threads", file_bd("threads")),
                     ("qsd-null", null_bd)):
        out.append(Backend(name, qsd_argv(qsd, s(name), bd), s(name)))
    if os.path.exists(os.path.join(CHROOT, "usr/bin/qemu-storage-daemon")) and os.getuid() == 0:
        out.append(Backend("qsd11-uring", qsd_argv("qemu-storage-daemon", s("qsd11-uring"),
                                                   file_bd("io_uring")),
                           s("qsd11-uring"), chroot=True))
    return out


def run_client(args, tmp, client, be, w):
    rw, bs, qd, nq, _ = w
    opts = ["--socket", be.sock, "--rw", rw, "--bs", str(bs), "--qd", str(qd),
            "--queues", str(nq), "--runtime-ms", str(args.runtime_ms),
            "--warmup-ms", str(args.warmup_ms), "--pid", str(be.pid)]
    if client in ("fe", "fe-noei"):
        argv, env = [os.path.join(args.build, "bench", "iops_fe")] + opts, None
        if client == "fe-noei":
            argv.append("--no-event-idx")
    else:
        argv = ["bash", CHROOT_RUN] + opts
        env = dict(os.environ, VBLKD_CHROOT_BIND=tmp, QEMU_BIN=args.blkio)
    r = subprocess.run(argv, capture_output=True, text=True, env=env,
                       timeout=15 + 3 * (args.runtime_ms + args.warmup_ms) / 1000)
    if r.returncode != 0 or not r.stdout.strip():
        raise RuntimeError(f"{client} on {be.name} {w}: exit {r.returncode}: {r.stderr.strip()}")
    res = json.loads(r.stdout.strip().splitlines()[-1])
    res.update(backend=be.name, client=client)
    return res


def rss_kib(pid):
    """Resident memory of @pid without guest memory (memfd or shm mappings)."""
    total = 0
    skip = False
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 5 and "-" in parts[0] and ":" in parts[2]:
                path = " ".join(parts[5:])
                skip = path.startswith("/memfd:") or path.startswith("/dev/shm")
            elif parts and parts[0] == "Rss:" and not skip:
                total += int(parts[1])
    return total


def memory(args, tmp, image):
    """Idle and loaded RSS of each kind of back-end, with 1 and 16 queues."""
    out = []
    vblkd = os.path.join(args.build, "vblkd")
    qsd = shutil.which("qemu-storage-daemon")
    for nq in (1, 16):
        sock = lambda n: os.path.join(tmp, f"mem-{n}-{nq}.sock")
        cands = [
            Backend(f"vblkd", [vblkd, "--vhost-user", sock("vblkd"), "--image", image,
                               "--num-queues", str(nq), "--queue-size", str(QUEUE_SIZE),
                               "--log-level", "warn"], sock("vblkd")),
            Backend("qsd-uring", [qsd, "--blockdev", f"driver=file,node-name=d0,filename={image},"
                                  "aio=io_uring", "--export",
                                  f"type=vhost-user-blk,id=e0,node-name=d0,addr.type=unix,"
                                  f"addr.path={sock('qsd')},writable=on,num-queues={nq}"],
                    sock("qsd")),
        ]
        for be in cands:
            be.name = f"{be.name}-mem{nq}"
            be.start(tmp)
            try:
                time.sleep(0.3)
                idle = rss_kib(be.pid)
                w = ("randread", 4096, 32, nq, "fe")
                cl = subprocess.Popen([os.path.join(args.build, "bench", "iops_fe"),
                                       "--socket", be.sock, "--qd", "32", "--queues", str(nq),
                                       "--runtime-ms", "1500", "--warmup-ms", "0"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                peak = idle
                while cl.poll() is None:
                    time.sleep(0.1)
                    try:
                        peak = max(peak, rss_kib(be.pid))
                    except OSError:
                        break
                if cl.returncode:
                    raise RuntimeError(f"memory client on {be.name}: {cl.stderr.read()}")
                out.append({"backend": be.label, "queues": nq, "idle_kib": idle,
                            "load_kib": peak, "workload": w[0]})
            finally:
                be.stop()
    return out


def machine():
    with open("/proc/cpuinfo") as f:
        model = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "?")
    ver = lambda argv: (subprocess.run(argv, capture_output=True, text=True).stdout
                        .splitlines() or ["?"])[0]
    return {"cpus": os.cpu_count(), "cpu": model, "kernel": platform.release(),
            "qsd": ver(["qemu-storage-daemon", "--version"])}


def on_signal(sig, frame):
    raise SystemExit(128 + sig)  # unwinds through the finally blocks: no daemon left


def main():
    signal.signal(signal.SIGTERM, on_signal)
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--output", default=os.path.join(HERE, "results"))
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--runtime-ms", type=int, default=500)
    ap.add_argument("--warmup-ms", type=int, default=100)
    ap.add_argument("--blkio", help="iops_blkio, built in the trixie chroot")
    ap.add_argument("--quick", action="store_true", help="QD 1 and 32, 4 KiB, one queue")
    ap.add_argument("--vduse", help="bench/vduse-bench.sh's JSON, for the report")
    ap.add_argument("--no-netdisk", action="store_true", help="no nbd and rbd rows")
    args = ap.parse_args()
    args.build = os.path.abspath(args.build)
    workloads = QUICK if args.quick else WORKLOADS
    # Under a bound directory, so the chroot's programs see the same paths.
    tmp = tempfile.mkdtemp(prefix="vblkd-bench.", dir="/var/tmp")
    image = os.path.join(tmp, "disk.img")
    with open(image, "wb") as f:
        chunk = b"\xa5" * (1 << 20)
        for _ in range(IMAGE_SIZE >> 20):
            f.write(chunk)
    with open(image, "rb") as f:  # into the page cache
        while f.read(1 << 22):
            pass
    if args.blkio:
        shutil.copy(args.blkio, os.path.join(tmp, "iops_blkio"))
        args.blkio = os.path.join(tmp, "iops_blkio")
    bes = backends(args, tmp, image)
    runs, failures = [], []
    fatal = []  # failures of vblkd's own rows
    t0 = time.time()
    nd = NetDisks(tmp)
    try:
        if not args.no_netdisk:
            try:
                nd.start()
                bes += netdisk_backends(args, tmp, nd)
            except (RuntimeError, OSError) as e:
                failures.append(f"network disks: {e}")
                fatal.append(failures[-1])
                log(f"no nbd/rbd rows: {e}")
        for be in list(bes):
            try:
                be.start(tmp)
            except RuntimeError as e:
                failures.append(str(e))
                if be.name.startswith("vblkd"):
                    fatal.append(str(e))
                log(str(e))
                bes.remove(be)
        log("back-ends: " + ", ".join(f"{b.name} (pid {b.pid})" for b in bes))
        for w in workloads:
            clients = ["fe", "blkio"] if w[4] == "both" and args.blkio else ["fe"]
            if NOEI(w):
                clients.append("fe-noei")
            sel = [b for b in bes if (b.name != "vblkd-poll" or POLL_ONLY(w)) and
                   (not b.name.endswith(("-nbd", "-rbd")) or NETDISK(w))]
            hung = {}
            for rep in range(args.reps):
                order = sel[rep % len(sel):] + sel[:rep % len(sel)]
                for client in clients:
                    for be in order:
                        if client == "fe-noei" and be.name not in NOEI_BACKENDS:
                            continue
                        if hung.get((client, be.name), 0) >= 2:
                            continue  # said once in the failures already
                        try:
                            res = run_client(args, tmp, client, be, w)
                        except (RuntimeError, subprocess.TimeoutExpired) as e:
                            hung[(client, be.name)] = hung.get((client, be.name), 0) + 1
                            failures.append(str(e))
                            if be.name.startswith("vblkd"):
                                fatal.append(str(e))
                            log(str(e))
                            continue
                        res["rep"] = rep
                        if res["errors"]:
                            failures.append(f"{client} on {be.name} {w}: {res['errors']} errors")
                            if be.name.startswith("vblkd"):
                                fatal.append(failures[-1])
                        runs.append(res)
            log(f"{w[0]} bs {w[1]} qd {w[2]} queues {w[3]}: done ({time.time() - t0:.0f} s)")
    finally:
        for be in bes:
            be.stop()
        nd.stop()
    mem = memory(args, tmp, image)
    if failures:  # keep the back-ends' logs for a look
        logs = os.path.join(args.output, "bench-logs")
        os.makedirs(logs, exist_ok=True)
        for n in os.listdir(tmp):
            if n.endswith(".log"):
                shutil.copy(os.path.join(tmp, n), logs)
        log(f"back-end logs in {logs}")
    shutil.rmtree(tmp, ignore_errors=True)
    doc = {"machine": machine(), "reps": args.reps, "runtime_ms": args.runtime_ms,
           "image_bytes": IMAGE_SIZE, "runs": runs, "memory": mem, "failures": failures,
           "seconds": round(time.time() - t0)}
    os.makedirs(args.output, exist_ok=True)
    path = os.path.join(args.output, "bench.json")
    with open(path, "w") as f:
        json.dump(doc, f, indent=1)
    r = subprocess.run([sys.executable, os.path.join(HERE, "iops-report.py"), path,
                        os.path.join(args.output, "bench.md"),
                        os.path.join(args.output, "bench.png")] +
                       ([args.vduse] if args.vduse else []))
    log(f"{len(runs)} runs in {doc['seconds']} s, {len(failures)} failures")
    # A qemu-storage-daemon that hangs is reported (bench.md, Failures), not
    # ours to fail on; a vblkd row that fails or errs is.
    return 1 if fatal or r.returncode else 0


if __name__ == "__main__":
    sys.exit(main())
