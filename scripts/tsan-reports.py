#!/usr/bin/env python3
"""ThreadSanitizer reports of check.sh's TSan build, one per distinct race.

Usage: tsan-reports.py LOG_DIR OUT_JSON

LOG_DIR holds the files TSan wrote through log_path, named <test>.<pid>
(scripts/tsan-test.sh). Prints each distinct report once with the tests
whose processes made it, and writes OUT_JSON as one testlog.json line whose
TAP output has a failing point per distinct report (or one passing point),
for check.sh's summary. Exit status 1 when there is any report.
"""
import glob
import json
import os
import re
import sys

logs, out = sys.argv[1], sys.argv[2]
reports = {}
for path in sorted(glob.glob(os.path.join(logs, "*"))):
    with open(path, errors="replace") as f:
        text = f.read()
    test = os.path.basename(path).rsplit(".", 1)[0]
    found = re.findall(r"^=+\n(WARNING: ThreadSanitizer.*?)^=+$", text, re.M | re.S)
    if not found and text.strip():
        found = [text]  # not a report, but TSan had something to say
    for rep in found:
        # The same report: same kind, same top frame of every stack.
        tops = re.findall(r"^\s+#0 (.*?)(?: \(\S+\+0x[0-9a-f]+\))?$", rep, re.M)
        key = (rep.splitlines()[0].split(" (pid=")[0], tuple(tops))
        reports.setdefault(key, [rep, set()])[1].add(test)

points = []
for (kind, _), (rep, tests) in reports.items():
    summary = re.search(r"^SUMMARY: ThreadSanitizer: (.*)$", rep, re.M)
    what = f"{summary.group(1) if summary else kind} (in {', '.join(sorted(tests))})"
    print(f"==== {what}\n{rep}")
    points.append(f"not ok {len(points) + 1} {what}")
with open(out, "w") as f:
    json.dump({"name": "ThreadSanitizer reports", "result": "FAIL" if points else "OK",
               "stdout": "\n".join(points) or f"ok 1 no report in {logs}"}, f)
    f.write("\n")
print(f"check: {len(reports)} distinct ThreadSanitizer report(s) in {logs}")
sys.exit(1 if reports else 0)
