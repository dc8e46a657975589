#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Turn bench/downtime's JSON into a markdown table and a plot.

    downtime-report.py downtime.json downtime.md downtime.png \
        [downtime-qemu.json downtime-qemu.png]

The JSON is the document `downtime --output` writes (its "medians" are
recomputed here from "runs", so a document cut by hand still adds up).
The table has one row per throttle and depth: the median downtime of each
mode and drain/capture; a second table splits the medians into the steps.
The plot is downtime against queue depth, one line per mode and throttle,
on a log y axis, with the min-max range of the runs as error bars.
With bench/downtime-qemu.py's JSON as well, the markdown gets a second
section, QMP's downtime through QEMU 11.1 (drain = inflight-migration=off,
capture = on), and a second plot of the same form.
"""
import json
import statistics
import sys
from collections import defaultdict

PARTS = ("suspend_us", "save_us", "transfer_us", "load_us", "resume_us")


def load(path):
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    cases = defaultdict(list)
    for run in doc["runs"]:
        cases[(run["mode"], run["throttle_iops"], run["depth"])].append(run)
    return doc, cases


def med(runs, key):
    return statistics.median(r[key] for r in runs)


def ms(us):
    return f"{us / 1000:.2f}" if us < 100000 else f"{us / 1000:.0f}"


def table(doc, cases):
    iops = sorted({k[1] for k in cases})
    depths = sorted({k[2] for k in cases})
    m = doc.get("machine", {})
    out = [
        f"Machine: {m.get('cpus', '?')} CPUs, Linux {m.get('kernel', '?')} "
        f"({m.get('arch', '?')}); {doc.get('write_bytes', '?')}-byte writes.",
        "",
        "| throttle (IOPS) | depth | drain median (ms) | capture median (ms) "
        "| drain / capture |",
        "|---:|---:|---:|---:|---:|",
    ]
    for t in iops:
        for d in depths:
            dr, ca = cases.get(("drain", t, d)), cases.get(("capture", t, d))
            dm = med(dr, "downtime_us") if dr else None
            cm = med(ca, "downtime_us") if ca else None
            ratio = f"{dm / cm:.1f}" if dm is not None and cm else "-"
            out.append(f"| {t} | {d} | {ms(dm) if dr else '-'} | {ms(cm) if ca else '-'} "
                       f"| {ratio} |")
    out += [
        "",
        f"Median of {doc.get('reps', '?')} runs each; downtime is from the start of "
        "the source's suspend until the destination's rings are started "
        "(suspend + save + load + resume; the transfer is part of save and load).",
        "",
        "| mode | throttle (IOPS) | depth | suspend | save | transfer | load | resume "
        "| downtime | writes pending at suspend | completed by the destination |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for mode in ("drain", "capture"):
        for t in iops:
            for d in depths:
                runs = cases.get((mode, t, d))
                if not runs:
                    continue
                parts = " | ".join(ms(med(runs, p)) for p in PARTS)
                out.append(f"| {mode} | {t} | {d} | {parts} | {ms(med(runs, 'downtime_us'))} "
                           f"| {med(runs, 'pending_at_suspend'):g} "
                           f"| {med(runs, 'done_on_destination'):g} |")
    out.append("")
    out.append("Steps in ms, medians per column (they need not add up to the median "
               "downtime).")
    return "\n".join(out) + "\n"


def plot(cases, path, ms, label, xlabel, ylabel, title):
    """Downtime against depth, one line per mode and throttle; @ms(run) is a run's ms."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    iops = sorted({k[1] for k in cases})
    depths = sorted({k[2] for k in cases})
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=120)
    for i, t in enumerate(iops):
        for mode, style, marker in (("drain", "--", "s"), ("capture", "-", "o")):
            pts = [(d, cases[(mode, t, d)]) for d in depths if (mode, t, d) in cases]
            if not pts:
                continue
            x = [d for d, _ in pts]
            y = [statistics.median(ms(rr) for rr in r) for _, r in pts]
            lo = [yy - min(ms(rr) for rr in r) for yy, (_, r) in zip(y, pts)]
            hi = [max(ms(rr) for rr in r) - yy for yy, (_, r) in zip(y, pts)]
            ax.errorbar(x, y, yerr=[lo, hi], linestyle=style, marker=marker, capsize=3,
                        color=colors[i % len(colors)], label=label(mode, t))
    ax.set_xscale("log", base=2)
    ax.set_xticks(depths)
    ax.set_xticklabels([str(d) for d in depths])
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, ncol=2)
    fig.tight_layout()
    fig.savefig(path)


def load_qemu(path):
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    cases = defaultdict(list)
    for run in doc["runs"]:
        if run.get("ok") and run.get("downtime_ms") is not None:
            cases[(run["mode"], run["throttle_iops"], run["writers"])].append(run)
    return doc, cases


def qms(v):
    return f"{v:g}"


def table_qemu(doc, cases):
    runs = doc["runs"]
    iops = sorted({r["throttle_iops"] for r in runs})
    depths = sorted({r["writers"] for r in runs})
    m = doc.get("machine", {})
    failed = [r for r in runs if not r.get("ok")]
    out = [
        "## QEMU 11.1 vhost-user-blk-pci, QMP downtime",
        "",
        f"{doc.get('qemu', 'QEMU ?')}; guest: {doc.get('guest', '?')}. "
        f"Host: {m.get('cpus', '?')} CPUs, Linux {m.get('kernel', '?')} ({m.get('arch', '?')}).",
        "",
        "| throttle (IOPS) | writers (depth) | drain (off) median (ms) "
        "| capture (on) median (ms) | drain / capture |",
        "|---:|---:|---:|---:|---:|",
    ]
    for t in iops:
        for d in depths:
            dr, ca = cases.get(("drain", t, d)), cases.get(("capture", t, d))
            dm = statistics.median(r["downtime_ms"] for r in dr) if dr else None
            cm = statistics.median(r["downtime_ms"] for r in ca) if ca else None
            ratio = f"{dm / cm:.1f}" if dm is not None and cm else "-"
            reps = doc.get("reps")

            def cell(v, rs):
                if not rs:
                    return "-"
                return qms(v) + (f" (n={len(rs)})" if reps and len(rs) < reps else "")
            out.append(f"| {t} | {d} | {cell(dm, dr)} | {cell(cm, ca)} | {ratio} |")
    out += [
        "",
        f"Median of {doc.get('reps', '?')} runs each, of the runs that passed (n= when "
        "fewer did; min-max in the second table); "
        "downtime is QMP query-migrate's `downtime`: from the source VM's stop "
        "(vCPUs, then the vhost-user device: GET_VRING_BASE drains or captures) "
        "until the destination runs, RAM's last pass and device state included.",
        "",
        "| mode | throttle (IOPS) | writers | blocks per writer | downtime min-max (ms) "
        "| total median (ms) | captured (median) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for mode in ("drain", "capture"):
        for t in iops:
            for d in depths:
                rs = cases.get((mode, t, d))
                if not rs:
                    continue
                ds = [r["downtime_ms"] for r in rs]
                out.append(f"| {mode} | {t} | {d} | {rs[0]['blocks_per_writer']} "
                           f"| {min(ds)}-{max(ds)} "
                           f"| {qms(statistics.median(r['total_ms'] for r in rs))} "
                           f"| {qms(statistics.median(r['captured'] for r in rs))} |")
    out.append("")
    out.append(f"{len(runs)} runs in {doc.get('elapsed_s', '?')} s, "
               f"{len(failed)} failed functionally" + (":" if failed else "."))
    for r in failed:
        out.append(f"* {r['mode']} {r['throttle_iops']} IOPS {r['writers']} writers "
                   f"(rep {r.get('rep')}): {'; '.join(r.get('failures', []))}")
    return "\n".join(out) + "\n"


def main():
    if len(sys.argv) not in (4, 6):
        sys.exit("usage: downtime-report.py DOWNTIME.json OUT.md OUT.png "
                 "[DOWNTIME-QEMU.json OUT-QEMU.png]")
    doc, cases = load(sys.argv[1])
    text = table(doc, cases)
    if len(sys.argv) == 6:
        qdoc, qcases = load_qemu(sys.argv[4])
        text += "\n" + table_qemu(qdoc, qcases)
        plot(qcases, sys.argv[5], lambda r: r["downtime_ms"],
             lambda mode, t: f"{mode} ({'on' if mode == 'capture' else 'off'}), {t} IOPS",
             "guest O_DIRECT writers (writes in flight)",
             "QMP downtime (ms, median; bars: min-max)",
             "QEMU 11.1 vhost-user-blk-pci + vblkd: inflight-migration off vs on")
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        f.write(text)
    plot(cases, sys.argv[3], lambda r: r["downtime_us"] / 1000,
         lambda mode, t: f"{mode}, {t} IOPS", "writes in flight (queue depth)",
         "downtime (ms, median; bars: min-max)",
         "vblkd vhost-user migration downtime: drain vs capture")


if __name__ == "__main__":
    main()
