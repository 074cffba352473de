"""What a regrade leaves for the instructor and the learners, rebuilt from OUT/results/.

- ``grades.csv``: one row per learner, lesson and check
  (learner, lesson, check, points, max_points, status, message);
- ``summary.csv``: one row per learner and lesson (points, max, how the notebook ran),
  learners only (a gradebook can import it as it is);
- ``class.csv``: the class figures (pass rate per check, learners per score band);
- ``report.html``: the same for a browser, with the failing cell's output (cut short);
- ``feedback/<key>.md``: what to tell each learner (``key`` is the file-system-safe,
  collision-free id of the submission; the original name is inside);
- ``histogram.png``: the score histogram the report shows first.

Everything here is learner-made text handled as hostile: control characters (ANSI
and OSC 8 escapes included) are stripped from names and messages, CSV cells that a
spreadsheet would read as a formula (=, +, -, @) are neutralised with a leading
apostrophe, HTML is escaped and Markdown special characters are backslashed.

Every file is written to a temporary name and renamed, so a reader never sees half a file.
"""
from __future__ import annotations

import csv
import html
import io
import json
import os
import re
from collections import Counter
from pathlib import Path

GRADE_COLUMNS = ("learner", "lesson", "check", "points", "max_points", "status", "message")
SUMMARY_COLUMNS = ("learner", "lesson", "points", "max_points", "execution", "reason", "seconds",
                   "notes")
MESSAGE_LIMIT = 500
#: ANSI CSI and OSC sequences (colour, OSC 8 hyperlinks, title changes), then any other
#: control character, including C1 controls and the bidirectional overrides.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]?")
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+!|~-])")


def clean(text) -> str:
    """``text`` without terminal escapes or control characters (newlines and tabs kept)."""
    return _CONTROL.sub("", _ESCAPES.sub("", str(text)))


def csv_cell(value):
    """A value safe in a spreadsheet: a leading =, +, -, @ makes it text, not a formula."""
    if not isinstance(value, str):
        return value
    value = clean(value).replace("\n", " ")
    return "'" + value if value.startswith(_FORMULA_START) else value


def markdown(text) -> str:
    """Learner text as literal Markdown: one line, special characters backslashed."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", _short(text))


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)


def load_results(out: Path, verify=None) -> list[dict]:
    """Every result in ``out/results``, sorted by learner then lesson.

    ``verify(result) -> bool`` (the grader's signature check): a result that fails it
    is replaced by an "unverified" result worth 0 points, saying so.
    """
    results = []
    for path in sorted(Path(out, "results").glob("*.json")):
        try:
            result = json.loads(path.read_text())
            _shape(result)
        except (ValueError, KeyError, TypeError, AttributeError):
            continue  # a half-written file cannot exist (atomic writes); skip foreign ones
        if verify is not None and not verify(result):
            result = unverified(result)
        results.append(result)
    return sorted(results, key=lambda r: (str(r["learner"]), str(r["lesson"])))


def _shape(result: dict) -> None:
    """Raise unless ``result`` has the fields the reports read."""
    str(result["learner"]), str(result["lesson"]), result["execution"]["status"]
    for row in result["checks"]:
        float(row["points"]), float(row["max_points"]), row["status"], row["check"]


def unverified(result: dict) -> dict:
    """What the reports show for a result the grader cannot prove it wrote."""
    reason = ("this stored result is not signed by this grader (forged, or graded with "
              "another LABKIT_GRADER_KEY): regrade it")
    return {**result, "execution": {"status": "unverified", "reason": reason},
            "checks": [{**row, "points": 0, "status": "not-run", "message": reason}
                       for row in result["checks"]],
            "output": "", "notes": []}


def _short(text: str, limit: int = MESSAGE_LIMIT) -> str:
    text = " ".join(clean(text).split())
    return text if len(text) <= limit else text[:limit] + " [...]"


def _name(result: dict) -> str:
    # The submission as handed in ("dup.ipynb", "dup/"): two learners' rows never look alike.
    return clean(result.get("handed_in") or result["learner"])


def grade_rows(results: list[dict]) -> list[dict]:
    return [{"learner": _name(r), "lesson": r["lesson"], "check": c["check"],
             "points": _number(c["points"]), "max_points": _number(c["max_points"]),
             "status": c["status"], "message": _short(c["message"])}
            for r in results for c in r["checks"]]


def summary_rows(results: list[dict]) -> list[dict]:
    return [{"learner": _name(r), "lesson": r["lesson"],
             "points": _number(sum(c["points"] for c in r["checks"])),
             "max_points": _number(sum(c["max_points"] for c in r["checks"])),
             "execution": r["execution"]["status"], "reason": _short(r["execution"]["reason"]),
             "seconds": r.get("seconds", 0), "notes": _short("; ".join(r.get("notes", [])))}
            for r in results]


# --- the class at a glance ------------------------------------------------------------
#: A submission the grader did not grade (its own error, the batch deadline) scored nothing
#: yet: counted as 0 it would pull down the class figures, so they leave it out.
NOT_GRADED = "not-graded"


def graded(results: list[dict]) -> list[dict]:
    """The results that were graded (the class figures count these only)."""
    return [r for r in results if r["execution"]["status"] != NOT_GRADED]


def pass_rates(results: list[dict]) -> list[dict]:
    """Per lesson and check: how many learners passed it, of how many graded."""
    passed, seen = Counter(), Counter()
    for r in graded(results):
        for c in r["checks"]:
            seen[(r["lesson"], c["check"])] += 1
            passed[(r["lesson"], c["check"])] += c["status"] == "passed"
    return [{"lesson": lesson, "check": check, "passed": passed[(lesson, check)],
             "of": seen[(lesson, check)],
             "rate": round(100 * passed[(lesson, check)] / seen[(lesson, check)])}
            for lesson, check in sorted(seen)]


def histogram(results: list[dict], bins: int = 10) -> list[tuple[str, int]]:
    """Learners per score band, as percent of the maximum: [("0-10%", n), ...]."""
    counts = [0] * bins
    for r in graded(results):
        top = sum(c["max_points"] for c in r["checks"]) or 1
        share = sum(c["points"] for c in r["checks"]) / top
        counts[min(bins - 1, int(share * bins))] += 1
    width = 100 // bins
    return [(f"{i * width}-{(i + 1) * width}%", n) for i, n in enumerate(counts)]


CLASS_COLUMNS = ("figure", "lesson", "item", "count", "of", "percent")


def class_rows(results: list[dict]) -> list[dict]:
    """class.csv: pass rate per check, then learners per score band (graded results only).

    Kept out of summary.csv, which holds learners' rows only (a gradebook imports it)."""
    rows = [{"figure": "pass-rate", "lesson": p["lesson"], "item": p["check"],
             "count": p["passed"], "of": p["of"], "percent": p["rate"]}
            for p in pass_rates(results)]
    total = len(graded(results))
    rows += [{"figure": "histogram", "lesson": "", "item": band, "count": n, "of": total,
              "percent": round(100 * n / total) if total else 0}
             for band, n in histogram(results)]
    return rows


def histogram_png(results: list[dict], path: Path) -> None:
    """The score histogram as a PNG (matplotlib, no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bands = histogram(results)
    figure, axes = plt.subplots(figsize=(6, 2.6), dpi=100)
    axes.bar([b for b, _ in bands], [n for _, n in bands], color="#4a7ebb")
    axes.set_xlabel("score (% of the maximum)")
    axes.set_ylabel("learners")
    axes.tick_params(axis="x", labelsize=7)
    figure.tight_layout()
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp.png")
    figure.savefig(temporary, format="png")
    plt.close(figure)
    temporary.replace(path)


def _number(value) -> float | int:
    return int(value) if float(value).is_integer() else value


def _csv(rows: list[dict], columns) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: csv_cell(v) for k, v in row.items()} for row in rows)
    return buffer.getvalue()


def feedback(result: dict) -> str:
    """The learner's feedback file (Markdown; every learner-made text escaped)."""
    got = sum(c["points"] for c in result["checks"])
    total = sum(c["max_points"] for c in result["checks"])
    lines = [f"# Lesson {markdown(result['lesson'])}: feedback for {markdown(_name(result))}", "",
             f"Score: {_number(got)} / {_number(total)}", ""]
    execution = result["execution"]
    if execution["status"] == NOT_GRADED:
        lines += [f"Not graded yet: {markdown(execution['reason'])}. This is not your "
                  "notebook's fault and costs you no points; it is graded again.", ""]
    elif execution["status"] != "ok":
        lines += [f"Your notebook did not run to the end: {markdown(execution['reason'])}", ""]
    lines += [f"- Note: {markdown(note)}" for note in result.get("notes", [])]
    for row in result["checks"]:
        mark = "passed" if row["status"] == "passed" else "NOT passed"
        kind = " (graded check, not in your notebook)" if row.get("hidden") else ""
        lines.append(f"- {markdown(row['check'])}{kind}: {mark}, {_number(row['points'])}/"
                     f"{_number(row['max_points'])}. {markdown(row['message'])}")
        if row.get("hint"):
            lines.append(f"  Hint: {markdown(row['hint'])}")
    return "\n".join(lines) + "\n"


_SORTER = """<script>
document.querySelectorAll('table.sortable th').forEach(function (th, column) {
  th.style.cursor = 'pointer';
  th.addEventListener('click', function () {
    var table = th.closest('table'), rows = Array.from(table.tBodies[0].rows);
    var up = th.dataset.up !== '1'; th.dataset.up = up ? '1' : '0';
    rows.sort(function (a, b) {
      var x = a.cells[column].dataset.v || a.cells[column].textContent;
      var y = b.cells[column].dataset.v || b.cells[column].textContent;
      var n = parseFloat(x) - parseFloat(y);
      var c = isNaN(n) ? x.localeCompare(y) : n;
      return up ? c : -c;
    });
    rows.forEach(function (r) { table.tBodies[0].appendChild(r); });
  });
});
</script>"""


def html_report(results: list[dict], histogram_file: str | None = None) -> str:
    """One page: class figures first (pass rates, histogram), a sortable table of learners,
    then each learner's checks and failing output folded in a <details>."""
    e = html.escape
    rates = "".join(f"<tr><td>{e(p['lesson'])}</td><td>{e(p['check'])}</td>"
                    f"<td data-v='{p['rate']}'>{p['passed']} / {p['of']} ({p['rate']}%)</td></tr>"
                    for p in pass_rates(results))
    bands = "".join(f"<tr><td>{e(band)}</td><td>{n}</td></tr>" for band, n in histogram(results))
    picture = (f"<img src='{e(histogram_file)}' alt='score histogram'>" if histogram_file
               else "")
    summary = "".join(
        f"<tr class='{'ok' if s['points'] == s['max_points'] else 'low'}'>"
        f"<td><a href='#r{i}'>{e(s['learner'])}</a></td><td>{e(s['lesson'])}</td>"
        f"<td data-v='{s['points']}'>{s['points']} / {s['max_points']}</td>"
        f"<td>{e(s['execution'])}</td><td>{e(s['reason'])}</td></tr>"
        for i, s in enumerate(summary_rows(results)))
    details = []
    for i, r in enumerate(results):
        rows = "".join(f"<tr><td>{e(c['check'])}{' (hidden)' if c.get('hidden') else ''}</td>"
                       f"<td>{_number(c['points'])} / {_number(c['max_points'])}</td>"
                       f"<td>{e(c['status'])}</td><td>{e(_short(c['message']))}</td></tr>"
                       for c in r["checks"])
        notes = "".join(f"<li>{e(_short(n))}</li>" for n in r.get("notes", []))
        output = f"<pre>{e(clean(r['output']))}</pre>" if r.get("output") else ""
        got = _number(sum(c["points"] for c in r["checks"]))
        top = _number(sum(c["max_points"] for c in r["checks"]))
        details.append(f"<details id='r{i}'><summary>{e(_name(r))}, lesson {e(r['lesson'])}: "
                       f"{got} / {top}, {e(r['execution']['status'])}</summary><ul>{notes}</ul>"
                       f"<table><tr><th>check</th><th>points</th><th>status</th>"
                       f"<th>message</th></tr>{rows}</table>{output}</details>")
    sandboxes = sorted({tuple(r.get("limits") or ()) for r in results} - {()})
    limits = "".join("<ul>" + "".join(f"<li>{e(str(item))}</li>" for item in group) + "</ul>"
                     for group in sandboxes) or "<p>not recorded</p>"
    style = ("body{font-family:sans-serif;margin:2em}td,th{border:1px solid #ccc;padding:4px}"
             "table{border-collapse:collapse;margin-bottom:1em}.low{background:#fee}"
             "pre{background:#f6f6f6;max-height:20em;overflow:auto;white-space:pre-wrap}"
             "details{margin:.3em 0}.figures{display:flex;gap:2em;flex-wrap:wrap}")
    return (f"<!doctype html><meta charset='utf-8'><title>labkit grades</title>"
            f"<style>{style}</style><h1>Grades: {len(results)} submission(s)</h1>"
            f"<div class='figures'><div><h2>Pass rate per check</h2><table class='sortable'>"
            f"<thead><tr><th>lesson</th><th>check</th><th>passed</th></tr></thead>"
            f"<tbody>{rates}</tbody></table></div><div><h2>Scores</h2>{picture}"
            f"<table><tr><th>score</th><th>learners</th></tr>{bands}</table></div></div>"
            f"<h2>Learners (click a column to sort)</h2><table class='sortable'><thead><tr>"
            f"<th>learner</th><th>lesson</th><th>points</th><th>notebook</th><th>reason</th>"
            f"</tr></thead><tbody>{summary}</tbody></table>"
            f"<h2>Sandbox limits in force</h2>{limits}<h2>Details</h2>"
            + "".join(details) + _SORTER)


def write_reports(out: Path, verify=None) -> dict[str, Path]:
    """Rebuild every report file of ``out`` from its results; return their paths."""
    out = Path(out)
    results = load_results(out, verify)
    paths = {"grades": out / "grades.csv", "summary": out / "summary.csv",
             "class": out / "class.csv", "html": out / "report.html",
             "histogram": out / "histogram.png"}
    write_atomic(paths["grades"], _csv(grade_rows(results), GRADE_COLUMNS))
    write_atomic(paths["summary"], _csv(summary_rows(results), SUMMARY_COLUMNS))
    write_atomic(paths["class"], _csv(class_rows(results), CLASS_COLUMNS))
    histogram_png(results, paths["histogram"])
    write_atomic(paths["html"], html_report(results, paths["histogram"].name))
    for result in results:
        write_atomic(out / "feedback" / feedback_name(result), feedback(result))
    return paths


def feedback_name(result: dict) -> str:
    """The feedback file's name: the result's safe key (never the raw learner name)."""
    key = str(result.get("key") or f"{result['learner']}-{result['lesson']}")
    return re.sub(r"[^A-Za-z0-9_.-]", "_", key).lstrip(".")[:150] + ".md"
