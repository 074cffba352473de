"""Grade one notebook in a worker of this process and print its peak memory (issue 21).

``python -m tests.grading.output_probe CODE``: the lesson-01 reference notebook with CODE
inserted after the users check, graded by a sandboxed Worker in this process; prints JSON
with the resident set before and after grading (ru_maxrss), the row's status and notes.
Run as its own process so the peak is this grading's alone.
"""
import json, resource, sys, tempfile, time
from pathlib import Path
from labkit.grading import regrade
from labkit.grading.submissions import discover
from labkit.grading import notebook as nbtools
from tests.grading import hostile
root = Path(tempfile.mkdtemp(prefix="lk-output-"))
code = sys.argv[1]
nb = hostile._insert_after(hostile.source(), "01.users", code)
(root / "printer.ipynb").write_text(nbtools.dumps(nb))
sub = discover(root)[0]
w = regrade.Worker(Path(tempfile.mkdtemp(prefix="lkg-")),
                   regrade.Settings(timeout=200, cell_timeout=90))
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.time()
r = w.grade(sub)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
w.close()
print(json.dumps({"base_mb": base // 1024, "peak_mb": peak // 1024, "seconds": time.time() - t,
                  "execution": r["execution"], "notes": r["notes"], "output": r["output"],
                  "limits": r.get("limits", []),
                  "points": sum(c["points"] for c in r["checks"])}))
