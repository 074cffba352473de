"""What a regrade leaves for the instructor and the learners, rebuilt from OUT/results/.

- ``grades.csv``: one row per learner, lesson and check
  (learner, lesson, check, points, max_points, status, message);
- ``summary.csv``: one row per learner and lesson (points, max, how the notebook ran);
- ``report.html``: the same for a browser, with the failing cell's output (cut short);
- ``feedback/<learner>-<lesson>.md``: what to tell each learner.

Every file is written to a temporary name and renamed, so a reader never sees half a file.
"""
from __future__ import annotations

import csv
import html
import io
import json
import os
from pathlib import Path

GRADE_COLUMNS = ("learner", "lesson", "check", "points", "max_points", "status", "message")
SUMMARY_COLUMNS = ("learner", "lesson", "points", "max_points", "execution", "reason", "seconds",
                   "notes")
MESSAGE_LIMIT = 500


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)


def load_results(out: Path) -> list[dict]:
    """Every result in ``out/results``, sorted by learner then lesson."""
    results = []
    for path in sorted(Path(out, "results").glob("*.json")):
        try:
            results.append(json.loads(path.read_text()))
        except ValueError:
            continue  # a half-written file cannot exist (atomic writes); skip foreign ones
    return sorted(results, key=lambda r: (r["learner"], r["lesson"]))


def _short(text: str, limit: int = MESSAGE_LIMIT) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit] + " [...]"


def grade_rows(results: list[dict]) -> list[dict]:
    return [{"learner": r["learner"], "lesson": r["lesson"], "check": c["check"],
             "points": _number(c["points"]), "max_points": _number(c["max_points"]),
             "status": c["status"], "message": _short(c["message"])}
            for r in results for c in r["checks"]]


def summary_rows(results: list[dict]) -> list[dict]:
    return [{"learner": r["learner"], "lesson": r["lesson"],
             "points": _number(sum(c["points"] for c in r["checks"])),
             "max_points": _number(sum(c["max_points"] for c in r["checks"])),
             "execution": r["execution"]["status"], "reason": _short(r["execution"]["reason"]),
             "seconds": r.get("seconds", 0), "notes": "; ".join(r.get("notes", []))}
            for r in results]


def _number(value) -> float | int:
    return int(value) if float(value).is_integer() else value


def _csv(rows: list[dict], columns) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def feedback(result: dict) -> str:
    """The learner's feedback file (Markdown)."""
    got = sum(c["points"] for c in result["checks"])
    total = sum(c["max_points"] for c in result["checks"])
    lines = [f"# Lesson {result['lesson']}: feedback for {result['learner']}", "",
             f"Score: {_number(got)} / {_number(total)}", ""]
    execution = result["execution"]
    if execution["status"] != "ok":
        lines += [f"Your notebook did not run to the end: {execution['reason']}", ""]
    lines += [f"- Note: {note}" for note in result.get("notes", [])]
    for row in result["checks"]:
        mark = "passed" if row["status"] == "passed" else "NOT passed"
        kind = " (graded check, not in your notebook)" if row.get("hidden") else ""
        lines.append(f"- {row['check']}{kind}: {mark}, {_number(row['points'])}/"
                     f"{_number(row['max_points'])}. {_short(row['message'])}")
        if row.get("hint"):
            lines.append(f"  Hint: {row['hint']}")
    return "\n".join(lines) + "\n"


def html_report(results: list[dict]) -> str:
    """One page: a table of learners, then each learner's checks and the failing output."""
    e = html.escape
    summary = "".join(
        f"<tr class='{'ok' if s['points'] == s['max_points'] else 'low'}'><td>{e(s['learner'])}"
        f"</td><td>{e(s['lesson'])}</td><td>{s['points']} / {s['max_points']}</td>"
        f"<td>{e(s['execution'])}</td><td>{e(s['reason'])}</td></tr>"
        for s in summary_rows(results))
    details = []
    for r in results:
        rows = "".join(f"<tr><td>{e(c['check'])}{' (hidden)' if c.get('hidden') else ''}</td>"
                       f"<td>{_number(c['points'])} / {_number(c['max_points'])}</td>"
                       f"<td>{e(c['status'])}</td><td>{e(_short(c['message']))}</td></tr>"
                       for c in r["checks"])
        notes = "".join(f"<li>{e(n)}</li>" for n in r.get("notes", []))
        output = f"<pre>{e(r['output'])}</pre>" if r.get("output") else ""
        details.append(f"<h2 id='{e(r['learner'])}-{e(r['lesson'])}'>{e(r['learner'])}, "
                       f"lesson {e(r['lesson'])}</h2><ul>{notes}</ul><table><tr><th>check</th>"
                       f"<th>points</th><th>status</th><th>message</th></tr>{rows}</table>"
                       f"{output}")
    style = ("body{font-family:sans-serif;margin:2em}td,th{border:1px solid #ccc;padding:4px}"
             "table{border-collapse:collapse}.low{background:#fee}pre{background:#f6f6f6;"
             "max-height:20em;overflow:auto;white-space:pre-wrap}")
    return (f"<!doctype html><meta charset='utf-8'><title>labkit grades</title>"
            f"<style>{style}</style><h1>Grades</h1><table><tr><th>learner</th><th>lesson</th>"
            f"<th>points</th><th>notebook</th><th>reason</th></tr>{summary}</table>"
            + "".join(details))


def write_reports(out: Path) -> dict[str, Path]:
    """Rebuild every report file of ``out`` from its results; return their paths."""
    out = Path(out)
    results = load_results(out)
    paths = {"grades": out / "grades.csv", "summary": out / "summary.csv",
             "html": out / "report.html"}
    write_atomic(paths["grades"], _csv(grade_rows(results), GRADE_COLUMNS))
    write_atomic(paths["summary"], _csv(summary_rows(results), SUMMARY_COLUMNS))
    write_atomic(paths["html"], html_report(results))
    for result in results:
        name = f"{result['learner']}-{result['lesson']}.md".replace(os.sep, "_")
        write_atomic(out / "feedback" / name, feedback(result))
    return paths
