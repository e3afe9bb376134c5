"""Handover notices: signed, retried, in the background; against a real receiver on 127.0.0.1."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from dataclasses import replace

import anyio
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from typer.testing import CliRunner

from botkit import open_bot
from botkit.cli import app
from botkit.errors import ConfigError
from botkit.notify import HandoverNotifier, sign
from botkit.types import Handover
from tests.conftest import SAMPLE
from tests.webhook.support import ServerThread

SECRET = "test-notice-secret"
ASK_PERSON = "Ich möchte mit einem Mitarbeiter sprechen"


class Receiver:
    """An n8n/Slack-like webhook receiver: records raw bodies and headers, answers scripted statuses."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.received: list[tuple[dict[str, str], bytes, int]] = []
        self.statuses: list[int] = []
        self.hold = threading.Event()
        self.hold.set()
        self.app = Starlette(routes=[Route("/hook", self.handle, methods=["POST"])])

    async def handle(self, request: Request) -> JSONResponse:
        body = await request.body()
        with self.lock:
            status = self.statuses.pop(0) if self.statuses else 200
            self.received.append((dict(request.headers), body, status))
        await anyio.to_thread.run_sync(self.hold.wait)
        return JSONResponse({"ok": status == 200}, status_code=status)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[tuple[dict[str, str], bytes, int]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.01)
        with self.lock:
            return list(self.received)


@pytest.fixture
def receiver():
    rec = Receiver()
    server = ServerThread(rec.app).start()
    rec.url = f"{server.url}/hook"  # type: ignore[attr-defined]
    yield rec
    rec.hold.set()
    server.stop()


def verified(headers: dict[str, str], body: bytes, secret: str = SECRET) -> bool:
    """What a receiver does: recompute the HMAC over "{timestamp}.{body}" and compare in constant time."""
    expected = "sha256=" + hmac.new(secret.encode(), headers["x-botkit-timestamp"].encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, headers.get("x-botkit-signature", ""))


@pytest.fixture
def notified_bot(settings, embedder, clock, receiver):
    """A bot opened as in production: `open_bot` wires the notifier from the settings."""
    configured = replace(settings, handover_webhook_url=receiver.url, handover_webhook_secret=SECRET)
    bot = open_bot(SAMPLE, configured, embedder=embedder, clock=clock)
    yield bot
    receiver.hold.set()
    bot.close()


def test_notice_after_a_request_for_a_person_is_signed_and_complete(notified_bot, receiver, clock):
    bot = notified_bot
    bot.reply("whatsapp:4917600000001", "Wie melde ich meinen Zählerstand?", "whatsapp", user_id="4917600000001")
    reply = bot.reply("whatsapp:4917600000001", ASK_PERSON, "whatsapp", user_id="4917600000001")
    assert reply.handover is not None
    ((headers, body, _),) = receiver.wait_for(1)
    assert verified(headers, body)
    assert not verified(headers, body, secret="another-secret")
    assert headers["x-botkit-timestamp"] == str(int(clock()))
    payload = json.loads(body)
    queued = bot.queue(status=None)
    assert payload["handover_id"] == queued[-1].id
    assert payload["conversation_id"] == "whatsapp:4917600000001"
    assert (payload["channel"], payload["reason"], payload["event"]) == ("whatsapp", reply.reason, "handover.opened")
    assert payload["waiting_since"].startswith("2026-")
    assert [t["role"] for t in payload["transcript"]] == ["user", "bot", "user"]
    assert payload["transcript"][-1]["text"] == ASK_PERSON
    assert payload["text"].startswith(f"Handover #{queued[-1].id} (whatsapp")


def test_a_500_is_retried_with_the_same_notice(receiver, clock):
    receiver.statuses = [500, 503]
    notifier = HandoverNotifier(receiver.url, secret=SECRET, clock=clock, initial_wait=0.01, max_wait=0.05)
    handover = Handover("web:x", "low_confidence", {"confidence": 0.12}, ({"role": "user", "text": "Wasserproblem"},), id=7)
    assert notifier.open(handover, "x", "web") == 7
    got = receiver.wait_for(3)
    notifier.close()
    assert [status for _, _, status in got] == [500, 503, 200]
    assert len({body for _, body, _ in got}) == 1  # the same notice each time, signed each time
    assert all(verified(h, b) for h, b, _ in got)
    assert json.loads(got[0][1])["confidence"] == 0.12 and json.loads(got[0][1])["handover_id"] == 7


def test_a_refusal_other_than_408_429_5xx_is_not_retried(receiver, clock):
    receiver.statuses = [404]
    notifier = HandoverNotifier(receiver.url, clock=clock, initial_wait=0.01, max_wait=0.05)
    notifier.open(Handover("web:y", "user_request", {}, (), id=1), "y", "web")
    notifier.open(Handover("web:z", "user_request", {}, (), id=2), "z", "web")
    got = receiver.wait_for(2)
    notifier.close()
    assert [status for _, _, status in got] == [404, 200]  # the first was dropped, the next one sent
    assert "x-botkit-signature" not in got[0][0]  # without a secret notices go unsigned


def test_reply_returns_before_the_receiver_answers(notified_bot, receiver):
    receiver.hold.clear()  # the receiver takes its time
    started = time.monotonic()
    reply = notified_bot.reply("telegram:77", ASK_PERSON, "telegram", user_id="77")
    took = time.monotonic() - started
    ((headers, body, _),) = receiver.wait_for(1)
    assert reply.handover is not None and reply.messages
    assert took < 5.0  # the receiver still holds the request open: a blocking sink would hang here
    assert verified(headers, body)


def test_trying_the_bot_on_the_command_line_pages_nobody(settings, receiver):
    env = {"BOTKIT_HANDOVER_WEBHOOK_URL": receiver.url, "BOTKIT_DATABASE_URL": settings.database_url}
    result = CliRunner().invoke(app, ["ask", str(SAMPLE), ASK_PERSON, "--index-dir", str(settings.index_dir), "--json"], env=env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["decision"] == "handover"
    assert receiver.wait_for(1, timeout=1.0) == []


def test_a_url_that_is_not_http_is_refused():
    with pytest.raises(ConfigError, match="BOTKIT_HANDOVER_WEBHOOK_URL"):
        HandoverNotifier("ftp://example.org/hook")


def test_the_background_thread_ends_when_idle_and_comes_back(receiver, clock):
    def notifier_threads() -> set[threading.Thread]:
        return {t for t in threading.enumerate() if t.name == "botkit-handover-notifier"}

    before = notifier_threads()
    notifier = HandoverNotifier(receiver.url, clock=clock, idle_seconds=0.05)
    notifier.open(Handover("web:a", "user_request", {}, (), id=1), "a", "web")
    receiver.wait_for(1)
    deadline = time.monotonic() + 5
    while notifier_threads() - before and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not notifier_threads() - before
    notifier.open(Handover("web:b", "user_request", {}, (), id=2), "b", "web")
    assert len(receiver.wait_for(2)) == 2


def test_sign_matches_a_receivers_hmac():
    body = b'{"handover_id": 1}'
    assert sign(body, "k", 1780000000) == "sha256=" + hmac.new(b"k", b"1780000000." + body, hashlib.sha256).hexdigest()
