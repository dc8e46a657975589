#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""make bench: vblkd side by side with qemu-storage-daemon, one run.

    iops-bench.py --build BUILD --output DIR [--reps N] [--runtime-ms N]
                  [--blkio PROG] [--quick] [--vduse VDUSE.json] [--no-netdisk]
                  [--only SECTION,...] [--client-cpu N] [--backend-cpu N]
                  [--manydisks-n N,...] [--idle-s S]

First the machine must be quiet: a 1-minute load average over 0.3 per CPU,
a process other than ours using more than 10 % of a CPU over a 1 s sample,
or all the others together over 25 %, refuses the run (exit 3, naming the
busy processes; a high load average with nothing busy is waited out for up
to 90 s, our own build's). BENCH_FORCE=1 in the environment runs anyway and
writes the finding ("machine not quiet: ...") into the results.

Placement: every back-end runs pinned to --backend-cpu (1) and every client
to --client-cpu (0) with taskset, as a VM's vCPU and its back-end on
separate cores; taskset execs, and so does selftests/vm/chroot-qemu.sh, so
the daemon (and every thread it starts) keeps the pin, which is checked.
The same-CPU rows run the client on the back-end's CPU.

Back-ends, each started once on its own vhost-user socket:
  vblkd         vblkd on a page-cached 1 GiB file (io_uring), its defaults
                (no --poll-us: adaptive polling when its --help offers auto)
  vblkd-nopoll  the same with --poll-us 0 (4 KiB QD1 and QD32 rows)
  vblkd-null    vblkd on null:1G, when this vblkd knows null: images
  qsd-uring     qemu-storage-daemon 10.0, file driver, aio=io_uring
  qsd-threads   qemu-storage-daemon 10.0, file driver, aio=threads
  qsd-null      qemu-storage-daemon 10.0, null-co with read-zeroes=on
  qsd11-uring   the trixie chroot's qemu-storage-daemon 11.1, aio=io_uring,
                when the chroot has it
  vblkd-direct  vblkd --direct on a second, fully written 1 GiB file
  qsd-direct-uring, qsd-direct-native   qsd 10.0 on it, cache.direct=on,
                aio=io_uring and aio=native
  vblkd-nbd, qsd-nbd   both on one nbdkit memory export (UNIX socket)
  vblkd-rbd, qsd-rbd   both on one image of a throwaway Ceph cluster
                (scripts/ceph-cluster.sh, memstore, layering only, a 256 MiB
                image) that --no-netdisk leaves out
then drives each with two clients, bench/iops_fe (frontend/'s driver) and,
with --blkio, bench/iops_blkio (libblkio 1.5, run in the trixie chroot).
Every repetition of a workload runs each back-end (and placement) once, in
an order rotated per repetition (A/B alternation), so a drift of the
machine spreads over all of them.

Sections (--only picks some; all by default):
  main       4 KiB random reads and writes, one queue, QD 1, 32 and 128 (both
             clients), the 70/30 mix at QD32, QD32 on two queues (frontend/'s
             client); vblkd-nopoll and frontend/'s client without EVENT_IDX
             at QD 1 and 32
  samecpu    the QD 1 and 32 rows again with the client on the back-end's
             CPU (frontend/'s client; vblkd, vblkd-null, qsd-uring, qsd-null)
  direct     O_DIRECT: the QD 1 and 32 rows, both clients
  64k        64 KiB random reads and writes at QD8, both clients
  netdisk    nbd and rbd: the QD 1 and 32 rows, both clients
  memory     RSS, RssAnon of each kind of back-end, idle and loaded
  manydisks  N (1, 16, 64) vblkd with one file disk each, against one qsd
             with N exports and N qsd: total PSS and RssAnon, idle CPU over
             --idle-s, then 4 KiB random reads at QD32 on up to 8 disks at
             once, one frontend/ client each
--quick: the 4 KiB one-queue rows at QD 1 and 32 only (no QD128, no mix, no
two-queue and no 64 KiB rows) and many disks with N = 1 and 16.

Writes bench.json (every run, the placement, the quiet check, the memory and
many-disk figures), bench.md (tables with medians, min-max and ratios) and
bench.png in DIR. Timings never fail the run; a client that fails or reports
errors on a vblkd row does (exit 1, after the report); one on a
qemu-storage-daemon row is listed under Failures in bench.md.
"""
import argparse
import collections
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

SECTIONS = ("main", "samecpu", "direct", "64k", "netdisk", "memory", "manydisks")
RW = ("randread", "randwrite")
# Workloads are (rw, bs, qd, queues). SHORT: the QD 1 and 32 rows of 4 KiB
# random reads and writes on one queue, the ones every section runs.
SHORT = [(rw, 4096, qd, 1) for rw in RW for qd in (1, 32)]
MAIN = [(rw, 4096, qd, 1) for rw in RW for qd in (1, 32, 128)]
MAIN += [("randrw", 4096, 32, 1)] + [(rw, 4096, 32, 2) for rw in RW]
BIG = [(rw, 65536, 8, 1) for rw in RW]
# After these runs the client stays connected IDLE_MS doing nothing, and
# reports the back-end's CPU meanwhile: what adaptive polling costs idle.
IDLE_AFTER, IDLE_MS = ("randread", 4096, 1, 1), 1000
# The rows of each section, in the report's order.
FILE_ROWS = ("vblkd", "vblkd-nopoll", "vblkd-null", "qsd-uring", "qsd-threads", "qsd-null",
             "qsd11-uring")
SHORT_ONLY = ("vblkd-nopoll",)
SAME_ROWS = ("vblkd", "vblkd-null", "qsd-uring", "qsd-null")
DIRECT_ROWS = ("vblkd-direct", "qsd-direct-uring", "qsd-direct-native")
NET_ROWS = ("vblkd-nbd", "qsd-nbd", "vblkd-rbd", "qsd-rbd")
# Notification suppression: frontend/'s client without EVENT_IDX ("fe-noei").
NOEI_BACKENDS = ("vblkd", "qsd-uring")

# The quiet check's limits.
LOAD_PER_CPU = 0.3   # 1-minute load average per CPU
PROC_PCT = 10        # % of one CPU a single other process may use
OTHERS_PCT = 25      # % of one CPU all other processes together may use
STEAL_PCT = 10       # % of one CPU the hypervisor may give to others
LOAD_WAIT_S = 90     # a high load average with nothing busy: waited out

# Many disks: image size of each disk, and at most this many driven at once.
MD_IMAGE = 32 << 20
MD_DRIVEN = 8


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def pinned(cpu, argv):
    return ["taskset", "-c", str(cpu)] + argv


def cpus_allowed(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Cpus_allowed_list:"):
                return line.split(":", 1)[1].strip()
    return "?"


def thread_cpus(pid):
    """The CPU lists of every thread of @pid (io_uring's workers too)."""
    out = set()
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    for tid in tids:
        try:
            out.add(cpus_allowed(f"{pid}/task/{tid}"))
        except OSError:
            pass
    return sorted(out)


class Backend:
    """One back-end process on CPU @cpu, serving @socks (one or a list)."""

    def __init__(self, name, argv, socks, chroot=False, cpu=None):
        self.name, self.argv, self.chroot, self.cpu = name, argv, chroot, cpu
        self.socks = socks if isinstance(socks, list) else [socks]
        self.sock = self.socks[0]
        self.proc = self.pid = None

    def spawn(self, tmp):
        self.log = os.path.join(tmp, self.name + ".log")
        argv, env = self.argv, dict(os.environ)
        if self.chroot:
            env.update(VBLKD_CHROOT_BIND=tmp, QEMU_BIN=argv[0])
            argv = ["bash", CHROOT_RUN] + argv[1:]
        # taskset execs, and chroot-qemu.sh execs down to the daemon: the
        # pid is the daemon's, and every thread it starts inherits the pin.
        if self.cpu is not None:
            argv = pinned(self.cpu, argv)
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env)
        self.pid = self.proc.pid

    def wait_ready(self, timeout=20):
        deadline = time.time() + timeout
        while not all(os.path.exists(s) for s in self.socks):
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"{self.name} did not start: see {self.log}")
            time.sleep(0.02)
        if self.cpu is not None and cpus_allowed(self.pid) != str(self.cpu):
            raise RuntimeError(f"{self.name} runs on CPUs {cpus_allowed(self.pid)}, "
                               f"not {self.cpu}")

    def start(self, tmp):
        self.spawn(tmp)
        self.wait_ready()

    def terminate(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)

    def stop(self):
        self.terminate()
        if self.proc and self.proc.poll() is None:
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def stop_all(bes):
    for be in bes:
        be.terminate()
    for be in bes:
        be.stop()


def qsd_export(i, sock, nq):
    return ["--export", f"type=vhost-user-blk,id=e{i},node-name=d{i},addr.type=unix,"
            f"addr.path={sock},writable=on,num-queues={nq}"]


def qsd_argv(binary, sock, blockdev, nq=QUEUES):
    return [binary, "--blockdev", blockdev] + qsd_export(0, sock, nq)


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
    """The nbd and rbd rows; their servers (nbdkit, Ceph) are not pinned."""
    vblkd = os.path.join(args.build, "vblkd")
    qsd = shutil.which("qemu-storage-daemon")
    s = lambda n: os.path.join(tmp, n + ".sock")
    common = ["--num-queues", str(QUEUES), "--log-level", "warn"]
    cpu = args.backend_cpu
    return [
        Backend("vblkd-nbd", [vblkd, "--vhost-user", s("vblkd-nbd"), "--image",
                              f"nbd+unix:///?socket={nd.nbd_sock}"] + common, s("vblkd-nbd"),
                cpu=cpu),
        Backend("qsd-nbd", qsd_argv(qsd, s("qsd-nbd"), "driver=nbd,node-name=d0,"
                                    f"server.type=unix,server.path={nd.nbd_sock}"),
                s("qsd-nbd"), cpu=cpu),
        Backend("vblkd-rbd", [vblkd, "--vhost-user", s("vblkd-rbd"), "--image",
                              f"rbd:rbd/bench:conf={nd.conf}"] + common, s("vblkd-rbd"),
                cpu=cpu),
        Backend("qsd-rbd", qsd_argv(qsd, s("qsd-rbd"), "driver=rbd,node-name=d0,pool=rbd,"
                                    f"image=bench,conf={nd.conf}"), s("qsd-rbd"), cpu=cpu),
    ]


def poll_default(vblkd):
    """What a vblkd without --poll-us does: "auto" when its --help offers it."""
    text = subprocess.run([vblkd, "--help"], capture_output=True, text=True).stdout
    para = text.split("--poll-us", 1)[1].split("\n  --", 1)[0] if "--poll-us" in text else ""
    return ("auto" if "auto" in para else "0"), text


def backends(args, tmp, image, direct_image):
    vblkd = os.path.join(args.build, "vblkd")
    _, help_text = poll_default(vblkd)
    s = lambda n: os.path.join(tmp, n + ".sock")
    cpu = args.backend_cpu
    common = ["--num-queues", str(QUEUES), "--queue-size", str(QUEUE_SIZE), "--log-level", "warn"]
    vb = lambda name, img, extra=(): Backend(name, [vblkd, "--vhost-user", s(name), "--image",
                                                    img] + list(extra) + common, s(name), cpu=cpu)
    file_bd = lambda aio, img=image, direct="off": (f"driver=file,node-name=d0,filename={img},"
                                                    f"aio={aio},cache.direct={direct}")
    null_bd = f"driver=null-co,node-name=d0,size={IMAGE_SIZE},read-zeroes=on"
    qsd = shutil.which("qemu-storage-daemon")
    out = []
    if args.sections & {"main", "samecpu", "64k"}:
        out += [vb("vblkd", image)]
        if "main" in args.sections:
            out += [vb("vblkd-nopoll", image, ("--poll-us", "0"))]
        if "null:" in help_text:
            out.append(vb("vblkd-null", f"null:{IMAGE_SIZE}"))
        else:
            log("this vblkd has no null: images; no vblkd-null row")
        for name, bd in (("qsd-uring", file_bd("io_uring")), ("qsd-threads", file_bd("threads")),
                         ("qsd-null", null_bd)):
            out.append(Backend(name, qsd_argv(qsd, s(name), bd), s(name), cpu=cpu))
        if (os.path.exists(os.path.join(CHROOT, "usr/bin/qemu-storage-daemon")) and
                os.getuid() == 0 and args.sections & {"main", "64k"}):
            out.append(Backend("qsd11-uring", qsd_argv("qemu-storage-daemon", s("qsd11-uring"),
                                                       file_bd("io_uring")),
                               s("qsd11-uring"), chroot=True, cpu=cpu))
    if "direct" in args.sections:
        out += [vb("vblkd-direct", direct_image, ("--direct",))]
        for aio in ("io_uring", "native"):
            name = "qsd-direct-" + aio.replace("io_", "")
            out.append(Backend(name, qsd_argv(qsd, s(name), file_bd(aio, direct_image, "on")),
                               s(name), cpu=cpu))
    return out


def cases(args, names):
    """What to run: (section, workload, slots), a slot (back-end, placement, clients)."""
    both = ("fe", "blkio") if args.blkio else ("fe",)
    sel = lambda ws: [w for w in ws if w in SHORT] if args.quick else ws
    have = lambda rows: [b for b in rows if b in names]
    out = []
    for w in sel(MAIN):
        slots = []
        if "main" in args.sections:
            cl = both if w[3] == 1 else ("fe",)
            if w in SHORT:
                cl += ("fe-noei",)
            slots += [(b, "split", cl) for b in have(FILE_ROWS)
                      if b not in SHORT_ONLY or w in SHORT]
        if "samecpu" in args.sections and w in SHORT:
            slots += [(b, "same", ("fe",)) for b in have(SAME_ROWS)]
        if slots:
            out.append(("main", w, slots))
    if "direct" in args.sections:
        out += [("direct", w, [(b, "split", both) for b in have(DIRECT_ROWS)]) for w in SHORT]
    if "64k" in args.sections and not args.quick:
        rows = [b for b in have(FILE_ROWS) if b not in SHORT_ONLY]
        out += [("64k", w, [(b, "split", both) for b in rows]) for w in BIG]
    if "netdisk" in args.sections:
        out += [("netdisk", w, [(b, "split", both) for b in have(NET_ROWS)]) for w in SHORT]
    return [c for c in out if c[2]]


def run_client(args, tmp, client, be, w, cpu):
    rw, bs, qd, nq = w
    opts = ["--socket", be.sock, "--rw", rw, "--bs", str(bs), "--qd", str(qd),
            "--queues", str(nq), "--runtime-ms", str(args.runtime_ms),
            "--warmup-ms", str(args.warmup_ms), "--pid", str(be.pid)]
    if tuple(w) == IDLE_AFTER:
        opts += ["--idle-ms", str(IDLE_MS)]
    if client in ("fe", "fe-noei"):
        argv, env = [os.path.join(args.build, "bench", "iops_fe")] + opts, None
        if client == "fe-noei":
            argv.append("--no-event-idx")
    else:
        argv = ["bash", CHROOT_RUN] + opts
        env = dict(os.environ, VBLKD_CHROOT_BIND=tmp, QEMU_BIN=args.blkio)
    r = subprocess.run(pinned(cpu, argv), capture_output=True, text=True, env=env,
                       timeout=15 + 3 * (args.runtime_ms + args.warmup_ms) / 1000 + IDLE_MS / 1000)
    if r.returncode != 0 or not r.stdout.strip():
        raise RuntimeError(f"{client} on {be.name} {w}: exit {r.returncode}: {r.stderr.strip()}")
    try:
        res = json.loads(r.stdout.strip().splitlines()[-1])
    except ValueError:
        raise RuntimeError(f"{client} on {be.name} {w}: not JSON: {r.stdout.strip()}")
    res.update(backend=be.name, client=client)
    return res


def run_cases(args, tmp, bes, runs, failures, fatal, t0):
    byname = {b.name: b for b in bes}
    for section, w, slots in cases(args, set(byname)):
        clients = [c for c in ("fe", "blkio", "fe-noei") if any(c in s[2] for s in slots)]
        hung = {}
        for rep in range(args.reps):
            order = slots[rep % len(slots):] + slots[:rep % len(slots)]
            for client in clients:
                for name, place, cl in order:
                    if client not in cl or (client == "fe-noei" and name not in NOEI_BACKENDS):
                        continue
                    if hung.get((client, name, place), 0) >= 2:
                        continue  # said once in the failures already
                    be = byname[name]
                    cpu = args.client_cpu if place == "split" else args.backend_cpu
                    what = f"{client} on {name}" + (" (same CPU)" if place == "same" else "")
                    try:
                        res = run_client(args, tmp, client, be, w, cpu)
                    except (RuntimeError, subprocess.TimeoutExpired) as e:
                        hung[(client, name, place)] = hung.get((client, name, place), 0) + 1
                        failures.append(str(e) if place == "split" else f"same CPU: {e}")
                        if name.startswith("vblkd"):
                            fatal.append(failures[-1])
                        log(failures[-1])
                        continue
                    res.update(rep=rep, placement=place, section=section)
                    if res["errors"]:
                        failures.append(f"{what} {w}: {res['errors']} errors")
                        if name.startswith("vblkd"):
                            fatal.append(failures[-1])
                    elif not res["ios"]:
                        failures.append(f"{what} {w}: no I/O completed in the measured "
                                        f"{args.runtime_ms} ms (repetition {rep})")
                    runs.append(res)
        log(f"{section}: {w[0]} bs {w[1]} qd {w[2]} queues {w[3]}: done "
            f"({time.time() - t0:.0f} s)")


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


def smaps_rollup(pid):
    """kB fields of /proc/PID/smaps_rollup: Rss, Pss, Anonymous (RssAnon), ..."""
    out = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            p = line.split()
            if len(p) >= 2 and p[0].endswith(":") and p[1].isdigit():
                out[p[0][:-1]] = int(p[1])
    return out


def memory(args, tmp, image):
    """Idle and loaded RSS of each kind of back-end, with 1 and 16 queues."""
    out = []
    vblkd = os.path.join(args.build, "vblkd")
    qsd = shutil.which("qemu-storage-daemon")
    for nq in (1, 16):
        sock = lambda n: os.path.join(tmp, f"mem-{n}-{nq}.sock")
        cands = [
            Backend(f"vblkd-mem{nq}", [vblkd, "--vhost-user", sock("vblkd"), "--image", image,
                                       "--num-queues", str(nq), "--queue-size", str(QUEUE_SIZE),
                                       "--log-level", "warn"], sock("vblkd"),
                    cpu=args.backend_cpu),
            Backend(f"qsd-uring-mem{nq}",
                    qsd_argv(qsd, sock("qsd"), f"driver=file,node-name=d0,filename={image},"
                             "aio=io_uring", nq), sock("qsd"), cpu=args.backend_cpu),
        ]
        for be in cands:
            be.start(tmp)
            try:
                time.sleep(0.3)
                idle = rss_kib(be.pid)
                roll = smaps_rollup(be.pid)
                w = ("randread", 4096, 32, nq)
                cl = subprocess.Popen(pinned(args.client_cpu, [
                    os.path.join(args.build, "bench", "iops_fe"), "--socket", be.sock,
                    "--qd", "32", "--queues", str(nq), "--runtime-ms", "1500",
                    "--warmup-ms", "0"]), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                peak = idle
                while cl.poll() is None:
                    time.sleep(0.1)
                    try:
                        peak = max(peak, rss_kib(be.pid))
                    except OSError:
                        break
                if cl.returncode:
                    raise RuntimeError(f"memory client on {be.name}: {cl.stderr.read()}")
                out.append({"backend": be.name.rsplit("-mem", 1)[0], "queues": nq,
                            "idle_kib": idle, "idle_rss_kib": roll.get("Rss"),
                            "idle_rss_anon_kib": roll.get("Anonymous"),
                            "load_kib": peak, "workload": w[0]})
            finally:
                be.stop()
    return out


def proc_stat(pid):
    """(command name, utime + stime in clock ticks) of @pid, or None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            s = f.read()
    except OSError:
        return None
    fields = s[s.rindex(")") + 2:].split()
    return s[s.index("(") + 1:s.rindex(")")], int(fields[11]) + int(fields[12])


def proc_cpu_ticks(pids):
    """utime + stime of each of @pids (every thread), in clock ticks."""
    return sum(st[1] for st in map(proc_stat, pids) if st)


def write_image(path, size):
    with open(path, "wb") as f:
        chunk = b"\xa5" * (1 << 20)
        for _ in range(size >> 20):
            f.write(chunk)


def md_backends(args, tmp, kind, n):
    """The back-ends of one many-disk configuration: N processes or one."""
    vblkd = os.path.join(args.build, "vblkd")
    qsd = shutil.which("qemu-storage-daemon")
    d = os.path.join(tmp, "md-" + kind)
    img = lambda i: os.path.join(d, f"d{i}.img")
    sock = lambda i: os.path.join(d, f"n{n}-{i}.sock")
    bd = lambda i: f"driver=file,node-name=d{i},filename={img(i)},aio=io_uring"
    cpu = args.backend_cpu
    if kind == "vblkd":
        return [Backend(f"md{n}-vblkd-{i}", [vblkd, "--vhost-user", sock(i), "--image", img(i),
                                             "--num-queues", "1", "--log-level", "warn"],
                        sock(i), cpu=cpu) for i in range(n)]
    if kind == "qsd-procs":
        return [Backend(f"md{n}-qsd-{i}", [qsd, "--blockdev", bd(i)] + qsd_export(i, sock(i), 1),
                        sock(i), cpu=cpu) for i in range(n)]
    argv = [qsd]
    for i in range(n):
        argv += ["--blockdev", bd(i)] + qsd_export(i, sock(i), 1)
    return [Backend(f"md{n}-qsd1", argv, [sock(i) for i in range(n)], cpu=cpu)]


MD_KINDS = ("vblkd", "qsd-one", "qsd-procs")


def md_start(tmp, bes):
    for be in bes:
        be.spawn(tmp)
    for be in bes:
        be.wait_ready()


def md_iops(args, bes, rep, kind, n):
    """QD32 4 KiB random reads on min(N, 8) disks at once, one client each."""
    socks = [(s, be.pid) for be in bes for s in be.socks][:MD_DRIVEN]
    fe = os.path.join(args.build, "bench", "iops_fe")
    cls = [subprocess.Popen(pinned(args.client_cpu, [
        fe, "--socket", s, "--rw", "randread", "--qd", "32", "--runtime-ms",
        str(args.runtime_ms), "--warmup-ms", str(args.warmup_ms), "--pid", str(pid)]),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for s, pid in socks]
    res, errs = [], []
    for (s, pid), cl in zip(socks, cls):
        try:
            so, se = cl.communicate(timeout=15 + 3 * (args.runtime_ms + args.warmup_ms) / 1000)
        except subprocess.TimeoutExpired:
            cl.kill()
            so, se = cl.communicate()
        if cl.returncode or not so.strip():
            errs.append(f"many disks: fe on {kind} N={n} {os.path.basename(s)}: "
                        f"exit {cl.returncode}: {se.strip()}")
            continue
        try:
            r = json.loads(so.strip().splitlines()[-1])
        except ValueError:
            errs.append(f"many disks: fe on {kind} N={n}: not JSON: {so.strip()}")
            continue
        if r["errors"]:
            errs.append(f"many disks: fe on {kind} N={n}: {r['errors']} errors")
        res.append((pid, r))
    # Each client measured its back-end process over its own window; clients
    # sharing one process (one qsd, N exports) saw the same CPU time: counted once.
    cpu = collections.defaultdict(list)
    for pid, r in res:
        cpu[pid].append(r["backend_cpu_us_per_io"] * r["ios"])
    cpu_us = sum(statistics.mean(v) for v in cpu.values())
    ios = sum(r["ios"] for _, r in res)
    return {"backend": kind, "n": n, "rep": rep, "disks": len(socks), "clients_ok": len(res),
            "iops": sum(r["iops"] for _, r in res),
            "per_disk_iops": [r["iops"] for _, r in res],
            "backend_cpu_pct": round(cpu_us / 10 / args.runtime_ms, 1),
            "backend_cpu_us_per_io": round(cpu_us / ios, 3) if ios else None,
            "p50_us": statistics.median(r["p50_us"] for _, r in res) if res else None}, errs


def manydisks(args, tmp, failures, fatal):
    """N back-ends of one disk each, idle and driven 8 at a time, per configuration."""
    out = {"idle": [], "runs": [], "image_bytes": MD_IMAGE, "driven": MD_DRIVEN,
           "idle_s": args.idle_s}
    top = max(args.manydisks_n)
    for kind in MD_KINDS:
        d = os.path.join(tmp, "md-" + kind)
        os.makedirs(d)
        for i in range(top):
            p = os.path.join(d, f"d{i}.img")
            if i < MD_DRIVEN:
                write_image(p, MD_IMAGE)  # written: the page cache holds it
            else:
                with open(p, "wb") as f:  # never read: sparse
                    f.truncate(MD_IMAGE)
    hz = os.sysconf("SC_CLK_TCK")
    for n in args.manydisks_n:
        # Memory and idle CPU: each configuration alone.
        for kind in MD_KINDS:
            bes = md_backends(args, tmp, kind, n)
            try:
                md_start(tmp, bes)
                time.sleep(1)
                rolls = [smaps_rollup(be.pid) for be in bes]
                c0, t0 = proc_cpu_ticks([be.pid for be in bes]), time.time()
                time.sleep(args.idle_s)
                c1, t1 = proc_cpu_ticks([be.pid for be in bes]), time.time()
                out["idle"].append({
                    "backend": kind, "n": n, "processes": len(bes),
                    "pss_kib": sum(r.get("Pss", 0) for r in rolls),
                    "rss_anon_kib": sum(r.get("Anonymous", 0) for r in rolls),
                    "rss_kib": sum(r.get("Rss", 0) for r in rolls),
                    "idle_cpu_pct": round(100 * (c1 - c0) / hz / (t1 - t0), 2)})
            except (RuntimeError, OSError) as e:
                failures.append(f"many disks: {kind} N={n}: {e}")
                if kind == "vblkd":
                    fatal.append(failures[-1])
                log(failures[-1])
            finally:
                stop_all(bes)
        # IOPS: all three configurations up, their order rotated per repetition.
        sets = {}
        try:
            for kind in MD_KINDS:
                bes = md_backends(args, tmp, kind, n)
                sets[kind] = bes
                md_start(tmp, bes)
            kinds = list(MD_KINDS)
            for rep in range(args.reps):
                for kind in kinds[rep % 3:] + kinds[:rep % 3]:
                    res, errs = md_iops(args, sets[kind], rep, kind, n)
                    out["runs"].append(res)
                    for e in errs:
                        failures.append(e)
                        if kind == "vblkd":
                            fatal.append(e)
                        log(e)
        except (RuntimeError, OSError) as e:
            failures.append(f"many disks, IOPS, N={n}: {e}")
            fatal.append(failures[-1])
            log(failures[-1])
        finally:
            stop_all([be for bes in sets.values() for be in bes])
        log(f"many disks: N={n} done")
    return out


def machine():
    with open("/proc/cpuinfo") as f:
        model = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "?")
    ver = lambda argv: (subprocess.run(argv, capture_output=True, text=True).stdout
                        .splitlines() or ["?"])[0]
    return {"cpus": os.cpu_count(), "cpu": model, "kernel": platform.release(),
            "qsd": ver(["qemu-storage-daemon", "--version"])}


def ancestors():
    """This process and the ones that started it (make, bench.sh): ours."""
    pids, pid = set(), os.getpid()
    while pid > 1:
        pids.add(pid)
        try:
            with open(f"/proc/{pid}/stat") as f:
                s = f.read()
        except OSError:
            break
        pid = int(s[s.rindex(")") + 2:].split()[1])
    return pids


def quiet_sample(ours, window=1.0):
    """CPU use over @window s: per process, and all but @ours together."""
    def procs():
        out = {}
        for d in os.listdir("/proc"):
            st = proc_stat(d) if d.isdigit() else None
            if st:
                out[int(d)] = st
        return out

    def stat():
        with open("/proc/stat") as f:
            return [int(x) for x in f.readline().split()[1:]]

    hz = os.sysconf("SC_CLK_TCK")
    s0, p0, t0 = stat(), procs(), time.time()
    time.sleep(window)
    s1, p1, t1 = stat(), procs(), time.time()
    secs = t1 - t0
    busy, ours_ticks = [], 0
    for pid, (name, ticks) in p1.items():
        if pid not in p0:
            continue
        d = ticks - p0[pid][1]
        if pid in ours:
            ours_ticks += d
        elif 100 * d / hz / secs > PROC_PCT:
            busy.append({"pid": pid, "name": name, "cpu_pct": round(100 * d / hz / secs)})
    # Short-lived processes show only in the sum: name the ones that started.
    born = collections.Counter(p1[pid][0] for pid in p1 if pid not in p0)
    d = [b - a for a, b in zip(s0, s1)]
    # user nice system idle iowait irq softirq steal (guest time is in user)
    used = sum(d[:7]) - d[3] - d[4]
    return {"load1": round(os.getloadavg()[0], 2),
            "others_cpu_pct": round(max(0, 100 * (used - ours_ticks) / hz / secs), 1),
            "steal_pct": round(100 * d[7] / hz / secs, 1) if len(d) > 7 else 0,
            "busy": sorted(busy, key=lambda b: -b["cpu_pct"]),
            "started": sum(born.values()), "started_names": [n for n, _ in born.most_common(5)]}


def quiet_check(wait):
    """Is the machine quiet? With @wait, a high load average alone is waited out."""
    ours, ncpu, t0 = ancestors(), os.cpu_count(), time.time()
    load_max = round(LOAD_PER_CPU * ncpu, 2)
    while True:
        s = quiet_sample(ours)
        why = []
        if s["busy"]:
            why.append("busy: " + ", ".join(f"{b['name']} (pid {b['pid']}, {b['cpu_pct']} % "
                                            "of a CPU)" for b in s["busy"]))
        if s["others_cpu_pct"] > OTHERS_PCT:
            why.append(f"other processes used {s['others_cpu_pct']:.0f} % of a CPU in all" +
                       (f" ({s['started']} started in the sample: "
                        f"{', '.join(s['started_names'])})" if s["started"] else ""))
        if s["steal_pct"] > STEAL_PCT:
            why.append(f"steal {s['steal_pct']:.0f} % (the host ran other work on our CPUs)")
        if s["load1"] > load_max:
            why.append(f"1-minute load average {s['load1']:.2f} (at most {load_max:.2f})")
        load_only = why and len(why) == 1 and s["load1"] > load_max
        if not (wait and load_only and time.time() - t0 < LOAD_WAIT_S):
            break
        log(f"load average {s['load1']:.2f} with nothing busy now: waiting for it to settle")
        time.sleep(4)
    s.update(quiet=not why, load_max=load_max, waited_s=round(time.time() - t0),
             finding="quiet" if not why else "machine not quiet: " + "; ".join(why))
    return s

def measure(args, tmp, placement):
    """Every selected section, in @tmp; the back-ends' pins go into @placement."""
    image = os.path.join(tmp, "disk.img")
    direct_image = os.path.join(tmp, "direct.img")
    direct = None
    if args.sections & {"main", "samecpu", "64k", "memory"}:
        write_image(image, IMAGE_SIZE)
        with open(image, "rb") as f:  # into the page cache
            while f.read(1 << 22):
                pass
    if "direct" in args.sections:
        # Every block written and on the disk (not sparse, not in the cache).
        write_image(direct_image, IMAGE_SIZE)
        fd = os.open(direct_image, os.O_RDONLY)
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        os.close(fd)
        st = os.stat(direct_image)
        fs = subprocess.run(["findmnt", "-n", "-o", "FSTYPE", "-T", direct_image],
                            capture_output=True, text=True).stdout.strip()
        direct = {"bytes": st.st_size, "allocated_bytes": st.st_blocks * 512, "fs": fs}
    if args.blkio:
        shutil.copy(args.blkio, os.path.join(tmp, "iops_blkio"))
        args.blkio = os.path.join(tmp, "iops_blkio")
    bes = backends(args, tmp, image, direct_image)
    runs, failures = [], []
    fatal = []  # failures of vblkd's own rows
    t0 = time.time()
    nd = NetDisks(tmp)
    mem, md = [], None
    try:
        if "netdisk" in args.sections:
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
        if bes:
            log("back-ends (CPU %d): " % args.backend_cpu +
                ", ".join(f"{b.name} (pid {b.pid})" for b in bes))
        placement["checked"] = {b.name: cpus_allowed(b.pid) for b in bes}
        run_cases(args, tmp, bes, runs, failures, fatal, t0)
        # Every thread the back-ends started meanwhile, io_uring's workers too.
        placement["threads_at_end"] = {b.name: thread_cpus(b.pid) for b in bes}
    finally:
        stop_all(bes)
        nd.stop()
    if "memory" in args.sections:
        try:
            mem = memory(args, tmp, image)
        except (RuntimeError, OSError) as e:
            failures.append(f"memory: {e}")
            fatal.append(failures[-1])
            log(failures[-1])
    if "manydisks" in args.sections:
        md = manydisks(args, tmp, failures, fatal)
    if failures:  # keep the back-ends' logs for a look
        logs = os.path.join(args.output, "bench-logs")
        os.makedirs(logs, exist_ok=True)
        for dirpath, _, files in os.walk(tmp):
            for n in files:
                if n.endswith(".log"):
                    shutil.copy(os.path.join(dirpath, n), logs)
        log(f"back-end logs in {logs}")
    return {"runs": runs, "failures": failures, "fatal": fatal, "memory": mem,
            "manydisks": md, "direct_image": direct, "t0": t0}


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
    ap.add_argument("--quick", action="store_true",
                    help="4 KiB one-queue rows at QD 1 and 32 only; many disks N = 1, 16")
    ap.add_argument("--vduse", help="bench/vduse-bench.sh's JSON, for the report")
    ap.add_argument("--no-netdisk", action="store_true", help="no nbd and rbd rows")
    ap.add_argument("--only", help="comma-separated sections: " + ", ".join(SECTIONS))
    ap.add_argument("--client-cpu", type=int, default=0)
    ap.add_argument("--backend-cpu", type=int, default=1)
    ap.add_argument("--manydisks-n", help="disk counts (default 1,16,64; quick 1,16)")
    ap.add_argument("--idle-s", type=float, default=10, help="many disks' idle window")
    args = ap.parse_args()
    args.build = os.path.abspath(args.build)
    args.sections = set(args.only.split(",")) if args.only else set(SECTIONS)
    if args.sections - set(SECTIONS):
        ap.error(f"--only: no section {', '.join(sorted(args.sections - set(SECTIONS)))}")
    if args.no_netdisk:
        args.sections.discard("netdisk")
    args.manydisks_n = [int(x) for x in (args.manydisks_n or
                                         ("1,16" if args.quick else "1,16,64")).split(",")]
    allowed = os.sched_getaffinity(0)
    if args.client_cpu not in allowed or args.backend_cpu not in allowed:
        ap.error(f"CPUs {args.client_cpu} and {args.backend_cpu} must both be in this "
                 f"process's set {sorted(allowed)}")
    # Before anything of ours runs (the image's write-back included).
    quiet = quiet_check(wait=True)
    force = os.environ.get("BENCH_FORCE") == "1"
    if not quiet["quiet"]:
        if not force:
            log(f"{quiet['finding']}. Not measuring: figures taken now would not be "
                "vblkd's. Stop them, or run with BENCH_FORCE=1 to measure anyway (the "
                "finding then goes into bench.json and bench.md).")
            return 3
        log(f"{quiet['finding']}; BENCH_FORCE=1: measuring anyway, the results say so")
    quiet["forced"] = force and not quiet["quiet"]
    log(f"quiet check: {quiet['finding']}")
    vblkd = os.path.join(args.build, "vblkd")
    poll, _ = poll_default(vblkd)
    if poll != "auto":
        log("this vblkd's --help offers no --poll-us auto: its default row does not poll")
    placement = {"method": "taskset", "client_cpu": args.client_cpu,
                 "backend_cpu": args.backend_cpu, "same_cpu": args.backend_cpu,
                 "unpinned": "the network disks' servers (nbdkit, the Ceph daemons)"}
    # Under a bound directory, so the chroot's programs see the same paths.
    tmp = tempfile.mkdtemp(prefix="vblkd-bench.", dir="/var/tmp")
    try:
        res = measure(args, tmp, placement)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    runs, failures, t0 = res["runs"], res["failures"], res["t0"]
    after = quiet_check(wait=False)
    log(f"quiet check at the end: {after['finding']}")
    doc = {"machine": machine(), "reps": args.reps, "runtime_ms": args.runtime_ms,
           "warmup_ms": args.warmup_ms, "quick": args.quick, "sections": sorted(args.sections),
           "placement": placement, "quiet": quiet, "quiet_after": after,
           "vblkd_poll_default": poll, "image_bytes": IMAGE_SIZE,
           "direct_image": res["direct_image"], "runs": runs, "memory": res["memory"],
           "manydisks": res["manydisks"], "failures": failures,
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
    return 1 if res["fatal"] or r.returncode else 0


if __name__ == "__main__":
    sys.exit(main())
