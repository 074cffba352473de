"""JupyterLab as the course ships it (``make lab`` points JUPYTER_CONFIG_DIR here).

Offline by construction: loopback only, no news or update checks, no PyPI
extension manager; kernels refuse non-loopback connections (LABKIT_NO_NETWORK);
terminals start on the learner's lab (terminal.bashrc), never on a real account
unless the learner opted in for the whole session (LABKIT_TARGET=aws).
"""
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
c = get_config()  # noqa: F821 - provided by traitlets when it loads this file

c.ServerApp.ip = "127.0.0.1"
c.ServerApp.open_browser = False
# Kernels and terminals inherit these: the guard in every kernel, and the labkit the
# server runs (its Python, with `aws` next to it) in every terminal.
os.environ.setdefault("LABKIT_NO_NETWORK", "1")
os.environ.setdefault("LABKIT_PYTHON", sys.executable)
bin_dir = str(Path(sys.executable).parent)
if os.environ.get("PATH", "").split(os.pathsep)[0] != bin_dir:
    os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
c.ServerApp.terminado_settings = {
    "shell_command": ["bash", "--rcfile", str(HERE / "terminal.bashrc"), "-i"]}

# No announcements, news feed or update check (each would fetch from the internet).
c.LabApp.news_url = None
c.LabApp.check_for_updates_class = "jupyterlab.handlers.announcements.NeverCheckForUpdate"
# The extension manager would query PyPI: read-only, and its panel disabled (labconfig/).
c.LabApp.extension_manager = "readonly"
# overrides.json here: notification defaults (never fetch news, never check for updates).
c.LabApp.app_settings_dir = str(HERE / "lab" / "settings")
# The learner's own settings and workspaces stay where JupyterLab keeps them, not in the repo.
c.LabApp.user_settings_dir = (os.environ.get("JUPYTERLAB_SETTINGS_DIR")
                              or str(Path.home() / ".jupyter" / "lab" / "user-settings"))
c.LabApp.workspaces_dir = (os.environ.get("JUPYTERLAB_WORKSPACES_DIR")
                           or str(Path.home() / ".jupyter" / "lab" / "workspaces"))
