"""Crash safety and deployment: `botkit serve`, `botkit export`, restarts between delivery and reply."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, select

from botkit.db import webhook_inbox, webhook_outbox
from botkit.errors import ConfigError
from botkit.webhook import create_app
from botkit.webhook.export import ENV_VARS, export_bot
from botkit.webhook.outbox import WebhookQueue
from botkit.webhook.parse import parse
from tests.conftest import SAMPLE
from tests.webhook.support import (
    TELEGRAM_TOKEN,
    VERIFY_TOKEN,
    WHATSAPP_SECRET,
    WHATSAPP_TOKEN,
    free_port,
    is_message,
    process_env,
    recipient,
    signed,
    wait_for,
    whatsapp_body,
)

QUESTION = "Wie melde ich meinen Zählerstand?"
REQUIRED = [
    "BOTKIT_MESSENGER_APP_SECRET",
    "BOTKIT_WHATSAPP_APP_SECRET",
    "BOTKIT_VERIFY_TOKEN",
    "BOTKIT_MESSENGER_PAGE_TOKEN",
    "BOTKIT_WHATSAPP_TOKEN",
    "BOTKIT_TELEGRAM_BOT_TOKEN",
    "BOTKIT_TELEGRAM_SECRET_TOKEN",
    "BOTKIT_GRAPH_API_BASE",
    "BOTKIT_TELEGRAM_API_BASE",
]


def server_env(api_url: str, database: Path, **extra: str) -> dict[str, str]:
    return process_env(
        api_url,
        f"sqlite:///{database}",
        BOTKIT_LEASE_SECONDS="1",
        BOTKIT_POLL_SECONDS="0.2",
        BOTKIT_RETRY_INITIAL_WAIT="0.05",
        BOTKIT_RETRY_MAX_WAIT="0.2",
        BOTKIT_RETRY_LATER_SECONDS="0.3",
        **extra,
    )


class Process:
    """A server in its own process (so that it can really crash), logging to a file."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path, log: Path, port: int) -> None:
        self.log = log
        self.url = f"http://127.0.0.1:{port}"
        with open(log, "wb") as out:
            self.proc = subprocess.Popen(args, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)

    def wait_healthy(self, timeout: float = 90) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited: {self.log.read_text()}")
            try:
                return httpx.get(f"{self.url}/healthz", timeout=1).json()
            except httpx.TransportError:
                time.sleep(0.1)
        raise AssertionError(f"server not healthy: {self.log.read_text()}")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        self.proc.send_signal(sig)
        self.proc.wait(timeout=30)


def db_rows(database: Path, table) -> list:
    engine = create_engine(f"sqlite:///{database}")
    try:
        with engine.connect() as conn:
            return list(conn.execute(select(table)).mappings().all())
    finally:
        engine.dispose()


def test_export_writes_a_self_contained_deployable_folder(exported):
    assert {p.name for p in exported.iterdir()} >= {"app.py", "README.md", "botkit-export.json", ".env.example", "requirements.txt", "knowledge", "data"}
    assert (exported / "knowledge" / "botkit.yaml").is_file() and (exported / "data" / "botkit.db").is_file()
    assert any((exported / "data" / "index").iterdir())
    manifest = json.loads((exported / "botkit-export.json").read_text())
    assert manifest["entries"] == 52 and set(manifest["consent_topics"]) == {"angebote-solar", "angebote-emobilitaet", "newsletter"}
    assert manifest["settings"]["BOTKIT_INDEX_DIR"] == "data" and set(manifest["channels"]) == {"messenger", "whatsapp", "telegram"}
    readme = (exported / "README.md").read_text()
    for var in REQUIRED:
        assert f"`{var}`" in readme and f"{var}=" in (exported / ".env.example").read_text()
    assert "uvicorn app:create --factory --host 0.0.0.0 --port 8080" in readme
    assert {v for v, _ in ENV_VARS} >= set(REQUIRED)


def test_export_refuses_a_folder_that_is_not_empty(tmp_path, settings, embedder):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "file").write_text("x")
    with pytest.raises(ConfigError, match="not empty"):
        export_bot(SAMPLE, tmp_path / "taken", settings, embedder=embedder)


def test_a_restart_between_acknowledgement_and_reply_sends_exactly_one_reply(tmp_path, recorder, exported, sample_index_dir):
    """`botkit serve` acknowledges while the send API is down and crashes; the exported app sends the reply."""
    database = tmp_path / "shared.db"
    down = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    port = free_port()
    index = tmp_path / "serve-index"
    shutil.copytree(sample_index_dir, index)
    first = Process(
        [sys.executable, "-m", "botkit", "serve", str(SAMPLE), "--host", "127.0.0.1", "--port", str(port), "--index-dir", str(index)],
        server_env(down, database),
        tmp_path,
        tmp_path / "serve.log",
        port,
    )
    assert first.wait_healthy()["platforms"] == ["messenger", "whatsapp", "telegram"]
    body = whatsapp_body("4915199999999", "wamid.restart1", QUESTION)
    handshake = httpx.get(f"{first.url}/webhook/whatsapp", params={"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "42"})
    assert handshake.text == "42"
    assert httpx.post(f"{first.url}/webhook/whatsapp", content=body, headers=signed(body, WHATSAPP_SECRET)).json()["accepted"] == 1
    # processed, and its sends failed at least once against the dead send API
    wait_for(lambda: any(r["attempts"] > 0 for r in db_rows(database, webhook_outbox)), 30, "a failed send attempt")
    first.kill()
    outbox = db_rows(database, webhook_outbox)
    assert outbox and {r["status"] for r in outbox} == {"pending"} and recorder.requests == []

    port = free_port()
    second = Process(
        [sys.executable, "-m", "uvicorn", "app:create", "--factory", "--host", "127.0.0.1", "--port", str(port)],
        server_env(recorder.url, database),
        exported,
        tmp_path / "export.log",
        port,  # type: ignore[attr-defined]
    )
    try:
        second.wait_healthy()
        wait_for(lambda: {r["status"] for r in db_rows(database, webhook_outbox)} == {"sent"}, 30, "the resumed sends")
        # the platform redelivers the acknowledged message after the restart: still one reply
        again = httpx.post(f"{second.url}/webhook/whatsapp", content=body, headers=signed(body, WHATSAPP_SECRET)).json()
        assert again == {"accepted": 0, "duplicates": 1, "ignored": 0}
        # a duplicate is not queued, so no second reply can follow: the queue shows it without waiting
        assert len(db_rows(database, webhook_inbox)) == 1
        assert [r["status"] for r in db_rows(database, webhook_outbox)] == ["sent"] * len(outbox)
    finally:
        second.kill(signal.SIGTERM)
    delivered = recorder.delivered(lambda r: is_message(r) and recipient(r) == "4915199999999")
    assert len(delivered) == len(outbox) and len({json.dumps(r.body, sort_keys=True) for r in delivered}) == len(outbox)
    assert "Zählerstand" in json.dumps([r.body for r in delivered], ensure_ascii=False)
    log = (tmp_path / "serve.log").read_text() + (tmp_path / "export.log").read_text()
    assert "GET /webhook/whatsapp" in log  # the access log is on ...
    for secret in (VERIFY_TOKEN, WHATSAPP_SECRET, WHATSAPP_TOKEN, TELEGRAM_TOKEN, "4915199999999"):
        assert secret not in log  # ... and shows neither secrets nor the phone number


def test_an_event_a_crashed_worker_held_is_taken_over_after_its_lease(bot, clock, recorder):
    """Acknowledged and claimed, then the worker died before replying: another worker answers once.

    Leases read the injected clock: the test moves it past the lease instead of waiting.
    """
    from tests.webhook.conftest import webhook_settings
    from tests.webhook.support import ServerThread

    queue = WebhookQueue(bot.store.engine)
    event = parse("whatsapp", whatsapp_body("4915188888888", "wamid.lease1", QUESTION))
    assert queue.accept(event, clock()) == (1, 0)
    assert queue.claim("crashed-worker", clock(), lease=30.0) is not None
    assert queue.claim("other", clock() + 29, lease=30.0) is None  # leased: nobody else takes it
    clock.advance(31)
    revived = ServerThread(create_app(bot, webhook_settings(recorder.url, lease_seconds=30.0), clock=clock)).start()
    try:
        delivered = recorder.wait_for(2, lambda r: is_message(r) and recipient(r) == "4915188888888")
        wait_for(lambda: httpx.get(f"{revived.url}/healthz").json()["pending"] == {"inbox": 0, "outbox": 0}, 30, "idle")
    finally:
        revived.stop()
    inbox = db_rows(Path(str(bot.store.engine.url.database)), webhook_inbox)
    assert [(r["status"], r["attempts"]) for r in inbox] == [("done", 0)]  # a dead worker's lease is no failure of the message
    assert len(recorder.delivered(lambda r: recipient(r) == "4915188888888")) == len(delivered)


def test_serve_refuses_to_start_without_any_platform_secrets(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOTKIT_")}
    result = subprocess.run(
        [sys.executable, "-m", "botkit", "serve", str(SAMPLE), "--port", str(free_port())], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 1 and "no platform is configured" in result.stderr


def test_cli_export_writes_a_folder_the_exported_app_loads(tmp_path, sample_index_dir, embedder, monkeypatch, recorder):
    from typer.testing import CliRunner

    from botkit.cli import app
    from botkit.webhook.entry import app_from_export
    from tests.webhook.support import ServerThread

    index = tmp_path / "index"
    shutil.copytree(sample_index_dir, index)
    result = CliRunner().invoke(app, ["export", str(SAMPLE), "--out", str(tmp_path / "bot"), "--index-dir", str(index)])
    assert result.exit_code == 0, result.output
    assert "uvicorn app:create --factory" in result.output
    for name, value in server_env(recorder.url, tmp_path / "bot.db").items():  # type: ignore[attr-defined]
        if name.startswith("BOTKIT_"):
            monkeypatch.setenv(name, value)
    server = ServerThread(app_from_export(tmp_path / "bot")).start()
    try:
        assert httpx.get(f"{server.url}/healthz").json()["platforms"] == ["messenger", "whatsapp", "telegram"]
    finally:
        server.stop()


def test_acknowledged_events_are_committed_with_a_full_fsync(bot):
    from sqlalchemy import text

    from botkit.webhook.writer import durable_engine

    engine = durable_engine(bot.store.engine)
    try:
        with engine.connect() as conn, bot.store.engine.connect() as other:
            assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert other.execute(text("PRAGMA synchronous")).scalar() == 1  # the bot's own writes stay NORMAL
    finally:
        engine.dispose()
