"""A learner's lab answers that learner only (issue 27).

Loopback is shared by every user of a machine (a JupyterHub host) and reachable from
any web page the learner opens. The lab's token lives in its 0600 files inside a 0700
folder; every request must carry it: proxied ones as Proxy-Authorization, direct ones
(the control paths, moto's /moto-api/) as X-Labkit-Token; a browser's cross-site
request is refused whatever it carries.
"""
from __future__ import annotations

import base64
import json
import os
import socket
import stat
import subprocess
import sys
import tempfile
import textwrap
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from labkit import files
from labkit.emulator.proxy import TOKEN_HEADER
from labkit.emulator.server import Emulator


@pytest.fixture(scope="module")
def em(tmp_path_factory):
    lab = Emulator(tmp_path_factory.mktemp("isolation")).start()
    lab.client("s3").create_bucket(Bucket="isolation-kept")
    yield lab
    lab.stop()


def _direct(url: str, path: str, method: str = "GET", headers=None):
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(url + path, method=method, headers=headers or {},
                                     data=b"{}" if method == "POST" else None)
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _connect(port: int, authorization: str | None) -> bytes:
    """The proxy's answer to a CONNECT (the first request of every HTTPS call)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        head = "CONNECT s3.amazonaws.com:443 HTTP/1.1\r\nHost: s3.amazonaws.com:443\r\n"
        if authorization:
            head += f"Proxy-Authorization: {authorization}\r\n"
        sock.sendall((head + "\r\n").encode())
        answer = sock.recv(4096)
        if not answer.startswith(b"HTTP/1.1 200"):  # a refusal closes: read its body too
            while chunk := sock.recv(4096):
                answer += chunk
        return answer


def _basic(password: str) -> str:
    return "Basic " + base64.b64encode(f"lab:{password}".encode()).decode()


def test_the_proxy_admits_only_the_labs_token(em):
    assert _connect(em.port, None).startswith(b"HTTP/1.1 407")
    assert _connect(em.port, _basic("guessed-" + em.token[:8])).startswith(b"HTTP/1.1 407")
    assert _connect(em.port, "Bearer " + em.token).startswith(b"HTTP/1.1 407")
    assert _connect(em.port, _basic(em.token)).startswith(b"HTTP/1.1 200")
    answer = _connect(em.port, None).decode()
    assert "Proxy-Authenticate: Basic" in answer and "labkit emulator env" in answer


def test_moto_api_and_control_paths_need_the_token_and_never_leak_state(em):
    for path, method in (("/moto-api/data.json", "GET"), ("/moto-api/reset", "POST"),
                         ("/labkit-api/cloudtrail/events?since=0", "GET")):
        for headers in ({}, {TOKEN_HEADER: "wrong"}, {TOKEN_HEADER: ""}):
            code, body = _direct(em.url, path, method, headers)
            assert code == 401, (path, headers)
            assert em.root.secret_access_key.encode() not in body
    assert "isolation-kept" in [b["Name"] for b in em.client("s3").list_buckets()["Buckets"]]
    code, body = _direct(em.url, "/moto-api/data.json", headers={TOKEN_HEADER: em.token})
    assert code == 200 and b"isolation-kept" in body


def test_a_web_page_cannot_use_the_lab_even_with_the_token(em):
    # A cross-site POST needs no answer to do harm; the browser always sends Origin with it.
    code, body = _direct(em.url, "/moto-api/reset", "POST",
                         {TOKEN_HEADER: em.token, "Origin": "https://attacker.example"})
    assert code == 403 and b"web page" in body
    assert "isolation-kept" in [b["Name"] for b in em.client("s3").list_buckets()["Buckets"]]


def test_a_rebound_host_name_gets_no_control_path(em):
    # DNS rebinding: the page's own name now resolves to 127.0.0.1, so Host is the page's.
    code, body = _direct(em.url, "/moto-api/data.json",
                         headers={TOKEN_HEADER: em.token, "Host": "attacker.example"})
    assert code == 403 and b"isolation-kept" not in body


def test_operator_paths_are_not_served_through_an_aws_host_name(em):
    handler = urllib.request.ProxyHandler({"http": em.proxy_url})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.build_opener(handler).open(
            "http://s3.amazonaws.com/moto-api/data.json", timeout=10)
    assert refused.value.code == 403


def test_clients_work_unchanged_with_the_environment_labkit_sets(em):
    env = {**os.environ, **em.client_environ(), "AWS_ACCESS_KEY_ID": em.root.access_key_id,
           "AWS_SECRET_ACCESS_KEY": em.root.secret_access_key, "AWS_DEFAULT_REGION": "us-east-1"}
    env.pop("AWS_PROFILE", None)
    done = subprocess.run(["aws", "s3api", "list-buckets", "--query", "Buckets[].Name"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "isolation-kept" in done.stdout, done.stderr
    without = {**env, "HTTPS_PROXY": em.url, "https_proxy": em.url}
    done = subprocess.run(["aws", "s3api", "list-buckets"], env=without,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "isolation-kept" not in done.stdout


def test_lab_folders_are_the_owners_alone(tmp_path, monkeypatch):
    loose = tmp_path / "loose"
    loose.mkdir(mode=0o755)
    os.chmod(loose, 0o755)
    assert stat.S_IMODE(files.private_folder(loose).stat().st_mode) == 0o700
    fresh = files.private_folder(tmp_path / "new" / "lab")
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o700
    monkeypatch.setattr(os, "getuid", lambda: os.stat(tmp_path).st_uid + 4242)
    with pytest.raises(files.ForeignFolder, match="belongs to another user.*LABKIT_HOME"):
        files.private_folder(loose)


def test_a_labs_ca_key_and_credentials_stay_in_0700_folders(em):
    tls = em.home / "tls"
    assert stat.S_IMODE(tls.stat().st_mode) == 0o700
    for key in tls.glob("*key*"):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600


# --- a second Unix user on the same machine --------------------------------------------
_OTHER_USER_PROBE = textwrap.dedent(r"""
    import base64, json, socket, sys, urllib.error, urllib.request
    url, home = sys.argv[1], sys.argv[2]
    port = int(url.rsplit(":", 1)[1])
    found = {}
    for name in ("state.json", "attach.json"):
        try:
            open(f"{home}/{name}").read()
            found[name] = "read"
        except OSError as exc:
            found[name] = type(exc).__name__
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    for path, method in (("/moto-api/data.json", "GET"), ("/moto-api/reset", "POST")):
        try:
            with opener.open(urllib.request.Request(url + path, method=method,
                                                    data=b"" if method == "POST" else None),
                             timeout=10) as r:
                found[path] = r.status
        except urllib.error.HTTPError as exc:
            found[path] = exc.code
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"CONNECT iam.amazonaws.com:443 HTTP/1.1\r\nHost: iam.amazonaws.com\r\n\r\n")
        found["CONNECT"] = s.recv(64).split()[1].decode()
    print(json.dumps(found))
""")


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as a second user")
def test_another_user_on_the_machine_cannot_read_reset_or_use_the_lab(monkeypatch):
    from labkit.emulator import shared_lab

    # A folder every user may enter, like a home directory on a lab host: the lab's own
    # 0700 folder is what keeps the other user out, not a private parent.
    parent = Path(tempfile.mkdtemp(prefix="labkit-two-users-"))
    os.chmod(parent, 0o755)
    monkeypatch.setenv("LABKIT_HOME", str(parent / "home"))
    monkeypatch.setenv(shared_lab.SHARED_VARIABLE, "1")
    try:
        state, _ = shared_lab.ensure("learner-one")
        lab = shared_lab.attach(state)
        lab.client("s3").create_bucket(Bucket="learner-one-data")
        nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        done = subprocess.run([*nobody, sys.executable, "-I", "-c", _OTHER_USER_PROBE,
                               state["url"], str(shared_lab.lab_dir("learner-one"))],
                              capture_output=True, text=True, timeout=60, cwd="/")
        assert done.returncode == 0, done.stderr
        found = json.loads(done.stdout)
        assert found == {"state.json": "PermissionError", "attach.json": "PermissionError",
                         "/moto-api/data.json": 401, "/moto-api/reset": 401, "CONNECT": "407"}
        assert "learner-one-data" in [b["Name"] for b in lab.client("s3").list_buckets()["Buckets"]]
    finally:
        shared_lab.stop("learner-one")
