#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Turn bench/downtime's JSON into a markdown table and a plot.

    downtime-report.py downtime.json downtime.md downtime.png

The JSON is the document `downtime --output` writes (its "medians" are
recomputed here from "runs", so a document cut by hand still adds up).
The table has one row per throttle and depth: the median downtime of each
mode and drain/capture; a second table splits the medians into the steps.
The plot is downtime against queue depth, one line per mode and throttle,
on a log y axis, with the min-max range of the runs as error bars.
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


def plot(cases, path):
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
            y = [med(r, "downtime_us") / 1000 for _, r in pts]
            lo = [yy - min(rr["downtime_us"] for rr in r) / 1000 for yy, (_, r) in zip(y, pts)]
            hi = [max(rr["downtime_us"] for rr in r) / 1000 - yy for yy, (_, r) in zip(y, pts)]
            ax.errorbar(x, y, yerr=[lo, hi], linestyle=style, marker=marker, capsize=3,
                        color=colors[i % len(colors)], label=f"{mode}, {t} IOPS")
    ax.set_xscale("log", base=2)
    ax.set_xticks(depths)
    ax.set_xticklabels([str(d) for d in depths])
    ax.set_yscale("log")
    ax.set_xlabel("writes in flight (queue depth)")
    ax.set_ylabel("downtime (ms, median; bars: min-max)")
    ax.set_title("vblkd vhost-user migration downtime: drain vs capture")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, ncol=2)
    fig.tight_layout()
    fig.savefig(path)


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: downtime-report.py DOWNTIME.json OUT.md OUT.png")
    doc, cases = load(sys.argv[1])
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        f.write(table(doc, cases))
    plot(cases, sys.argv[3])


if __name__ == "__main__":
    main()
