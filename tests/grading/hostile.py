"""A folder of correct, broken and hostile submissions, built from the real lesson 01.

Used by tests/grading/test_regrade.py and benchmarks/bench_regrade.py. Each
learner's expected total is stated next to the notebook that earns it.
"""
from __future__ import annotations

import copy
from pathlib import Path

import nbformat

from labkit import config
from labkit.grading import notebook as nbtools

LESSON = "01"
SOURCE = config.repo_root() / "notebooks" / "01_iam_users_and_groups.ipynb"
FULL = 9  # 01.users 2 + 01.groups 2 + 01.admin-policy 1 + 01.access-keys 3 + 01.key-hygiene 1 (hidden)
USERS_ONLY = 2 + 1  # users exist; no keys, so key hygiene holds too

MONKEYPATCH = '''
import labkit.checks as _checks
from labkit.checks import CheckResult
_checks.run = lambda lab, check_id: CheckResult(check_id, True, "ok", points=99, max_points=1)
_checks.require = lambda lab, check_id: print("✔", check_id)
_checks.REGISTRY.clear()
lab.check = lambda check_id: print("✔", check_id)
'''


def learner(shown: str) -> str:
    """The learner id of a report row's learner column, which shows the entry as handed in
    ("ada.ipynb", "Bob_Smith/")."""
    return shown.removesuffix("/").removesuffix(".ipynb")


def leftovers() -> list[str]:
    """Command lines of this process's descendants, but multiprocessing's resource tracker
    (one per parent, started by the first spawned worker, ends with the parent)."""
    import psutil

    found = []
    for child in psutil.Process().children(recursive=True):
        try:
            line = " ".join(child.cmdline())
        except psutil.Error:
            continue
        if "multiprocessing.resource_tracker" not in line:
            found.append(line)
    return found


def source() -> nbformat.NotebookNode:
    return nbtools.read_submission(SOURCE)


def _index(nb, grade_id: str) -> int:
    return next(i for i, c in enumerate(nb.cells)
                if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id)


def _insert_after(nb, grade_id: str, code: str) -> nbformat.NotebookNode:
    nb = copy.deepcopy(nb)
    nb.cells.insert(_index(nb, grade_id) + 1, nbformat.v4.new_code_cell(code))
    return nb


def _without(nb, *grade_ids: str) -> nbformat.NotebookNode:
    nb = copy.deepcopy(nb)
    nb.cells = [c for c in nb.cells
                if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") not in grade_ids]
    return nb


def _reordered(nb) -> nbformat.NotebookNode:
    """Groups exercise and check moved to the end, after the cells that need the groups."""
    nb = copy.deepcopy(nb)
    moved = [nb.cells[_index(nb, "01-groups")], nb.cells[_index(nb, "01.groups")]]
    nb.cells = [c for c in nb.cells if c not in moved] + moved
    return nb


def _monkeypatched(nb) -> nbformat.NotebookNode:
    """Patches labkit's checks in its kernel and does no exercise: must score 0."""
    nb = _insert_after(nb, "01-users", MONKEYPATCH)  # right after `lab` exists
    for cell in nb.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("solution"):
            cell.source = "pass  # no work done"
    return nb


def build(folder: Path) -> dict[str, float]:
    """Write the submissions into ``folder``; return learner -> expected points."""
    folder.mkdir(parents=True, exist_ok=True)
    nb = source()
    student = nbtools.student_version(nb)
    plans = {
        "ada": (nb, FULL),
        "raises": (_insert_after(nb, "01.users", "raise RuntimeError('boom')"), USERS_ONLY),
        "loops": (_insert_after(nb, "01.users", "while True:\n    pass"), USERS_ONLY),
        "exits": (_insert_after(nb, "01.users", "import os\nos._exit(1)"), USERS_ONLY),
        "chatty": (_insert_after(nb, "01.users", "print('x' * 10_000_000)"), FULL),
        "network": (_insert_after(nb, "01.users", "import socket\n"
                                  "socket.create_connection(('example.com', 80), timeout=5)"),
                    USERS_ONLY),
        "network-ip": (_insert_after(nb, "01.users", "import socket\n"
                                     "socket.create_connection(('93.184.215.14', 80), timeout=5)"),
                       USERS_ONLY),
        # Deleting a locked check cell changes nothing: the grader runs every check.
        "deleted": (_without(nb, "01.groups"), FULL),
        # The admins group is used before the moved cell creates it: the run stops there.
        "reordered": (_reordered(nb), USERS_ONLY),
        "cheater": (_monkeypatched(nb), 0),
        "unfilled": (student, 0),
        "two-keys": (_insert_after(nb, "01.access-keys",
                                   "iam.create_access_key(UserName=lab.names.engineer_user)"),
                     FULL - 1),
    }
    expected = {}
    for learner, (notebook, points) in plans.items():
        (folder / f"{learner}.ipynb").write_text(nbtools.dumps(notebook), encoding="utf-8")
        expected[learner] = points
    (folder / "garbled.ipynb").write_text("{ this is not JSON", encoding="utf-8")
    expected["garbled"] = 0
    # A learner who hands in a folder: NAME comes from the folder's name.
    (folder / "Bob_Smith").mkdir(exist_ok=True)
    (folder / "Bob_Smith" / SOURCE.name).write_text(nbtools.dumps(nb), encoding="utf-8")
    expected["Bob_Smith"] = FULL
    return expected


def build_correct(folder: Path, count: int) -> list[str]:
    """``count`` correct submissions (for the benchmark); return the learner ids."""
    folder.mkdir(parents=True, exist_ok=True)
    text = nbtools.dumps(source())
    learners = [f"learner-{i:02d}" for i in range(count)]
    for learner in learners:
        (folder / f"{learner}.ipynb").write_text(text, encoding="utf-8")
    return learners


# --- attacks on the grader itself (issue 11) --------------------------------------------
#: In the command line of every process an attack leaves running, so a test can look for it.
MARKER = "labkit-attack-7f3a"
PROBE_START, PROBE_END = "PROBE-JSON<<", ">>PROBE-JSON"

SPY = '''
import glob, json, os, signal, socket, urllib.request
found = {}
def listing(path):
    try:
        return sorted(os.listdir(path))[:8]
    except OSError as exc:
        return type(exc).__name__
def readable(path):
    try:
        with open(path, "rb") as handle:
            return len(handle.read(100))
    except OSError as exc:
        return type(exc).__name__
def writable(path):
    try:
        with open(path, "a") as handle:
            handle.write("\\n# forged by a learner\\n")
        return "WROTE"
    except OSError as exc:
        return type(exc).__name__
for label, path in PATHS.items():
    found["list:" + label] = listing(path)
found["read:hidden"] = readable(PATHS["repo"] + "/instructor/hidden_checks/lesson01.py")
found["read:key"] = readable(PATHS["grader_home"] + "/grader/results.key")
found["read:git"] = readable(PATHS["repo"] + "/.git")
found["write:checks"] = writable(PATHS["repo"] + "/labkit/checks/lesson01.py")
found["write:hidden"] = writable(PATHS["repo"] + "/instructor/hidden_checks/lesson01.py")
found["write:grades"] = writable(PATHS["out"] + "/grades.csv")
found["connection_files"] = sorted(glob.glob("/tmp/**/kernel.json", recursive=True))
found["attach_files"] = sorted(glob.glob("/tmp/**/attach.json", recursive=True))
found["home"] = os.environ.get("HOME")
found["env"] = sorted(os.environ)
found["pids"] = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
found["uid_map"] = open("/proc/self/uid_map").read().split()
found["caps"] = [l.split()[1] for l in open("/proc/self/status") if l.startswith(("CapEff", "CapPrm", "CapBnd", "CapAmb"))]
port = lab.emulator.port
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
for path in ("/moto-api/reset", "/moto-api/data.json", "/labkit-api/cloudwatch/evaluate-alarms"):
    try:
        response = opener.open(urllib.request.Request(f"http://127.0.0.1:{port}{path}",
                                                      data=b"{}", method="POST"), timeout=10)
        found["api:" + path] = response.status
    except urllib.error.HTTPError as exc:
        found["api:" + path] = exc.code
    except OSError as exc:
        found["api:" + path] = type(exc).__name__
try:
    socket.create_connection(("127.0.0.1", PATHS["grader_port"]), timeout=3).close()
    found["tcp:grader_emulator"] = "CONNECTED"
except OSError as exc:
    found["tcp:grader_emulator"] = type(exc).__name__
for name, number in (("ppid", os.getppid()),):
    try:
        os.kill(number, signal.SIGSTOP)
        found["stop:" + name] = "sent"
    except OSError as exc:
        found["stop:" + name] = type(exc).__name__
print("''' + PROBE_START + '''" + json.dumps(found) + "''' + PROBE_END + '''")
raise RuntimeError("probe done")
'''

FORGER = '''
import os, subprocess, sys
code = """
import os, sys, time
out = sys.argv[1]
for _ in range(40):
    time.sleep(0.5)
    for root, _dirs, files in os.walk(out):
        for name in files:
            try:
                with open(os.path.join(root, name), "a") as handle:
                    handle.write("forged")
            except OSError:
                pass
"""
subprocess.Popen([sys.executable, "-c", code, PATHS["out"], "''' + MARKER + '''"],
                 start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
if os.fork() == 0:  # a double fork too
    os.setsid()
    if os.fork() == 0:
        os.execv("/bin/sh", ["/bin/sh", "-c", "sleep 40", "''' + MARKER + '''"])
    os._exit(0)
'''

KILLER = '''
import os, signal
os.kill(os.getppid(), signal.SIGKILL)  # unsandboxed, the parent is the grader worker
'''

STOPPER = '''
import os, signal
os.kill(os.getppid(), signal.SIGSTOP)
'''

HOG = '''
hog = bytearray(3 * 1024 ** 3)
'''

FORK_BOMB = '''
import subprocess
children = []
try:
    for _ in range(2000):
        children.append(subprocess.Popen(["/bin/sh", "-c", "sleep 60", "''' + MARKER + '''"]))
except OSError as exc:
    print("refused:", type(exc).__name__)
raise RuntimeError(f"started {len(children)}")
'''

BIG_FILE = '''
with open("big.bin", "wb") as handle:
    for _ in range(400):
        handle.write(b"x" * 1024 * 1024)
'''

CREDENTIAL_PROCESS = '''
import re
line = "credential_process = /bin/sh -c 'touch " + PATHS["marker_file"] + "'"
text = lab.files.config.read_text()
lab.files.config.write_text(re.sub(r"^(\\[[^\\]]+\\])$", lambda m: m.group(1) + "\\n" + line,
                                   text, flags=re.M))
assert text.count("[") and line in lab.files.config.read_text()
import os
os.symlink("/etc/passwd", str(lab.files.folder / "credentials.link"))
'''

EXCEPTION_ECHO = '''
raise ValueError("\\x1b]8;;http://evil.example\\x07click\\x1b]8;;\\x07 \\x1b[31mred " + "y" * 5000
                 + "\\nsecond line")
'''


def _paths_cell(paths: dict) -> str:
    return f"PATHS = {paths!r}"


def _attack(nb, paths: dict, code: str, after: str = "01.users") -> nbformat.NotebookNode:
    return _insert_after(nb, after, _paths_cell(paths) + "\n" + code)


def build_attacks(folder: Path, paths: dict) -> dict[str, float | None]:
    """Submissions that attack the grader; learner -> expected points (None: not fixed)."""
    folder.mkdir(parents=True, exist_ok=True)
    nb = source()
    plans = {
        "spy": (_attack(nb, paths, SPY), USERS_ONLY),
        "forger": (_attack(nb, paths, FORGER), FULL),
        "killer": (_attack(nb, paths, KILLER), FULL),  # in its sandbox: kills nobody
        "stopper": (_attack(nb, paths, STOPPER), FULL),
        "hog": (_attack(nb, paths, HOG), USERS_ONLY),
        "forkbomb": (_attack(nb, paths, FORK_BOMB), USERS_ONLY),
        "bigfile": (_attack(nb, paths, BIG_FILE), USERS_ONLY),
        "credproc": (_attack(nb, paths, CREDENTIAL_PROCESS, after="01.access-keys"), FULL),
        "echo": (_attack(nb, paths, EXCEPTION_ECHO), USERS_ONLY),
        "victim": (nb, FULL),
    }
    expected = {}
    for learner, (notebook, points) in plans.items():
        (folder / f"{learner}.ipynb").write_text(nbtools.dumps(notebook), encoding="utf-8")
        expected[learner] = points
    version3 = nbformat.convert(copy.deepcopy(nb), 3)
    (folder / "old-format.ipynb").write_text(nbformat.writes(version3, version=3),
                                             encoding="utf-8")
    expected["old-format"] = FULL
    (folder / ".dotted.ipynb").write_text(nbtools.dumps(nb), encoding="utf-8")
    expected[".dotted"] = FULL
    return expected


def probe(result: dict) -> dict:
    """The JSON the SPY cell printed, from a stored result's output."""
    import json

    text = result["output"]
    return json.loads(text[text.index(PROBE_START) + len(PROBE_START):text.index(PROBE_END)])
