#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Turn bench/iops-bench.py's JSON into markdown tables and a plot.

    iops-report.py bench.json bench.md bench.png [vduse.json]

Every cell is the median over the repetitions of one (client, back-end,
workload, placement) with the lowest and highest run beside it:
`865k (840–880k)`. Every ratio is the ratio of the medians with, beside it,
the lowest and highest ratio of two runs of the same repetition (paired by
repetition). The header says where clients and back-ends ran and whether the
machine was quiet. Then, per client: IOPS of every back-end and vblkd's ratios
against the best qemu-storage-daemon file configuration and against qsd's
null-co; the goals of the performance issue with CPU per I/O; the same-CPU
rows; O_DIRECT; the network disks; latency and CPU per I/O; EVENT_IDX; the
memory figures; many disks. The plot is IOPS against queue depth for 4 KiB
random reads and writes on one queue, one line per back-end, min-max bars.
With bench/vduse-bench.sh's JSON, a last table compares vblkd --vduse with
qsd's vduse-blk export in the TCG guest.
"""
import json
import statistics
import sys
from collections import defaultdict

FIELDS = ("iops", "p50_us", "p99_us", "backend_cpu_us_per_io", "client_cpu_us_per_io",
          "backend_idle_cpu_pct")
FILE_ROWS = ("vblkd", "vblkd-nopoll", "vblkd-null", "qsd-uring", "qsd-threads", "qsd-null",
             "qsd11-uring")
FILE_QSD = ("qsd-uring", "qsd-threads", "qsd11-uring")
SAME_ROWS = ("vblkd", "vblkd-null", "qsd-uring", "qsd-null")
DIRECT_ROWS = ("vblkd-direct", "qsd-direct-uring", "qsd-direct-native")
DIRECT_QSD = ("qsd-direct-uring", "qsd-direct-native")
NET_ROWS = ("vblkd-nbd", "qsd-nbd", "vblkd-rbd", "qsd-rbd")
ORDER = FILE_ROWS + DIRECT_ROWS + NET_ROWS
CLIENTS = (("fe", "frontend/'s driver"), ("blkio", "libblkio 1.5"))
MD_LABEL = {"vblkd": "vblkd ×N", "qsd-one": "qsd, one process, N exports",
            "qsd-procs": "qsd ×N processes"}


class Stat:
    """One figure over the repetitions: median, min, max, and each repetition's."""

    def __init__(self, pairs):
        vals = [v for _, v in pairs]
        self.med, self.lo, self.hi = statistics.median(vals), min(vals), max(vals)
        self.n = len(vals)
        self.by_rep = dict(pairs)


def key(r):
    return (r["client"], r["backend"], r["rw"], r["bs"], r["qd"], r["queues"],
            r.get("placement", "split"))


def load(path):
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    groups = defaultdict(list)
    for i, r in enumerate(doc["runs"]):
        groups[key(r)].append((r.get("rep", i), r))
    # A run that completed nothing in its window has IOPS 0 and no latency
    # or CPU per I/O: it counts for the first only.
    val = lambda f, v: [(rep, r[f]) for rep, r in v
                        if r.get(f) is not None and (f == "iops" or r.get("ios", 1))]
    st = {k: {f: Stat(val(f, v)) if val(f, v) else None for f in FIELDS}
          for k, v in groups.items()}
    return doc, st


def get(st, client, be, w, field="iops", place="split"):
    m = st.get((client, be) + tuple(w) + (place,))
    return m[field] if m else None


def num(x):
    return f"{x:.0f}" if abs(x) >= 100 else f"{x:.1f}"


def cell_iops(s):
    """865k (840–880k): the median, then min and max, in the median's unit."""
    if s is None:
        return "-"
    div, u = (1e6, "M") if s.med >= 1e6 else (1e3, "k") if s.med >= 1e3 else (1, "")
    if s.n < 2:
        return f"{num(s.med / div)}{u}"
    return f"{num(s.med / div)}{u} ({num(s.lo / div)}–{num(s.hi / div)}{u})"


def cell(s, digits=1):
    if s is None:
        return "-"
    f = lambda x: f"{x:.{digits}f}"
    return f(s.med) if s.n < 2 else f"{f(s.med)} ({f(s.lo)}–{f(s.hi)})"


def ratio_val(a, b):
    return a.med / b.med if a and b and b.med else None


def ratio(a, b):
    """a / b of the medians, then min-max of the ratios paired by repetition."""
    r = ratio_val(a, b)
    if r is None:
        return "-"
    pairs = [a.by_rep[k] / b.by_rep[k] for k in a.by_rep if b.by_rep.get(k)]
    if len(pairs) < 2:
        return f"{r:.2f}×"
    return f"{r:.2f}× ({min(pairs):.2f}–{max(pairs):.2f})"


def workloads(st, client, rows, place="split"):
    return sorted({k[2:6] for k in st if k[0] == client and k[1] in rows and k[6] == place},
                  key=lambda w: (w[1] != 4096, w[3], w[0], w[2]))


def present(st, rows, client=None, place="split"):
    have = {k[1] for k in st if (client is None or k[0] == client) and k[6] == place}
    return [b for b in rows if b in have]


def best(st, client, w, rows, field="iops", lower=False):
    """The back-end of @rows with the best median @field, or None."""
    vals = [(get(st, client, b, w, field), b) for b in rows]
    vals = [(s.med, b) for s, b in vals if s]
    if not vals:
        return None
    return (min(vals) if lower else max(vals))[1]


def wname(w):
    rw, bs, qd, nq = w
    return f"{rw} {bs // 1024}K QD{qd} ×{nq}q"


def iops_table(st, client):
    bes = present(st, FILE_ROWS, client)
    out = ["| workload | " + " | ".join(bes) +
           " | vblkd / best qsd file | vblkd-null / qsd-null | vblkd / qsd-null |",
           "|---|" + "---:|" * (len(bes) + 3)]
    for w in workloads(st, client, FILE_ROWS):
        g = lambda b: get(st, client, b, w)
        bq = best(st, client, w, FILE_QSD)
        out.append(f"| {wname(w)} | " + " | ".join(cell_iops(g(b)) for b in bes) + " | " +
                   " | ".join([ratio(g("vblkd"), g(bq)) + (f" vs {bq}" if bq else ""),
                               ratio(g("vblkd-null"), g("qsd-null")),
                               ratio(g("vblkd"), g("qsd-null"))]) + " |")
    return out


def goals(st, client, doc):
    """The performance issue's goals, each measured and named met or not."""
    g = lambda b, w, f="iops": get(st, client, b, w, f)
    cpu = "backend_cpu_us_per_io"
    met = lambda ok: "met" if ok else "not met"
    out = ["| row | goal | measured | |", "|---|---|---|---|"]

    def row(what, goal, a, b, lo, label=None):
        r = ratio_val(a, b)
        if r is None:
            return
        out.append(f"| {what} | {goal} | {label or ''}{cell_iops(a)} against {cell_iops(b)}: "
                   f"{ratio(a, b)} | {met(r >= lo)} |")

    for qd in (1, 32, 128):
        w = ("randread", 4096, qd, 1)
        row(f"null path, 4K read QD{qd}", "≥ 3× qsd null-co", g("vblkd-null", w),
            g("qsd-null", w), 3.0)
    for qd, lo in ((1, 1.5), (32, 2.0), (128, 2.0)):
        w = ("randread", 4096, qd, 1)
        bq = best(st, client, w, FILE_QSD)
        if bq:
            row(f"page-cached file, 4K read QD{qd}", f"≥ {lo}× qsd", g("vblkd", w), g(bq, w), lo,
                f"({bq}) ")
    w = ("randread", 4096, 32, 1)
    row("page-cached file, 4K read QD32", "≥ 0.8× qsd null-co", g("vblkd", w), g("qsd-null", w),
        0.8)
    for rw in ("randread", "randwrite"):
        w = (rw, 65536, 8, 1)
        bq = best(st, client, w, FILE_QSD)
        if bq:
            row(f"page-cached file, 64K {rw} QD8", "≥ 1.3× qsd", g("vblkd", w), g(bq, w), 1.3,
                f"({bq}) ")
    w = ("randwrite", 4096, 32, 1)
    bq = best(st, client, w, FILE_QSD)
    if bq:
        row("page-cached file, 4K write QD32", "≥ 3× qsd", g("vblkd", w), g(bq, w), 3.0,
            f"({bq}) ")
    c = g("vblkd", w, cpu)
    if c:
        out.append(f"| page-cached file, 4K write QD32 | ≤ 5 µs of vblkd CPU per write | "
                   f"{cell(c, 2)} µs | {met(c.med <= 5)} |")
    for rw in ("randread", "randwrite"):
        w = (rw, 4096, 32, 1)
        v = g("vblkd-direct", w, cpu)
        bq = best(st, client, w, DIRECT_QSD, cpu, lower=True)
        q = g(bq, w, cpu) if bq else None
        if v and q:
            out.append(f"| O_DIRECT, 4K {rw} QD32 | vblkd CPU per I/O ≤ 0.5× qsd's | "
                       f"{cell(v, 2)} µs against {cell(q, 2)} µs ({bq}): {ratio(v, q)} | "
                       f"{met(ratio_val(v, q) <= 0.5)} |")
    idle = g("vblkd", ("randread", 4096, 1, 1), "backend_idle_cpu_pct")
    if idle:
        out.append(f"| idle (no I/O for 1 s, front-end connected) | 0% CPU: adaptive polling "
                   f"stops | {cell(idle, 1)} % of a CPU after QD1 reads | "
                   f"{met(idle.med < 0.5)} |")
    for m in doc.get("memory") or []:
        if m["backend"] == "vblkd" and m["queues"] == 1 and m.get("idle_rss_kib"):
            ok = m["idle_rss_anon_kib"] <= 1536 and m["idle_rss_kib"] <= 4096
            out.append(f"| idle, file disk, no front-end | RssAnon ≤ 1.5 MiB; RSS ≤ 4 MiB | "
                       f"RssAnon {mib(m['idle_rss_anon_kib'])} MiB, RSS "
                       f"{mib(m['idle_rss_kib'])} MiB | {met(ok)} |")
    for m in (doc.get("manydisks") or {}).get("idle", []):
        if m["backend"] == "vblkd" and m["n"] == 64:
            ok = m["pss_kib"] <= 256 * 1024 and m["idle_cpu_pct"] < 0.5
            out.append(f"| 64 disks | total PSS ≤ 256 MiB, 0 idle CPU | PSS "
                       f"{mib(m['pss_kib'])} MiB, idle CPU {m['idle_cpu_pct']:.2f} % | "
                       f"{met(ok)} |")
    return out if len(out) > 2 else []


def same_cpu_table(st, place):
    bes = present(st, SAME_ROWS, "fe", "same")
    out = ["| workload | placement | " + " | ".join(bes) +
           " | vblkd / qsd-uring | vblkd-null / qsd-null |", "|---|---|" + "---:|" * (len(bes) + 2)]
    split = f"client CPU {place['client_cpu']}, back-end CPU {place['backend_cpu']}"
    same = f"**same CPU**: both on CPU {place['same_cpu']}"
    for w in workloads(st, "fe", SAME_ROWS, "same"):
        g = lambda b, p: get(st, "fe", b, w, place=p)
        for p, label in (("split", split), ("same", same)):
            out.append(f"| {wname(w)} | {label} | " + " | ".join(cell_iops(g(b, p)) for b in bes) +
                       f" | {ratio(g('vblkd', p), g('qsd-uring', p))} | "
                       f"{ratio(g('vblkd-null', p), g('qsd-null', p))} |")
        out.append(f"| {wname(w)} | same CPU / split | " +
                   " | ".join(ratio(g(b, "same"), g(b, "split")) for b in bes) + " | | |")
    return out


def direct_table(st, client):
    bes = present(st, DIRECT_ROWS, client)
    cpu = "backend_cpu_us_per_io"
    out = ["| workload | " + " | ".join(f"{b} IOPS" for b in bes) + " | vblkd / best qsd | " +
           " | ".join(f"{b} CPU µs/IO" for b in bes) + " |",
           "|---|" + "---:|" * (2 * len(bes) + 1)]
    for w in workloads(st, client, DIRECT_ROWS):
        g = lambda b, f="iops": get(st, client, b, w, f)
        bq = best(st, client, w, DIRECT_QSD)
        out.append(f"| {wname(w)} | " + " | ".join(cell_iops(g(b)) for b in bes) + " | " +
                   ratio(g("vblkd-direct"), g(bq)) + (f" vs {bq}" if bq else "") + " | " +
                   " | ".join(cell(g(b, cpu), 2) for b in bes) + " |")
    return out


def net_table(st, client):
    out = ["| workload | vblkd-nbd | qsd-nbd | nbd: vblkd / qsd | vblkd-rbd | qsd-rbd | "
           "rbd: vblkd / qsd |", "|---|---:|---:|---:|---:|---:|---:|"]
    for w in workloads(st, client, NET_ROWS):
        g = lambda b: get(st, client, b, w)
        out.append(f"| {wname(w)} | " + " | ".join([
            cell_iops(g("vblkd-nbd")), cell_iops(g("qsd-nbd")), ratio(g("vblkd-nbd"), g("qsd-nbd")),
            cell_iops(g("vblkd-rbd")), cell_iops(g("qsd-rbd")),
            ratio(g("vblkd-rbd"), g("qsd-rbd"))]) + " |")
    return out


def lat_table(st, client):
    out = ["| workload | placement | back-end | p50 µs | p99 µs | back-end CPU µs/IO | "
           "client CPU µs/IO |", "|---|---|---|---:|---:|---:|---:|"]
    for place, label in (("split", "split"), ("same", "same CPU")):
        for w in workloads(st, client, ORDER, place):
            for b in ORDER:
                m = st.get((client, b) + w + (place,))
                if m:
                    out.append(f"| {wname(w)} | {label} | {b} | {cell(m['p50_us'])} | "
                               f"{cell(m['p99_us'])} | {cell(m['backend_cpu_us_per_io'], 2)} | "
                               f"{cell(m['client_cpu_us_per_io'], 2)} |")
    return out


def event_idx_table(st):
    out = ["| workload | vblkd, EVENT_IDX | vblkd, without | qsd-uring, EVENT_IDX | "
           "qsd-uring, without | vblkd CPU µs/IO with | vblkd CPU µs/IO without |",
           "|---|---:|---:|---:|---:|---:|---:|"]
    for w in workloads(st, "fe-noei", ("vblkd", "qsd-uring")):
        c = lambda cl, b, f="iops": get(st, cl, b, w, f)
        cpu = "backend_cpu_us_per_io"
        out.append(f"| {wname(w)} | {cell_iops(c('fe', 'vblkd'))} | "
                   f"{cell_iops(c('fe-noei', 'vblkd'))} | {cell_iops(c('fe', 'qsd-uring'))} | "
                   f"{cell_iops(c('fe-noei', 'qsd-uring'))} | {cell(c('fe', 'vblkd', cpu), 2)} | "
                   f"{cell(c('fe-noei', 'vblkd', cpu), 2)} |")
    return out


def mib(kib):
    return "-" if kib is None else f"{kib / 1024:.1f}"


def mem_table(doc):
    out = ["| back-end | queues | idle RSS (MiB) | idle RssAnon (MiB) | RSS under QD32 random "
           "reads, without guest memory (MiB) |", "|---|---:|---:|---:|---:|"]
    for m in doc.get("memory") or []:
        out.append(f"| {m['backend']} | {m['queues']} | {mib(m.get('idle_rss_kib', m['idle_kib']))}"
                   f" | {mib(m.get('idle_rss_anon_kib'))} | {mib(m['load_kib'])} |")
    return out


def manydisks_table(md):
    groups = defaultdict(list)
    for r in md["runs"]:
        groups[(r["backend"], r["n"])].append(r)
    stat = lambda k, f: (Stat([(r["rep"], r[f]) for r in groups[k] if r.get(f) is not None])
                         if any(r.get(f) is not None for r in groups.get(k, [])) else None)
    out = ["| N disks | back-end | processes | total PSS (MiB) | total RssAnon (MiB) | "
           "idle CPU, % of one CPU | disks driven | aggregate IOPS | IOPS / qsd one process | "
           "back-end CPU µs/IO |", "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    idle = {(m["backend"], m["n"]): m for m in md["idle"]}
    for n in sorted({k[1] for k in idle} | {k[1] for k in groups}):
        for kind in MD_LABEL:
            m, k = idle.get((kind, n)), (kind, n)
            if not m and k not in groups:
                continue
            drv = groups[k][0]["disks"] if groups.get(k) else "-"
            mem = (f"{m['processes']} | {mib(m['pss_kib'])} | {mib(m['rss_anon_kib'])} | "
                   f"{m['idle_cpu_pct']:.2f}" if m else "- | - | - | -")
            rel = ("reference" if kind == "qsd-one" else
                   ratio(stat(k, "iops"), stat(("qsd-one", n), "iops")))
            out.append(f"| {n} | {MD_LABEL[kind]} | {mem} | {drv} | {cell_iops(stat(k, 'iops'))}"
                       f" | {rel} | "
                       f"{cell(stat(k, 'backend_cpu_us_per_io'), 2)} |")
    return out


def vduse_table(path):
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    groups = defaultdict(list)
    for i, r in enumerate(doc["runs"]):
        groups[(r["backend"], r["rw"], r["qd"])].append(r)
    m = lambda be, rw, qd, f: (Stat([(r.get("rep", i), r[f])
                                     for i, r in enumerate(groups[(be, rw, qd)])])
                               if groups.get((be, rw, qd)) else None)
    reps = max((len(v) for v in groups.values()), default=0)
    out = [f"Inside a TCG guest (kernel {doc['kernel']}, 2 vCPUs), virtio_vdpa, a 256 MiB "
           f"image in the guest's tmpfs, the same O_DIRECT io_uring client (bench/vdbench.c); "
           f"medians (min–max) of {reps} run{'s' if reps != 1 else ''}. Under TCG only the "
           "ratio means something.", "",
           "| workload | vblkd IOPS | qsd vduse-blk IOPS | vblkd / qsd | vblkd p50 µs | "
           "qsd p50 µs | vblkd CPU µs/IO | qsd CPU µs/IO |",
           "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for rw, qd in sorted({(k[1], k[2]) for k in groups}):
        v, q = m("vblkd", rw, qd, "iops"), m("qsd", rw, qd, "iops")
        out.append(f"| {rw} 4K QD{qd} | {cell_iops(v)} | {cell_iops(q)} | {ratio(v, q)} | "
                   f"{cell(m('vblkd', rw, qd, 'p50_us'), 0)} | "
                   f"{cell(m('qsd', rw, qd, 'p50_us'), 0)} | "
                   f"{cell(m('vblkd', rw, qd, 'backend_cpu_us_per_io'))} | "
                   f"{cell(m('qsd', rw, qd, 'backend_cpu_us_per_io'))} |")
    return out


def header(doc):
    m = doc["machine"]
    out = [f"Machine: {m['cpus']} CPUs ({m['cpu']}), Linux {m['kernel']}; {m['qsd']}. "
           f"{doc['reps']} repetition{'s' if doc['reps'] != 1 else ''} of {doc['runtime_ms']} "
           f"ms per case (after "
           f"{doc.get('warmup_ms', 100)} ms of warm-up), each repetition running every back-end "
           f"once in a rotated order; a {doc['image_bytes'] >> 20} MiB page-cached image; "
           f"{doc['seconds']} s in all" + (" (quick: QD 1 and 32 only)" if doc.get("quick") else "")
           + ".", ""]
    p = doc.get("placement")
    if p:
        chk = p.get("checked") or {}
        thr = p.get("threads_at_end") or {}
        ok = (all(v == str(p["backend_cpu"]) for v in chk.values()) and
              all(v == [str(p["backend_cpu"])] for v in thr.values() if v))
        out += [f"Placement: every client pinned to CPU {p['client_cpu']}, every back-end to "
                f"CPU {p['backend_cpu']} ({p['method']}; "
                + (f"the Cpus_allowed_list of each back-end, and at the end of every thread of "
                   f"it, checked: {p['backend_cpu']}" if ok else
                   "**checked: " + ", ".join(f"{k} {v} (threads {thr.get(k, '?')})"
                                             for k, v in chk.items()) + "**") +
                f"); the **same CPU** rows run the client on CPU {p['same_cpu']} too"
                f" (frontend/'s client). Not pinned: {p['unpinned']}.", ""]
    else:
        out += ["Placement: not pinned (a run from before the placement was recorded).", ""]
    q = doc.get("quiet")
    if q:
        fig = (f"load average {q['load1']:.2f}, other processes {q['others_cpu_pct']:.0f} % of "
               f"a CPU, steal {q['steal_pct']:.0f} %")
        if q["quiet"]:
            out.append(f"Quiet check before the run: quiet ({fig}).")
        else:
            out.append(f"Quiet check before the run: **{q['finding']}** ({fig}); "
                       "BENCH_FORCE=1 measured anyway: read every figure below with that in mind.")
        a = doc.get("quiet_after")
        if a:
            out[-1] += f" At the end: {a['finding']} (load average {a['load1']:.2f})."
        out.append("")
    poll = doc.get("vblkd_poll_default")
    if poll == "auto":
        out += ["Row vblkd: vblkd's defaults, no `--poll-us` (adaptive polling, `auto`); "
                "vblkd-nopoll: `--poll-us 0`.", ""]
    elif poll is not None:
        out += ["Row vblkd: vblkd's defaults, no `--poll-us`; **this vblkd's --help offers no "
                "`--poll-us auto`, so its default does not poll** and vblkd and vblkd-nopoll "
                "(`--poll-us 0`) are the same configuration: their difference is the noise.", ""]
    out += ["Cells: median (min–max) over the repetitions. Ratios: the ratio of the medians, "
            "then (min–max) of the ratios of the two runs made in the same repetition "
            "(paired by repetition). Back-end CPU µs/IO: utime + stime of the back-end process "
            "over the measured window (counted in 10 ms clock ticks), per I/O; a run that "
            "completed nothing counts for IOPS only.", ""]
    return out


def plot(st, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, rw in zip(axes, ("randread", "randwrite")):
        for b in present(st, FILE_ROWS, "fe"):
            pts = sorted((k[4], v["iops"]) for k, v in st.items()
                         if k[0] == "fe" and k[1] == b and k[2] == rw and k[3] == 4096 and
                         k[5] == 1 and k[6] == "split")
            if len(pts) > 1:
                x = [p[0] for p in pts]
                y = [p[1].med / 1000 for p in pts]
                err = [[(p[1].med - p[1].lo) / 1000 for p in pts],
                       [(p[1].hi - p[1].med) / 1000 for p in pts]]
                ax.errorbar(x, y, yerr=err, marker="o", capsize=3, label=b)
        ax.set_xscale("log", base=2)
        ax.set_xlabel("queue depth")
        ax.set_ylabel("kIOPS (median, min-max)")
        ax.set_title(f"4 KiB {rw}, 1 queue, frontend/ client, split CPUs")
        ax.grid(True, alpha=0.3)
    if axes[0].get_legend_handles_labels()[0]:
        axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main():
    doc, st = load(sys.argv[1])
    lines = header(doc)
    clients = [(c, t) for c, t in CLIENTS if any(k[0] == c for k in st)]
    for client, title in clients:
        if present(st, FILE_ROWS, client):
            lines += [f"### IOPS, {title} client", ""] + iops_table(st, client) + [""]
        g = goals(st, client, doc) if client == "blkio" or len(clients) == 1 else None
        if g:
            lines += [f"Goals of the performance issue, measured with the {title} client "
                      "(the goals count with libblkio's):", ""] + g + [""]
    if present(st, SAME_ROWS, "fe", "same") and doc.get("placement"):
        lines += ["### Same CPU against split CPUs, frontend/'s client", "",
                  "A wake-up across CPUs costs tens of µs here; the deployed case is the split "
                  "one (a VM's vCPU and its back-end on separate cores).", ""]
        lines += same_cpu_table(st, doc["placement"]) + [""]
    for client, title in clients:
        if present(st, DIRECT_ROWS, client):
            d = doc.get("direct_image") or {}
            lines += [f"### O_DIRECT, {title} client", "",
                      f"vblkd `--direct` against qsd `cache.direct=on` (aio=io_uring and "
                      f"aio=native) on a second {d.get('bytes', 0) >> 20} MiB file, every block "
                      f"written ({d.get('allocated_bytes', 0) >> 20} MiB allocated, "
                      f"{d.get('fs', '?')}), flushed and dropped from the page cache.", ""]
            lines += direct_table(st, client) + [""]
    for client, title in clients:
        if present(st, NET_ROWS, client):
            lines += [f"### Network disks, {title} client", ""] + net_table(st, client) + [""]
    for client, title in clients:
        if any(k[0] == client for k in st):
            lines += [f"### Latency and CPU, {title} client", ""] + lat_table(st, client) + [""]
    if any(k[0] == "fe-noei" for k in st):
        lines += ["### Notification suppression (VIRTIO_RING_F_EVENT_IDX), frontend/'s client",
                  ""] + event_idx_table(st) + [""]
    if doc.get("memory"):
        lines += ["### Memory", "", "One measurement each; the back-end alone (no front-end) "
                  "for the idle figures.", ""] + mem_table(doc) + [""]
    md = doc.get("manydisks")
    if md:
        lines += ["### Many disks", "",
                  f"N back-ends of one disk each ({md['image_bytes'] >> 20} MiB files, io_uring, "
                  f"one queue), pinned like the rest: N vblkd, one qsd with N vhost-user-blk "
                  f"exports, N qsd. Memory: the sum over the processes of smaps_rollup's Pss and "
                  f"Anonymous, each configuration alone, no front-end; idle CPU: utime + stime "
                  f"over {md['idle_s']:g} s. Then 4 KiB random reads at QD32 on up to "
                  f"{md['driven']} disks at once, one frontend/ client per disk (all on the "
                  f"client CPU), the three configurations up together and alternated per "
                  f"repetition; back-end CPU per I/O over all the configuration's processes.", ""]
        lines += manydisks_table(md) + [""]
    if len(sys.argv) > 4:
        lines += ["### The VDUSE path", ""] + vduse_table(sys.argv[4]) + [""]
    if doc.get("failures"):
        lines += ["### Failures", ""] + [f"- {f}" for f in doc["failures"]] + [""]
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        f.write("\n".join(lines))
    print("\n".join(lines))
    plot(st, sys.argv[3])


if __name__ == "__main__":
    main()
