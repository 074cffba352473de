"""Attacks on `labkit regrade` from inside a submission (issue 11), each one shown to fail.

One sandboxed batch of attacking notebooks beside an honest "victim"; then what each
attack reached is read from what it printed and from the grader's own files.
Needs bubblewrap (`apt-get install -y bubblewrap`; .ci/run installs it): without it
these tests fail, they are never skipped.
"""
from __future__ import annotations

import csv
import hashlib
import json
import os
import socket
import time
from pathlib import Path

import pytest

from labkit import config
from labkit.grading import regrade, sandbox
from tests.grading import hostile

TIMEOUT, CELL_TIMEOUT = 150, 40
BOUND = 900
SENTINEL = "LABKIT_TEST_GRADER_SECRET"  # the whole batch, generous for a loaded 2-core machine


def _digest(paths) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


def _guarded_files() -> list[Path]:
    root = config.repo_root()
    return sorted([*(root / "labkit" / "checks").glob("*.py"),
                   *(root / "instructor" / "hidden_checks").glob("*.py")])


def _marked_processes() -> list[str]:
    """Command lines of live processes an attack started (they carry hostile.MARKER)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                line = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if hostile.MARKER in line and "pytest" not in line:
                found.append(line)
    return found


@pytest.fixture(scope="module")
def attacked(tmp_path_factory):
    assert sandbox.find_bwrap(), "these tests need bubblewrap: apt-get install -y bubblewrap"
    folder = tmp_path_factory.mktemp("attacks")
    out = tmp_path_factory.mktemp("attack-grades")
    marker_file = tmp_path_factory.mktemp("marker") / "credential-process-ran"
    listener = socket.create_server(("127.0.0.1", 0))  # a port on the grader's loopback
    paths = {"repo": str(config.repo_root()), "subs": str(folder), "out": str(out),
             "grader_home": str(config.labkit_home()), "tmp": "/tmp", "root_home": "/root",
             "instructor": str(config.repo_root() / "instructor"),
             "notebooks": str(config.repo_root() / "notebooks"),
             "grader_port": listener.getsockname()[1], "marker_file": str(marker_file)}
    paths["hidden"] = paths["instructor"] + "/hidden_checks"
    expected = hostile.build_attacks(folder, paths)
    guarded = _digest(_guarded_files())
    os.environ[SENTINEL] = "grader-only"  # the workers inherit it; no kernel may see it
    started = time.perf_counter()
    counts = regrade.regrade(folder, out, jobs=2, timeout=TIMEOUT, cell_timeout=CELL_TIMEOUT,
                             progress=False)
    seconds = time.perf_counter() - started
    del os.environ[SENTINEL]
    after_batch = _digest(p for p in out.rglob("*") if p.is_file())
    time.sleep(3)  # a detached writer would strike now
    listener.close()
    results = {}
    for path in (out / "results").glob("*.json"):
        result = json.loads(path.read_text())
        results[result["learner"]] = result
    return {"folder": folder, "out": out, "expected": expected, "counts": counts,
            "seconds": seconds, "results": results, "guarded": guarded,
            "after_batch": after_batch, "marker_file": marker_file}


def _points(result) -> float:
    return sum(c["points"] for c in result["checks"])


@pytest.mark.slow
def test_every_attacker_and_the_victim_get_their_expected_points(attacked):
    assert attacked["seconds"] < BOUND
    assert set(attacked["results"]) == set(attacked["expected"])
    got = {k: _points(r) for k, r in attacked["results"].items()}
    assert got == {k: float(v) for k, v in attacked["expected"].items()}, {
        k: attacked["results"][k]["execution"] for k in got}


@pytest.mark.slow
def test_a_kernel_sees_nothing_of_the_grader(attacked):
    found = hostile.probe(attacked["results"]["spy"])
    for label in ("instructor", "hidden", "notebooks", "subs", "out"):
        assert found[f"list:{label}"] in ([], "FileNotFoundError"), (label, found[f"list:{label}"])
    assert found["list:root_home"] in ([".pyenv"], [], "FileNotFoundError")
    assert found["read:hidden"] == "FileNotFoundError"
    assert found["read:key"] == "FileNotFoundError"
    assert found["read:git"] in ("FileNotFoundError", "IsADirectoryError", "PermissionError", 0)
    # Its own connection and attach file only: never the spare kernel's or another worker's.
    own = Path(found["home"]).parent
    assert found["connection_files"] == [str(own / "ipc" / "kernel.json")]
    assert found["attach_files"] == [str(own / "home" / "attach.json")]
    assert SENTINEL not in found["env"], "no grader variable reaches the kernel"
    assert found["home"] != os.environ.get("HOME")
    assert found["pids"][:2] == [1, 2] and len(found["pids"]) <= 4, found["pids"]
    # Its own user namespace, as an unprivileged uid when the grader is root.
    assert found["uid_map"][:1] == [str(sandbox.sandbox_uid() or os.geteuid())]
    assert found["caps"] == ["0" * 16] * 4, "no capability left (effective, bounding, ...)"


@pytest.mark.slow
def test_a_kernel_cannot_write_checks_grades_or_reach_the_grader(attacked):
    found = hostile.probe(attacked["results"]["spy"])
    # Read-only file system (EROFS), or not even the owner (EACCES: an unprivileged uid).
    assert found["write:checks"] in ("OSError", "PermissionError")
    assert found["write:hidden"] in ("FileNotFoundError", "OSError")
    assert found["write:grades"] in ("FileNotFoundError", "OSError")
    assert _digest(_guarded_files()) == attacked["guarded"]
    # moto's reset and dump, and labkit's control endpoint, refuse a kernel.
    assert found["api:/moto-api/reset"] == 403
    assert found["api:/moto-api/data.json"] == 403
    assert found["api:/labkit-api/cloudwatch/evaluate-alarms"] == 403
    assert found["tcp:grader_emulator"] == "ConnectionRefusedError"


@pytest.mark.slow
def test_signals_reach_no_grader_process(attacked):
    found = hostile.probe(attacked["results"]["spy"])
    assert found["stop:ppid"] == "sent"  # to its namespace's init, which ignores it
    for learner in ("killer", "stopper", "victim"):
        assert attacked["results"][learner]["execution"]["status"] == "ok", learner


@pytest.mark.slow
def test_detached_processes_die_with_the_kernel_and_reports_stay_untouched(attacked):
    out = attacked["out"]
    assert _digest(p for p in out.rglob("*") if p.is_file()) == attacked["after_batch"]
    assert "forged" not in (out / "grades.csv").read_text()
    assert _marked_processes() == []
    assert attacked["results"]["forger"]["execution"]["status"] == "ok"


@pytest.mark.slow
def test_memory_processes_and_file_size_are_limited(attacked):
    hog = attacked["results"]["hog"]["execution"]
    assert hog["status"] in ("error", "died") and (hog["status"] == "died"
                                                   or "MemoryError" in hog["reason"]), hog
    bomb = attacked["results"]["forkbomb"]["execution"]["reason"]
    started = int(bomb.split("started", 1)[1].split()[0])
    assert 10 < started < 512, bomb
    big = attacked["results"]["bigfile"]["execution"]
    # The per-file cap (EFBIG), or first the sized home's total (ENOSPC, a root grader).
    assert big["status"] == "error" and ("File too large" in big["reason"]
                                         or "No space left on device" in big["reason"]), big


@pytest.mark.slow
def test_credential_process_in_a_learner_config_never_runs(attacked):
    assert not attacked["marker_file"].exists()
    result = attacked["results"]["credproc"]
    assert result["execution"]["status"] == "ok"
    keys = {c["check"]: c for c in result["checks"]}["01.access-keys"]
    assert keys["status"] == "passed", keys  # its keys still count: read as data only


@pytest.mark.slow
def test_exception_text_reaches_feedback_as_one_clean_line(attacked):
    result = attacked["results"]["echo"]
    reason = result["execution"]["reason"]
    assert "\x1b" not in reason and "\n" not in reason and len(reason) <= 520
    feedback = (attacked["out"] / "feedback" / f"{result['key']}.md").read_text()
    assert "\x1b" not in feedback and "\x07" not in feedback
    assert "click red yyyy" in feedback and "y" * 1000 not in feedback
    assert "second line" not in feedback


@pytest.mark.slow
def test_old_format_and_hidden_notebooks_are_graded(attacked):
    old = attacked["results"]["old-format"]
    assert "converted from nbformat 3 to 4" in old["notes"]
    assert _points(attacked["results"][".dotted"]) == hostile.FULL


@pytest.mark.slow
def test_forged_results_are_regraded_and_shown_unverified(attacked):
    out, folder = attacked["out"], attacked["folder"]
    victim = attacked["results"]["victim"]
    path = out / "results" / f"{victim['key']}.json"
    forged = json.loads(path.read_text())
    for row in forged["checks"]:
        row["points"] = 0
    path.write_text(json.dumps(forged))  # the old signature no longer matches
    stranger = {**forged, "learner": "nobody", "handed_in": "nobody.ipynb", "key": "nobody-x__01",
                "signature": "0" * 64}
    (out / "results" / "nobody-x__01.json").write_text(json.dumps(stranger))
    again = regrade.regrade(folder, out, jobs=1, timeout=TIMEOUT, cell_timeout=CELL_TIMEOUT,
                            progress=False)
    assert again["graded"] == 1, "only the tampered result is regraded"
    summary = {hostile.learner(r["learner"]): r
               for r in csv.DictReader((out / "summary.csv").open())}
    assert float(summary["victim"]["points"]) == hostile.FULL
    assert summary["nobody"]["execution"] == "unverified"
    assert float(summary["nobody"]["points"]) == 0
