"""JupyterLab as a learner meets it: `make lab`'s server, a real (headless) Chromium,
lesson 00's student version filled wrongly (a ✘ and a hint, no traceback) then rightly,
lesson 00 run from the Run menu, and a terminal opened through JupyterLab's own API.

Chromium and its driver are Debian's (`apt-get install chromium chromium-driver`,
which .ci/run does); selenium drives them and never downloads a browser.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.jupyterlab.conftest import contextlib_env, make_lab_command

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
LESSON = "00_setup_and_credentials.ipynb"
RUN_TIMEOUT = 240  # seconds for lesson 00 to run in the browser (it takes about 20)


@pytest.fixture
def browser(tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    for path in (CHROMIUM, CHROMEDRIVER):
        assert Path(path).exists(), f"{path} is missing: apt-get install chromium chromium-driver"
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-dev-shm-usage", "--window-size=1400,1000",
                 f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(flag)
    service = Service(executable_path=CHROMEDRIVER, log_output=str(tmp_path / "chromedriver.log"))
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()  # ends chromium and chromedriver


def _wait(driver, condition, timeout: float, what: str):
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.5).until(condition)
    except TimeoutException:
        body = driver.find_element("tag name", "body").text[-3000:]
        pytest.fail(f"timed out after {timeout} s waiting for {what}; the page shows:\n{body}")


def _click_menu(driver, menu: str, entry: str) -> None:
    from selenium.webdriver.common.by import By

    for item in driver.find_elements(By.CSS_SELECTOR, ".lm-MenuBar-item"):
        if item.text.strip() == menu:
            item.click()
            break
    else:
        pytest.fail(f"JupyterLab shows no {menu!r} menu")
    def find(d):
        labels = d.find_elements(By.CSS_SELECTOR, ".lm-Menu .lm-Menu-itemLabel")
        return next((label for label in labels if label.text.strip() == entry), None)
    _wait(driver, find, 10, f"the {menu} > {entry} menu entry").click()


def _prompts(driver) -> list[str]:
    from selenium.webdriver.common.by import By

    cells = driver.find_elements(By.CSS_SELECTOR, ".jp-Notebook .jp-CodeCell .jp-InputPrompt")
    return [cell.text.strip() for cell in cells]


def test_lesson_00_runs_in_chromium_and_shows_the_ticks(jupyterlab, browser):
    from selenium.webdriver.common.by import By

    code_cells = sum(c["cell_type"] == "code" for c in
                     json.loads((jupyterlab.root / LESSON).read_text())["cells"])
    browser.get(f"{jupyterlab.url}/lab/tree/{LESSON}?token={jupyterlab.token}")
    _wait(browser, lambda d: len(_prompts(d)) == code_cells, 90, "the notebook to render")
    _wait(browser, lambda d: d.find_elements(
        By.CSS_SELECTOR, '.jp-Notebook-ExecutionIndicator[data-status="idle"]'), 90,
        "the kernel to be idle")
    _click_menu(browser, "Run", "Run All Cells")

    def finished(driver):
        prompts = _prompts(driver)
        return all(p.startswith("[") and p[1:-2].isdigit() for p in prompts) and prompts
    _wait(browser, finished, RUN_TIMEOUT, "every cell to run")
    page = browser.find_element(By.CSS_SELECTOR, ".jp-Notebook").text
    for check in ("00.identity", "00.lab-files", "00.scratch-profile"):
        assert f"✔ {check}" in page, f"no tick for {check} in the rendered page"
    assert "✘" not in page and "Traceback" not in page
    errors = browser.find_elements(By.CSS_SELECTOR, '[data-mime-type="application/vnd.jupyter.error"]')
    assert not errors, errors[0].text


def test_a_jupyterlab_terminal_reaches_the_learners_lab(jupyterlab):
    """A terminal opened through JupyterLab's terminal API (POST /api/terminals, then its
    websocket, as the Terminal launcher does) is on the lab the notebooks use."""
    import websocket

    # A notebook kernel of the learner made something in the lab...
    with contextlib_env(LABKIT_HOME=str(jupyterlab.home), LABKIT_SHARED_LAB="1"):
        code = ("import labkit; lab = labkit.start('demo', lesson='00', verbose=False); "
                "lab.client('iam').create_user(UserName='made-in-a-notebook')")
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              timeout=180, env={**os.environ, "AWS_PROFILE": "real-one"})
        assert done.returncode == 0, done.stderr
    # ...and the terminal sees it, as the lab's root: not the learner's own credentials.
    before = _clients(jupyterlab)  # kernels JupyterLab still runs (the browser test's)
    name = json.loads(jupyterlab.request("/api/terminals", "POST", b""))["name"]
    ws = websocket.create_connection(
        f"{jupyterlab.url.replace('http', 'ws')}/terminals/websocket/{name}",
        header=[f"Authorization: token {jupyterlab.token}"], timeout=60)
    try:
        ws.send(json.dumps(["stdin", "aws iam get-user --user-name made-in-a-notebook "
                            "--query User.Arn --output text; echo END-$((6*7))\r"]))
        output, deadline = "", time.monotonic() + 90
        while "END-42" not in output and time.monotonic() < deadline:
            message = json.loads(ws.recv())
            if message[0] == "stdout":
                output += message[1]
        while_open = _clients(jupyterlab)
    finally:
        ws.close()
        jupyterlab.request(f"/api/terminals/{name}", "DELETE")
    assert "labkit: this terminal is on the lab of demo" in output
    assert "arn:aws:iam::123456789012:user/made-in-a-notebook" in output, output[-2000:]
    # An open terminal keeps the lab from stopping as idle; a closed one no longer does.
    assert len(while_open - before) == 1, (before, while_open)
    deadline = time.monotonic() + 30
    while _clients(jupyterlab) != before and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _clients(jupyterlab) == before


def _clients(server) -> set[int]:
    with contextlib_env(LABKIT_HOME=str(server.home)):
        from labkit.emulator import shared_lab

        return set(shared_lab.live_clients("demo"))


def test_jupyterlab_is_offline_by_its_settings(jupyterlab):
    """News, update checks and the PyPI extension manager are off, by the course's settings."""
    assert json.loads(jupyterlab.request("/lab/api/news")) == {"news": []}
    assert json.loads(jupyterlab.request("/lab/api/update")) == {"notification": None}
    page = jupyterlab.request("/lab").decode()
    config = json.loads(page.split('id="jupyter-config-data" type="application/json">')[1]
                        .split("</script>")[0])
    assert config["news"] == {"disabled": True}
    assert "@jupyterlab/extensionmanager-extension:plugin" in config["disabledExtensions"]
    assert "@jupyterlab/apputils-extension:announcements" in config["disabledExtensions"]
    notification = json.loads(jupyterlab.request(
        "/lab/api/settings/@jupyterlab/apputils-extension:notification"))
    defaults = {k: v["default"] for k, v in notification["schema"]["properties"].items()}
    assert defaults["fetchNews"] == "false" and defaults["checkForUpdates"] is False
    log = (jupyterlab.root.parent / "server.log").read_text()
    assert "Extension Manager is 'readonly'" in log
    assert "Running as root is not recommended" not in log


def test_make_lab_allows_root_only_for_root(tmp_path, monkeypatch):
    """make lab runs `labkit lab`, which starts JupyterLab with the course's settings."""
    from labkit import serve

    command = make_lab_command("/venv")
    assert command == ["/venv/bin/python", "-m", "labkit", "lab"], command
    started = serve.jupyter_command(tmp_path)
    assert ("--allow-root" in started) == (os.getuid() == 0)
    assert "--no-browser" in started and str(tmp_path) in started
    seen = {}
    monkeypatch.setattr(serve.subprocess, "Popen", lambda argv, env: seen.update(env=env) or
                        type("Done", (), {"wait": lambda self: 0, "terminate": lambda self: 0})())
    assert serve.run(folder=str(tmp_path / "work")) == 0
    assert seen["env"]["JUPYTER_CONFIG_DIR"].endswith("/jupyter")


STUDENT = "00_student.ipynb"


def _cell_editor(driver, index: int):
    from selenium.webdriver.common.by import By

    cells = driver.find_elements(By.CSS_SELECTOR, ".jp-Notebook .jp-Cell")
    return cells[index], cells[index].find_element(By.CSS_SELECTOR, ".cm-content")


def _replace_and_run(driver, index: int, source: str) -> None:
    """Type SOURCE into cell INDEX as a learner does, run it, then the check below it."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    _, editor = _cell_editor(driver, index)
    editor.click()
    ActionChains(driver).key_down(Keys.CONTROL).send_keys("a").key_up(Keys.CONTROL).perform()
    editor.send_keys(Keys.DELETE)
    editor.send_keys(source)
    for _ in range(2):  # the exercise cell, then its check
        ActionChains(driver).key_down(Keys.SHIFT).send_keys(Keys.ENTER).key_up(Keys.SHIFT).perform()
        time.sleep(0.5)


def _output_of(driver, index: int) -> str:
    from selenium.webdriver.common.by import By

    cell, _ = _cell_editor(driver, index)
    return "\n".join(o.text for o in cell.find_elements(By.CSS_SELECTOR, ".jp-OutputArea-output"))


def test_a_student_version_tells_not_done_wrong_and_right_without_tracebacks(jupyterlab, browser):
    """Lesson 00's student version, the one `make lab` copies into the learner's folder
    (labkit.workspace.student_versions): Run All stops at the unfilled exercise, which says
    so; a wrong answer gets a ✘ and a hint, no traceback; the right one a ✔, and the lesson
    then runs to the end."""
    from selenium.webdriver.common.by import By

    from labkit import workspace

    source = next(p for p in workspace.student_versions() if p.name == LESSON)
    shutil.copy(source, jupyterlab.root / STUDENT)
    cells = json.loads(source.read_text())["cells"]
    stub = next(i for i, c in enumerate(cells) if "raise NotImplementedError()" in "".join(c["source"]))
    check = stub + 1
    assert "00.scratch-profile" in "".join(cells[check]["source"])
    code_cells = sum(c["cell_type"] == "code" for c in cells)
    # ?reset: a fresh workspace, not the tabs an earlier test left open (Run All would pick one).
    browser.get(f"{jupyterlab.url}/lab/tree/{STUDENT}?reset&token={jupyterlab.token}")
    _wait(browser, lambda d: len(_prompts(d)) == code_cells, 90, "the notebook to render")
    _wait(browser, lambda d: d.find_elements(
        By.CSS_SELECTOR, '.jp-Notebook-ExecutionIndicator[data-status="idle"]'), 90,
        "the kernel to be idle")
    _click_menu(browser, "Run", "Run All Cells")
    _wait(browser, lambda d: "Not done yet" in _output_of(d, stub), RUN_TIMEOUT,
          "the unfilled exercise to say so")
    shown = _output_of(browser, stub)
    assert "exercise 00.scratch-profile" in shown and "Traceback" not in shown, shown

    # A wrong region (the lab is shared: an earlier run may have set the right one already).
    _replace_and_run(browser, stub, "!aws configure set region eu-west-3 --profile scratch")
    _wait(browser, lambda d: "✘ 00.scratch-profile" in _output_of(d, check), 120,
          "the check to fail on a wrong answer")
    shown = _output_of(browser, check)
    assert "Hint:" in shown and "lab.hint(" in shown and "Traceback" not in shown, shown
    assert "labkit/" not in shown, shown

    _replace_and_run(browser, stub, "!aws configure set region us-east-1 --profile scratch")
    _wait(browser, lambda d: "✔ 00.scratch-profile" in _output_of(d, check), 120,
          "the check to pass on the right answer")
    _click_menu(browser, "Run", "Run All Cells")

    def finished(driver):
        prompts = _prompts(driver)
        return prompts and all(p.startswith("[") and p[1:-2].isdigit() for p in prompts)
    _wait(browser, finished, RUN_TIMEOUT, "every cell to run")
    page = browser.find_element(By.CSS_SELECTOR, ".jp-Notebook").text
    for name in ("00.identity", "00.lab-files", "00.scratch-profile"):
        assert f"✔ {name}" in page, f"no tick for {name}"
    assert "✘" not in page and "Traceback" not in page
