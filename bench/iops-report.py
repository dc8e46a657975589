#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Turn bench/iops-bench.py's JSON into markdown tables and a plot.

    iops-report.py bench.json bench.md bench.png [vduse.json]

Medians over the repetitions of each (client, back-end, workload). One table
per client: IOPS of every back-end, then vblkd's ratios against the best
qemu-storage-daemon file configuration and against qsd's null-co; one table
of latency and CPU per I/O; the goals of the performance issue, measured;
the memory figures. The plot is IOPS against queue depth for 4 KiB random
reads and writes on one queue, one line per back-end. With bench/vduse-bench.sh's
JSON, a last table compares vblkd --vduse with qsd's vduse-blk export in the
TCG guest.
"""
import json
import statistics
import sys
from collections import defaultdict

FILE_QSD = ("qsd-uring", "qsd-threads", "qsd11-uring")


def key(r):
    return (r["client"], r["backend"], r["rw"], r["bs"], r["qd"], r["queues"])


def load(path):
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    groups = defaultdict(list)
    for r in doc["runs"]:
        groups[key(r)].append(r)
    med = {k: {f: statistics.median(x[f] for x in v)
               for f in ("iops", "p50_us", "p99_us", "backend_cpu_us_per_io",
                         "client_cpu_us_per_io")}
           for k, v in groups.items()}
    return doc, med


def fmt_iops(v):
    return "-" if v is None else (f"{v / 1000:.1f}k" if v >= 1000 else f"{v:.0f}")


def ratio(a, b):
    return "-" if not a or not b else f"{a / b:.2f}×"


def workloads(med, client):
    ws = sorted({k[2:] for k in med if k[0] == client},
                key=lambda w: (w[1] != 4096, w[0], w[3], w[2]))
    return ws


def backends(med):
    order = ["vblkd", "vblkd-poll", "vblkd-null", "qsd-uring", "qsd-threads", "qsd-null",
             "qsd11-uring", "vblkd-nbd", "qsd-nbd", "vblkd-rbd", "qsd-rbd"]
    have = {k[1] for k in med}
    return [b for b in order if b in have]


def get(med, client, be, w, field="iops"):
    m = med.get((client, be) + w)
    return m[field] if m else None


def best_qsd_file(med, client, w, field="iops", lower=False):
    vals = [get(med, client, b, w, field) for b in FILE_QSD]
    vals = [v for v in vals if v]
    if not vals:
        return None
    return min(vals) if lower else max(vals)


def wname(w):
    rw, bs, qd, nq = w
    return f"{rw} {bs // 1024}K QD{qd} ×{nq}q"


def iops_table(med, client):
    bes = backends(med)
    out = ["| workload | " + " | ".join(bes) +
           " | vblkd / best qsd file | vblkd-null / qsd-null | vblkd / qsd-null "
           "| nbd: vblkd / qsd | rbd: vblkd / qsd |",
           "|---|" + "---:|" * (len(bes) + 5)]
    for w in workloads(med, client):
        row = [fmt_iops(get(med, client, b, w)) for b in bes]
        v = get(med, client, "vblkd", w)
        out.append(f"| {wname(w)} | " + " | ".join(row) + " | " +
                   " | ".join([ratio(v, best_qsd_file(med, client, w)),
                               ratio(get(med, client, "vblkd-null", w),
                                     get(med, client, "qsd-null", w)),
                               ratio(v, get(med, client, "qsd-null", w)),
                               ratio(get(med, client, "vblkd-nbd", w),
                                     get(med, client, "qsd-nbd", w)),
                               ratio(get(med, client, "vblkd-rbd", w),
                                     get(med, client, "qsd-rbd", w))]) + " |")
    return out


def lat_table(med, client):
    bes = backends(med)
    out = ["| workload | back-end | p50 µs | p99 µs | back-end CPU µs/IO | client CPU µs/IO |",
           "|---|---|---:|---:|---:|---:|"]
    for w in workloads(med, client):
        for b in bes:
            m = med.get((client, b) + w)
            if m:
                out.append(f"| {wname(w)} | {b} | {m['p50_us']:.1f} | {m['p99_us']:.1f} | "
                           f"{m['backend_cpu_us_per_io']:.2f} | "
                           f"{m['client_cpu_us_per_io']:.2f} |")
    return out


def goals(med, client):
    out = [f"Goals of the performance issue, measured with the {client} client:", ""]
    w1 = ("randread", 4096, 1, 1)
    p = get(med, client, "vblkd-poll", w1, "p50_us")
    q = best_qsd_file(med, client, w1, "p50_us", lower=True)
    if p and q:
        out.append(f"- QD1 4 KiB random read p50 with --poll-us 50: {p:.1f} µs against "
                   f"{q:.1f} µs for qsd's best file configuration = {p / q:.2f}× "
                   f"(goal ≤ 0.70×: {'met' if p / q <= 0.7 else 'not met'}).")
    for rw, goal in (("randread", 1.5), ("randwrite", 4.0)):
        c = get(med, client, "vblkd", (rw, 4096, 32, 1), "backend_cpu_us_per_io")
        if c:
            out.append(f"- back-end CPU per I/O, {rw} QD32, no polling: {c:.2f} µs "
                       f"(goal ≤ {goal} µs: {'met' if c <= goal else 'not met'}).")
    for rw in ("randread", "randwrite"):
        w = (rw, 4096, 32, 1)
        v, n = get(med, client, "vblkd", w), get(med, client, "qsd-null", w)
        if v and n:
            out.append(f"- page-cached file against qsd null-co, {rw} QD32: {v / n:.2f}× "
                       f"(goal ≥ 0.90×: {'met' if v / n >= 0.9 else 'not met'}).")
    return out


def event_idx_table(med):
    out = ["| workload | vblkd, EVENT_IDX | vblkd, without | qsd-uring, EVENT_IDX | "
           "qsd-uring, without | vblkd CPU µs/IO with / without |",
           "|---|---:|---:|---:|---:|---:|"]
    for w in workloads(med, "fe-noei"):
        c = lambda cl, b, f="iops": get(med, cl, b, w, f)
        cpu = (f"{c('fe', 'vblkd', 'backend_cpu_us_per_io'):.2f} / "
               f"{c('fe-noei', 'vblkd', 'backend_cpu_us_per_io'):.2f}"
               if c("fe", "vblkd") and c("fe-noei", "vblkd") else "-")
        out.append(f"| {wname(w)} | {fmt_iops(c('fe', 'vblkd'))} | "
                   f"{fmt_iops(c('fe-noei', 'vblkd'))} | {fmt_iops(c('fe', 'qsd-uring'))} | "
                   f"{fmt_iops(c('fe-noei', 'qsd-uring'))} | {cpu} |")
    return out


def mem_table(doc):
    out = ["| back-end | queues | idle RSS (MiB) | RSS under QD32 random reads (MiB) |",
           "|---|---:|---:|---:|"]
    for m in doc.get("memory", []):
        out.append(f"| {m['backend']} | {m['queues']} | {m['idle_kib'] / 1024:.1f} | "
                   f"{m['load_kib'] / 1024:.1f} |")
    return out


def vduse_table(path):
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    groups = defaultdict(list)
    for r in doc["runs"]:
        groups[(r["backend"], r["rw"], r["qd"])].append(r)
    m = lambda be, rw, qd, f: (statistics.median(x[f] for x in groups[(be, rw, qd)])
                               if groups.get((be, rw, qd)) else None)
    reps = max((len(v) for v in groups.values()), default=0)
    out = [f"Inside a TCG guest (kernel {doc['kernel']}, 2 vCPUs), virtio_vdpa, a 256 MiB "
           f"image in the guest's tmpfs, the same O_DIRECT io_uring client (bench/vdbench.c); "
           f"medians of {reps} runs. Under TCG only the ratio means something.", "",
           "| workload | vblkd IOPS | qsd vduse-blk IOPS | vblkd / qsd | vblkd p50 µs | "
           "qsd p50 µs | vblkd CPU µs/IO | qsd CPU µs/IO |",
           "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for rw, qd in sorted({(k[1], k[2]) for k in groups}):
        v, q = m("vblkd", rw, qd, "iops"), m("qsd", rw, qd, "iops")
        cell = lambda x, f="{:.0f}": "-" if x is None else f.format(x)
        out.append(f"| {rw} 4K QD{qd} | {cell(v)} | {cell(q)} | {ratio(v, q)} | "
                   f"{cell(m('vblkd', rw, qd, 'p50_us'))} | {cell(m('qsd', rw, qd, 'p50_us'))} | "
                   f"{cell(m('vblkd', rw, qd, 'backend_cpu_us_per_io'), '{:.1f}')} | "
                   f"{cell(m('qsd', rw, qd, 'backend_cpu_us_per_io'), '{:.1f}')} |")
    return out


def plot(med, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, rw in zip(axes, ("randread", "randwrite")):
        for b in backends(med):
            pts = sorted((k[4], v["iops"]) for k, v in med.items()
                         if k[0] == "fe" and k[1] == b and k[2] == rw and k[3] == 4096 and
                         k[5] == 1)
            if len(pts) > 1:
                ax.plot([p[0] for p in pts], [p[1] / 1000 for p in pts], marker="o", label=b)
        ax.set_xscale("log", base=2)
        ax.set_xlabel("queue depth")
        ax.set_ylabel("kIOPS (median)")
        ax.set_title(f"4 KiB {rw}, 1 queue, frontend/ client")
        ax.grid(True, alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main():
    doc, med = load(sys.argv[1])
    m = doc["machine"]
    lines = [f"Machine: {m['cpus']} CPUs ({m['cpu']}), Linux {m['kernel']}; {m['qsd']}. "
             f"{doc['reps']} repetitions of {doc['runtime_ms']} ms per case, medians; "
             f"a {doc['image_bytes'] >> 20} MiB page-cached image; {doc['seconds']} s in all.",
             ""]
    for client, title in (("fe", "frontend/'s driver"), ("blkio", "libblkio 1.5")):
        if not any(k[0] == client for k in med):
            continue
        lines += [f"### IOPS, {title} client", ""] + iops_table(med, client) + [""]
        lines += goals(med, client) + [""]
    for client, title in (("fe", "frontend/'s driver"), ("blkio", "libblkio 1.5")):
        if any(k[0] == client for k in med):
            lines += [f"### Latency and CPU, {title} client", ""] + lat_table(med, client) + [""]
    if any(k[0] == "fe-noei" for k in med):
        lines += ["### Notification suppression (VIRTIO_RING_F_EVENT_IDX), frontend/'s client",
                  ""] + event_idx_table(med) + [""]
    lines += ["### Memory (RSS without guest memory mappings)", ""] + mem_table(doc) + [""]
    if len(sys.argv) > 4:
        lines += ["### The VDUSE path", ""] + vduse_table(sys.argv[4]) + [""]
    if doc.get("failures"):
        lines += ["### Failures", ""] + [f"- {f}" for f in doc["failures"]] + [""]
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        f.write("\n".join(lines))
    print("\n".join(lines))
    plot(med, sys.argv[3])


if __name__ == "__main__":
    main()
