"""A local stand-in for Chatwoot's Application API, recording the calls the bot makes.

It speaks Chatwoot's documented wire format (developers.chatwoot.com, "Create New Message"
and "Toggle Status"; routes in chatwoot/chatwoot `config/routes.rb`): the `api_access_token`
header authenticates (401 `{"error": "Invalid Access Token"}` without the right one),
`POST /api/v1/accounts/{account_id}/conversations/{id}/messages` takes `content`,
`message_type`, `private`, `content_type` and `content_attributes` and answers the created
message, and `POST .../toggle_status` takes `{"status": "open" | "resolved" | "pending" |
"snoozed"}` and answers `{"meta": {}, "payload": {"success", "conversation_id", "current_status"}}`.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

_CONTENT_TYPES = {"text", "input_select", "cards", "form", "article", "input_email"}
_STATUSES = {"open", "resolved", "pending", "snoozed"}


@dataclass
class Call:
    path: str
    account: int
    conversation: int
    body: dict[str, Any]


class ChatwootApi:
    """Records accepted calls; refuses a wrong token (401) and malformed bodies (422)."""

    def __init__(self, token: str) -> None:
        self.token = token
        self._lock = threading.Lock()
        self.calls: list[Call] = []
        self.url = ""
        base = "/api/v1/accounts/{account:int}/conversations/{conversation:int}"
        self.app = Starlette(
            routes=[
                Route(f"{base}/messages", self._message, methods=["POST"]),
                Route(f"{base}/toggle_status", self._toggle, methods=["POST"]),
            ]
        )

    def clear(self) -> None:
        with self._lock:
            self.calls.clear()

    def to(self, conversation: int) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.conversation == conversation]

    def wait_for(self, conversation: int, count: int, timeout: float = 20.0) -> list[Call]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.to(conversation)) < count:
            time.sleep(0.02)
        return self.to(conversation)

    async def _checked(self, request: Request) -> tuple[dict[str, Any] | None, JSONResponse | None]:
        if request.headers.get("api_access_token") != self.token:
            return None, JSONResponse({"error": "Invalid Access Token"}, status_code=401)
        body = await request.json()
        if not isinstance(body, dict):
            return None, JSONResponse({"message": "body must be an object"}, status_code=422)
        return body, None

    def _record(self, request: Request, body: dict[str, Any]) -> Call:
        call = Call(request.url.path, request.path_params["account"], request.path_params["conversation"], body)
        with self._lock:
            self.calls.append(call)
        return call

    async def _message(self, request: Request) -> JSONResponse:
        body, refused = await self._checked(request)
        if refused is not None:
            return refused
        assert body is not None
        content_type = body.get("content_type", "text")
        if not isinstance(body.get("content"), str) or content_type not in _CONTENT_TYPES:
            return JSONResponse({"message": "content is missing or content_type unknown"}, status_code=422)
        if content_type == "input_select" and not all({"title", "value"} <= set(i) for i in body.get("content_attributes", {}).get("items", [])):
            return JSONResponse({"message": "input_select items need title and value"}, status_code=422)
        call = self._record(request, body)
        with self._lock:
            number = len(self.calls)
        return JSONResponse(
            {
                "id": 5000 + number,
                "content": body["content"],
                "inbox_id": 7,
                "conversation_id": call.conversation,
                "message_type": 1,
                "content_type": content_type,
                "status": "sent",
                "content_attributes": body.get("content_attributes", {}),
                "created_at": int(time.time()),
                "private": bool(body.get("private", False)),
                "source_id": None,
                "sender": {"id": 2, "name": "Lindenau FAQ-Bot", "type": "agent_bot"},
            }
        )

    async def _toggle(self, request: Request) -> JSONResponse:
        body, refused = await self._checked(request)
        if refused is not None:
            return refused
        assert body is not None
        if body.get("status") not in _STATUSES:
            return JSONResponse({"message": "unknown status"}, status_code=422)
        call = self._record(request, body)
        payload = {"success": True, "conversation_id": call.conversation, "current_status": body["status"], "snoozed_until": None}
        return JSONResponse({"meta": {}, "payload": payload})
