"""Webhook fixtures: a recording send-API stand-in and the bot's webhook app on uvicorn."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from botkit import Settings, open_bot
from botkit.webhook import WebhookSettings, create_app
from botkit.webhook.export import export_bot
from tests.conftest import SAMPLE
from tests.webhook.support import (
    MESSENGER_SECRET,
    PAGE_TOKEN,
    TELEGRAM_SECRET,
    TELEGRAM_TOKEN,
    VERIFY_TOKEN,
    WHATSAPP_SECRET,
    WHATSAPP_TOKEN,
    SendApi,
    ServerThread,
)


@pytest.fixture(scope="session")
def send_api() -> Iterator[SendApi]:
    """The Graph/Telegram API stand-in, shared by the session (cleared for every test)."""
    api = SendApi()
    server = ServerThread(api.app).start()
    api.url = server.url  # type: ignore[attr-defined]
    yield api
    server.stop()


@pytest.fixture
def recorder(send_api: SendApi) -> SendApi:
    send_api.clear()
    return send_api


def webhook_settings(api_url: str, **overrides: Any) -> WebhookSettings:
    """Settings for all three platforms with test secrets, sends aimed at `api_url`, fast retries."""
    values: dict[str, Any] = {
        "messenger_app_secret": MESSENGER_SECRET,
        "whatsapp_app_secret": WHATSAPP_SECRET,
        "verify_token": VERIFY_TOKEN,
        "messenger_page_token": PAGE_TOKEN,
        "whatsapp_token": WHATSAPP_TOKEN,
        "telegram_bot_token": TELEGRAM_TOKEN,
        "telegram_secret_token": TELEGRAM_SECRET,
        "graph_api_base": f"{api_url}/v21.0",
        "telegram_api_base": api_url,
        "retry_initial_wait": 0.01,
        "retry_max_wait": 0.05,
        "retry_later_seconds": 0.5,
        "poll_seconds": 0.2,
        "lease_seconds": 2.0,
    }
    values.update(overrides)
    # _env_file=None: a developer's .env must not leak into tests.
    return WebhookSettings(_env_file=None, **values)


@pytest.fixture
def serve(recorder: SendApi, settings, embedder, clock) -> Iterator[Callable[..., ServerThread]]:
    """Start the webhook app of a fresh bot (private index copy, fresh SQLite) on uvicorn."""
    servers: list[ServerThread] = []
    bots = []

    def start(**overrides: Any) -> ServerThread:
        bot = open_bot(SAMPLE, settings, embedder=embedder, clock=clock)
        bots.append(bot)
        app = create_app(bot, webhook_settings(recorder.url, **overrides))  # type: ignore[attr-defined]
        server = ServerThread(app).start()
        server.bot = bot  # type: ignore[attr-defined]
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
    for bot in bots:
        bot.close()


@pytest.fixture
def server(serve) -> ServerThread:
    return serve()


@pytest.fixture(scope="session")
def exported_once(tmp_path_factory, sample_index_dir, embedder) -> Path:
    """`export_bot` of the sample, made once per session (it builds a wheel); tests use a copy (`exported`)."""
    index = tmp_path_factory.mktemp("export-index") / "index"
    shutil.copytree(sample_index_dir, index)
    return export_bot(SAMPLE, tmp_path_factory.mktemp("export") / "export", Settings(index_dir=index), embedder=embedder)


@pytest.fixture
def exported(tmp_path, exported_once) -> Path:
    """A private copy of the session's export of the sample, free to move, serve and change."""
    return Path(shutil.copytree(exported_once, tmp_path / "export", symlinks=True))
