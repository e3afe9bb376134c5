"""Real HTTP for webhook tests: uvicorn servers in threads and a recording send-API stand-in."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from botkit.platforms.meta import sign
from tests.conftest import SHARED_DATASETS

PAYLOADS = SHARED_DATASETS / "webhook-payloads"
MESSENGER_SECRET = "test-messenger-app-secret"
WHATSAPP_SECRET = "test-whatsapp-app-secret"
VERIFY_TOKEN = "test-verify-token"
PAGE_TOKEN = "test-page-token-EAAB"
WHATSAPP_TOKEN = "test-whatsapp-token-EAAG"
TELEGRAM_TOKEN = "123456:test-telegram-bot-token"
TELEGRAM_SECRET = "test-telegram-secret_token"


def wait_for(condition: Callable[[], object], timeout: float, what: str) -> None:
    """Poll `condition` every 50 ms until it holds; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerThread:
    """An ASGI app on uvicorn at 127.0.0.1 on a free port, in a background thread."""

    def __init__(self, app: Any, port: int | None = None) -> None:
        self.port = port or free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_config=None, lifespan="on", ws="none", access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.url = f"http://127.0.0.1:{self.port}"

    def start(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"uvicorn did not start on port {self.port}")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: Any
    status: int
    at: float = field(default_factory=time.monotonic)


class SendApi:
    """Stands in for the Graph API and the Telegram Bot API: records requests, can answer errors."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._script: list[int] = []
        self.requests: list[Recorded] = []
        self.delay = 0.0
        self.app = Starlette(routes=[Route("/{path:path}", self._handle, methods=["POST"])])

    def answer_next(self, *statuses: int) -> None:
        """Answer the next requests with these statuses (then 200 again)."""
        with self._lock:
            self._script.extend(statuses)

    def clear(self) -> None:
        with self._lock:
            self._script.clear()
            self.requests.clear()
            self.delay = 0.0

    def delivered(self, predicate: Callable[[Recorded], bool] = lambda r: True) -> list[Recorded]:
        """Requests answered with 200 that match `predicate`."""
        with self._lock:
            return [r for r in self.requests if r.status == 200 and predicate(r)]

    def wait_for(self, count: int, predicate: Callable[[Recorded], bool] = lambda r: True, timeout: float = 20.0) -> list[Recorded]:
        """Wait until at least `count` matching requests were delivered; returns them."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.delivered(predicate)
            if len(found) >= count:
                return found
            time.sleep(0.02)
        return self.delivered(predicate)

    async def _handle(self, request: Request) -> JSONResponse:
        body = await request.json()
        with self._lock:
            status = self._script.pop(0) if self._script else 200
            self.requests.append(Recorded(request.url.path, dict(request.headers), body, status))
            delay = self.delay
        if delay:
            await anyio.sleep(delay)
        if status == 200:
            if "/bot" in request.url.path:
                return JSONResponse({"ok": True, "result": {"message_id": len(self.requests)}})
            return JSONResponse({"recipient_id": "x", "message_id": f"m_{len(self.requests)}"})
        if status == 429:
            return JSONResponse({"ok": False, "error_code": 429, "parameters": {"retry_after": 0}}, status_code=429)
        return JSONResponse({"error": {"message": "stand-in error", "code": status}}, status_code=status)


def recipient(record: Recorded) -> str:
    """Who a recorded send goes to, on any platform."""
    body = record.body
    if "recipient" in body:
        return str(body["recipient"]["id"])
    return str(body.get("to") or body.get("chat_id") or body.get("callback_query_id"))


def is_message(record: Recorded) -> bool:
    """A user-visible message (not a handover or callback acknowledgement)."""
    return record.path.endswith(("/messages", "/sendMessage", "/sendPhoto"))


# Bodies as the platforms send them ------------------------------------------------------


def messenger_body(user: str, mid: str, text: str = "", *, quick_reply: str | None = None, **event: Any) -> bytes:
    item: dict[str, Any] = {"sender": {"id": user}, "recipient": {"id": "PAGE1"}, "timestamp": 1780000000000}
    if text or quick_reply is not None:
        message: dict[str, Any] = {"mid": mid, "text": text}
        if quick_reply is not None:
            message["quick_reply"] = {"payload": quick_reply}
        item["message"] = message
    item.update(event)
    return json.dumps({"object": "page", "entry": [{"id": "PAGE1", "time": 1780000000000, "messaging": [item]}]}).encode()


def whatsapp_body(user: str, mid: str, text: str = "", *, button: tuple[str, str] | None = None) -> bytes:
    message: dict[str, Any] = {"from": user, "id": mid, "timestamp": "1780000000"}
    if button is not None:
        message.update(type="interactive", interactive={"type": "button_reply", "button_reply": {"id": button[0], "title": button[1]}})
    else:
        message.update(type="text", text={"body": text})
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550000000", "phone_number_id": "PNID1"},
        "contacts": [{"profile": {"name": "Test"}, "wa_id": user}],
        "messages": [message],
    }
    change = {"value": value, "field": "messages"}
    return json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "WABA1", "changes": [change]}]}).encode()


def telegram_body(update_id: int, user: int, text: str) -> bytes:
    chat = {"id": user, "type": "private", "first_name": "Test"}
    message = {"message_id": update_id, "from": {"id": user, "is_bot": False, "first_name": "Test"}, "chat": chat, "date": 1780000000, "text": text}
    return json.dumps({"update_id": update_id, "message": message}).encode()


def signed(body: bytes, secret: str) -> dict[str, str]:
    return {"X-Hub-Signature-256": sign(body, secret), "Content-Type": "application/json"}


def fixture_bodies(platform: str) -> list[tuple[str, bytes]]:
    """Every body of a platform in the shared payload folder; pywa's example dicts are split up."""
    bodies = []
    for path in sorted((PAYLOADS / platform).glob("*.json")):
        if path.name.endswith(".signature.json"):
            continue
        raw = path.read_bytes()
        if platform == "whatsapp" and not path.name.endswith("_signed.json"):
            for name, body in json.loads(raw).items():
                bodies.append((f"{path.stem}/{name}", json.dumps(body).encode()))
        else:
            bodies.append((path.stem, raw))
    return bodies


def signature_vectors() -> list[tuple[str, bytes, dict[str, Any]]]:
    """(platform, exact body bytes, sidecar) for each signed body in the shared folder."""
    out = []
    for sidecar in sorted(PAYLOADS.glob("*/*.signature.json")):
        meta = json.loads(sidecar.read_text())
        out.append((sidecar.parent.name, (sidecar.parent / meta["body_file"]).read_bytes(), meta))
    return out


def payloads_present() -> bool:
    return PAYLOADS.is_dir()


def require_payloads() -> Path:
    if not payloads_present():
        pytest.skip(f"shared webhook payloads not found at {PAYLOADS}")
    return PAYLOADS


def process_env(api_url: str, database_url: str, **settings: str) -> dict[str, str]:
    """The environment of a botkit process in a test: this machine's variables without any BOTKIT_*, every
    platform's test secrets, send APIs at the stand-in `api_url`, the database, and `settings` on top."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOTKIT_")}
    env.update(
        BOTKIT_MESSENGER_APP_SECRET=MESSENGER_SECRET,
        BOTKIT_WHATSAPP_APP_SECRET=WHATSAPP_SECRET,
        BOTKIT_VERIFY_TOKEN=VERIFY_TOKEN,
        BOTKIT_MESSENGER_PAGE_TOKEN=PAGE_TOKEN,
        BOTKIT_WHATSAPP_TOKEN=WHATSAPP_TOKEN,
        BOTKIT_TELEGRAM_BOT_TOKEN=TELEGRAM_TOKEN,
        BOTKIT_TELEGRAM_SECRET_TOKEN=TELEGRAM_SECRET,
        BOTKIT_GRAPH_API_BASE=f"{api_url}/v21.0",
        BOTKIT_TELEGRAM_API_BASE=api_url,
        BOTKIT_DATABASE_URL=database_url,
    )
    env.update(settings)
    return env
