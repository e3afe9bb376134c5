"""What a botkit process pays before any work: a part of `botkit.webhook` does not import the web app."""

from __future__ import annotations

import subprocess
import sys

import botkit.webhook
from botkit.webhook.app import create_app


def test_a_campaign_runner_does_not_import_the_web_app_or_the_bot():
    statement = (
        "import sys, botkit.campaigns, botkit.webhook.logs, botkit.webhook.settings; "
        "print(sorted(m for m in ('fastapi', 'botkit.webhook.app', 'botkit.bot') if m in sys.modules))"
    )
    run = subprocess.run([sys.executable, "-c", statement], capture_output=True, text=True, check=True, timeout=120)
    assert run.stdout.strip() == "[]"


def test_create_app_is_still_exported_by_the_package():
    assert botkit.webhook.create_app is create_app
    assert "create_app" in dir(botkit.webhook) and "create_app" in botkit.webhook.__all__
