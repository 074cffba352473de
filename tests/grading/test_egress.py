"""The emulator a graded kernel talks to makes no outbound connection (issue 21).

moto delivers SNS HTTP subscriptions (and EventBridge, Firehose, Lambda calls) itself,
from the grader worker, outside the sandbox: a kernel could make it reach any loopback
service of the grading machine. A loopback server subscribed over HTTP must receive
nothing, the kernel's Publish gets an error saying why, and nothing is left running.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading

import pytest

from labkit import config
from tests.grading import hostile

ATTACK = '''
sns = lab.session().client("sns")
topic = sns.create_topic(Name="exfiltrate")["TopicArn"]
sns.subscribe(TopicArn=topic, Protocol="http", Endpoint="http://127.0.0.1:{port}/hook")
try:
    sns.publish(TopicArn=topic, Message="hello from the kernel")
    print("PUBLISHED")
except Exception as exc:
    print("REFUSED", exc)
raise RuntimeError("probe done")
'''

GUARD = '''
import socket, threading, requests
from labkit.grading import egress
allowed, other = socket.create_server(("127.0.0.1", 0)), socket.create_server(("127.0.0.1", 0))
egress.install(allowed.getsockname()[1])
def attempt(address):
    try:
        socket.create_connection(address, timeout=2).close()
        return "connected"
    except ConnectionRefusedError as exc:
        return "refused" if "makes no outbound connection" in str(exc) else repr(exc)
found = {"own": attempt(allowed.getsockname()), "other": attempt(other.getsockname()),
         "internet": attempt(("93.184.215.14", 80))}
def as_kernel():
    egress.serving_kernel()
    found["kernel->own"] = attempt(allowed.getsockname())
thread = threading.Thread(target=as_kernel); thread.start(); thread.join()
try:
    requests.get("http://127.0.0.1:%d/" % other.getsockname()[1], timeout=2)
    found["requests"] = "sent"
except Exception as exc:
    found["requests"] = type(exc).__name__ + ": " + str(exc)[:60]
print(found)
'''


def _env():
    return {**os.environ, "PYTHONPATH": str(config.repo_root())}


def test_the_guard_allows_the_own_emulator_only_and_never_from_a_kernel_thread():
    run = subprocess.run([sys.executable, "-c", GUARD], capture_output=True, text=True,
                         timeout=60, env=_env(), cwd=config.repo_root())
    assert run.returncode == 0, run.stderr[-1500:]
    found = eval(run.stdout.strip().splitlines()[-1])  # our own dict's repr
    refused_http = found.pop("requests")
    assert found == {"own": "connected", "other": "refused", "internet": "refused",
                     "kernel->own": "refused"}
    assert refused_http.startswith("DeliveryRefused: InternalError: labkit grader: the emulator")


@pytest.mark.slow
def test_an_sns_http_subscription_reaches_nothing():
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(1)
    received, stop = [], threading.Event()

    def listen():
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except OSError:
                continue
            received.append(connection.recv(200))
            connection.close()

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    try:
        code = ATTACK.format(port=server.getsockname()[1])
        probe = subprocess.run([sys.executable, "-m", "tests.grading.output_probe", code],
                               capture_output=True, text=True, timeout=400, env=_env(),
                               cwd=config.repo_root())
    finally:
        stop.set()
        listener.join(5)
        server.close()
    assert probe.returncode == 0, probe.stderr[-2000:]
    output = json.loads(probe.stdout.strip().splitlines()[-1])["output"]
    assert received == [], "the grader's emulator connected to a loopback server"
    assert "REFUSED" in output and "makes no outbound connection" in output, output
    assert hostile.leftovers() == []
