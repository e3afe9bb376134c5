"""In a real browser: JupyterLab in headless Chromium, the simulator of notebook 2, a wrong answer fixed and asked again.

Debian's `chromium` driven by Playwright (its own browser download is not used); skips without either.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from tests.workbench.test_workbench_fixes import MISSED
from tests.workbench.test_workbench_lab import free_port, wait_for_lab

sync_api = pytest.importorskip("playwright.sync_api", reason="needs playwright (pip install playwright; the browser is Debian's chromium)")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
TOKEN = "browser-test"


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium); CI installs it")
def test_a_wrong_answer_is_fixed_in_the_simulator_and_the_same_message_is_then_answered_right(fitness, tmp_path):
    port = free_port()
    # Lay out every cell (JupyterLab 4 otherwise leaves cells far outside the window out of the page) and ask for no news.
    settings = tmp_path / "lab-settings" / "@jupyterlab"
    (settings / "notebook-extension").mkdir(parents=True)
    (settings / "notebook-extension" / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}', encoding="utf-8")
    (settings / "apputils-extension").mkdir()
    (settings / "apputils-extension" / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}', encoding="utf-8")
    env = {
        **os.environ,
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "JUPYTER_PLATFORM_DIRS": "1",
        "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "lab-settings"),
    }
    args = ["lab", str(fitness.root), "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={TOKEN}"]
    if os.geteuid() == 0:  # containers and CI run as root, which JupyterLab refuses without this
        args.append("--allow-root")
    server = subprocess.Popen([sys.executable, "-m", "botkit", *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_lab(port, TOKEN, server)
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.set_default_timeout(180_000)
                page.goto(f"http://127.0.0.1:{port}/lab/tree/02-try-the-bot.ipynb?token={TOKEN}")
                page.locator(".jp-Notebook").first.wait_for()
                page.get_by_text("Python 3 (ipykernel) | Idle").wait_for()  # the kernel is up
                page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
                page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
                simulator = page.locator(".jupyter-widgets .bk-chat").first
                box = page.get_by_placeholder("Type what a customer would write, then Enter …")
                # wait until every code cell ran, so the chat is ours alone again
                page.wait_for_function("() => [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')].every(p => /\\[\\d+\\]/.test(p.textContent))")
                box.scroll_into_view_if_needed()

                def ask() -> str:
                    before = simulator.locator(".bk-meta").count()
                    box.fill(MISSED)
                    box.press("Enter")
                    page.wait_for_function("n => document.querySelector('.jupyter-widgets .bk-chat').querySelectorAll('.bk-meta').length > n", arg=before)
                    return simulator.locator(".bk-meta").last.inner_text()

                def answered_from_pt01(meta: str) -> bool:  # "<decision> (<reason>) · confidence c · <cited entries>"
                    return meta.startswith("answered") and "pt-01" in meta

                assert not answered_from_pt01(ask())  # the miss this test fixes (perhaps offered among suggestions)
                page.locator(".widget-dropdown", has_text="Right entry").locator("select").select_option(label="pt-01: Kann ich ein Probetraining machen?")
                page.get_by_role("button", name="Wrong answer → this entry").click()
                simulator.locator(".bk-note", has_text="knowledge updated").wait_for()
                assert answered_from_pt01(ask())
            except sync_api.Error:
                page.screenshot(path=str(tmp_path / "failed.png"), full_page=True)  # kept in pytest's tmp_path for a look
                raise
            finally:
                browser.close()
    finally:
        server.terminate()
        server.communicate(timeout=30)
