"""`botkit lab DIR` opens JupyterLab with a workshop folder as its root."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

from botkit.workbench.folder import Workshop

BOTKIT = [sys.executable, "-m", "botkit"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_lab(port: int, token: str, server: subprocess.Popen) -> list[dict]:
    """Wait until JupyterLab answers; its root listing."""
    url = f"http://127.0.0.1:{port}/api/contents?token={token}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and server.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return json.load(response)["content"]
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.5)
    raise AssertionError(f"JupyterLab did not answer (exit {server.poll()})")


def test_lab_serves_the_workshop_folder_with_every_output_one_click_away(tmp_path):
    Workshop.create(tmp_path / "acme", client="ACME")
    port = free_port()
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"), "JUPYTER_PLATFORM_DIRS": "1"}
    args = ["lab", str(tmp_path / "acme"), "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1", "--IdentityProvider.token=workshop-test"]
    if os.geteuid() == 0:  # containers and CI run as root, which JupyterLab refuses without this
        args.append("--allow-root")
    server = subprocess.Popen([*BOTKIT, *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        names = {item["name"] for item in wait_for_lab(port, "workshop-test", server)}
        assert {"01-import-and-check.ipynb", "06-hand-over.ipynb", "workshop.yaml", "inputs", "knowledge", "reports", "export"} <= names
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/lab?token=workshop-test", timeout=10) as response:
            assert response.status == 200 and b"JupyterLab" in response.read()
    finally:
        server.terminate()
        server.communicate(timeout=30)
