"""A small deterministic OpenAI-compatible server for tests, on uvicorn at 127.0.0.1.

It answers `POST /v1/chat/completions` like the real API (JSON or server-sent events),
checks the bearer token, and follows a script: the first rule whose `match` occurs in the
request's messages decides the reply, an error status or a delay. Every request is recorded,
so a test can tell that none was made.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

API_KEY = "test-key"
DEFAULT_REPLY = "OK"


@dataclass(frozen=True)
class Rule:
    """When `match` occurs in the request's messages: wait `delay` seconds, then answer."""

    match: str
    reply: str = DEFAULT_REPLY
    status: int = 200
    delay: float = 0.0
    finish_reason: str = "stop"  # "length": the reply was cut off at max tokens


@dataclass
class FakeOpenAI:
    """The script and the record of requests, shared with the server thread."""

    rules: list[Rule] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""

    def script(self, reply: str = DEFAULT_REPLY, *, match: str = "", status: int = 200, delay: float = 0.0, finish_reason: str = "stop") -> None:
        """Add a rule; later rules win over earlier ones."""
        self.rules.insert(0, Rule(match, reply, status, delay, finish_reason))

    def reset(self) -> None:
        self.rules.clear()
        self.requests.clear()

    def prompts(self) -> list[str]:
        """All message texts of every recorded request, one string per request."""
        return ["\n".join(m["content"] for m in r["messages"]) for r in self.requests]

    def rule_for(self, body: dict[str, Any]) -> Rule:
        text = "\n".join(str(m.get("content", "")) for m in body.get("messages", []))
        return next((r for r in self.rules if r.match in text), Rule(""))


def create_app(fake: FakeOpenAI) -> FastAPI:
    app = FastAPI()

    @app.post("/v1/chat/completions", response_model=None)
    async def chat(request: Request) -> JSONResponse | StreamingResponse:
        if request.headers.get("authorization") != f"Bearer {API_KEY}":
            return _error(401, "Incorrect API key provided.", "invalid_api_key")
        body = await request.json()
        fake.requests.append(body)
        rule = fake.rule_for(body)
        if rule.delay:
            await asyncio.sleep(rule.delay)
        if rule.status != 200:
            return _error(rule.status, f"scripted {rule.status}", "scripted")
        if body.get("stream"):
            return StreamingResponse(_events(body["model"], rule), media_type="text/event-stream")
        return JSONResponse(_completion(body["model"], rule))

    return app


def _error(status: int, message: str, code: str) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": "invalid_request_error", "code": code}}, status_code=status)


def _completion(model: str, rule: Rule) -> dict[str, Any]:
    text = rule.reply
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": rule.finish_reason}],
        "usage": {"prompt_tokens": 10, "completion_tokens": len(text.split()), "total_tokens": 10 + len(text.split())},
    }


async def _events(model: str, rule: Rule):
    text = rule.reply
    base = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": int(time.time()), "model": model}
    words = text.split(" ")
    for i, word in enumerate(words):
        piece = word if i == len(words) - 1 else word + " "
        delta = {"role": "assistant", "content": piece} if i == 0 else {"content": piece}
        yield f"data: {json.dumps(base | {'choices': [{'index': 0, 'delta': delta, 'finish_reason': None}]})}\n\n"
    yield f"data: {json.dumps(base | {'choices': [{'index': 0, 'delta': {}, 'finish_reason': rule.finish_reason}]})}\n\n"
    yield "data: [DONE]\n\n"


class FakeServer:
    """Runs the app on a free port of 127.0.0.1 in a daemon thread."""

    def __init__(self, fake: FakeOpenAI) -> None:
        config = uvicorn.Config(create_app(fake), host="127.0.0.1", port=0, log_config=None, lifespan="off", ws="none", access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.fake = fake

    def start(self) -> FakeOpenAI:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the fake OpenAI server did not start")
            time.sleep(0.01)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.fake.url = f"http://127.0.0.1:{port}/v1"
        return self.fake

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
