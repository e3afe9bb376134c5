"""Fuzzing the served endpoints: from the OpenAPI schema (schemathesis) and with signed random bodies (hypothesis).

Zero 5xx is the property; every answer must also be one the schema documents.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from botkit import Settings, open_bot
from botkit.webhook import create_app, sign
from tests.conftest import SAMPLE
from tests.webhook.conftest import webhook_settings
from tests.webhook.support import (
    MESSENGER_SECRET,
    TELEGRAM_SECRET,
    WHATSAPP_SECRET,
    ServerThread,
    fixture_bodies,
    is_message,
    messenger_body,
    payloads_present,
    recipient,
    telegram_body,
    whatsapp_body,
)

SECRETS = {"/webhook/messenger": MESSENGER_SECRET, "/webhook/whatsapp": WHATSAPP_SECRET}
DOCUMENTED = {200, 400, 401, 403, 404, 405, 413, 422}


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory, sample_index_dir, embedder, send_api) -> Iterator[ServerThread]:
    folder = tmp_path_factory.mktemp("fuzz")
    shutil.copytree(sample_index_dir, folder / "index")
    bot = open_bot(SAMPLE, Settings(index_dir=folder / "index", database_url=f"sqlite:///{folder / 'botkit.db'}"), embedder=embedder)
    server = ServerThread(create_app(bot, webhook_settings(send_api.url))).start()
    yield server
    server.stop()
    bot.close()


@pytest.fixture(scope="module")
def operations(fuzz_server):
    """Every operation of the served OpenAPI schema."""
    # schemathesis' own pytest plugin does not run under pytest 9 here, so its strategies are drawn directly.
    loaded = schemathesis.openapi.from_url(f"{fuzz_server.url}/openapi.json")
    return [result.ok() for result in loaded.get_all_operations()]


@settings(suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_schema_driven_requests_never_get_a_server_error(fuzz_server, operations, data):
    operation = data.draw(st.sampled_from(operations))
    mode = data.draw(st.sampled_from([GenerationMode.POSITIVE, GenerationMode.NEGATIVE]))
    case = data.draw(operation.as_strategy(generation_mode=mode))
    kwargs = case.as_transport_kwargs(base_url=fuzz_server.url)
    headers = {k: str(v) for k, v in (kwargs.get("headers") or {}).items()}
    content = kwargs.get("data")
    if "json" in kwargs:
        content = json.dumps(kwargs["json"]).encode()
        headers["Content-Type"] = "application/json"
    if isinstance(content, str):
        content = content.encode()
    if case.method == "POST" and case.path in SECRETS and content is not None and data.draw(st.booleans()):
        # Also reach the parser: sign what schemathesis generated, as Meta would.
        headers["X-Hub-Signature-256"] = sign(content, SECRETS[case.path])
    if case.method == "POST" and case.path == "/webhook/telegram" and data.draw(st.booleans()):
        headers["X-Telegram-Bot-Api-Secret-Token"] = TELEGRAM_SECRET
    response = httpx.request(case.method, kwargs["url"], params=kwargs.get("params"), headers=headers, content=content, timeout=10)
    assert response.status_code < 500, (case.method, case.path, content, response.text)
    assert response.status_code in DOCUMENTED, (case.method, case.path, response.status_code)


def _seeds() -> list[tuple[str, bytes]]:
    seeds = [("messenger", messenger_body("u1", "m1", "Hallo")), ("whatsapp", whatsapp_body("491", "w1", "Hallo")), ("telegram", telegram_body(1, 2, "Hallo"))]
    if payloads_present():
        seeds += [(p, body) for p in ("messenger", "whatsapp", "telegram") for _, body in fixture_bodies(p)]
    return seeds


SEEDS = _seeds()
leaf = st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=30)
anything = st.recursive(leaf, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3), max_leaves=10)


@st.composite
def mutated(draw) -> tuple[str, bytes]:
    """A real body with one value replaced, one key dropped, or its bytes cut or flipped."""
    platform, body = draw(st.sampled_from(SEEDS))
    data = json.loads(body.decode("utf-8-sig"))
    paths = list(_paths(data))
    how = draw(st.sampled_from(["replace", "drop", "cut", "flip"]))
    if how in ("replace", "drop") and paths:
        *parents, last = draw(st.sampled_from(paths))
        target = data
        for key in parents:
            target = target[key]
        if how == "replace":
            target[last] = draw(anything)
        elif isinstance(target, dict):
            del target[last]
        return platform, json.dumps(data).encode()
    if how == "cut":
        return platform, body[: draw(st.integers(0, max(0, len(body) - 1)))]
    position = draw(st.integers(0, len(body) - 1))
    return platform, body[:position] + bytes([draw(st.integers(0, 255))]) + body[position + 1 :]


def _paths(value, prefix=()):
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in items:
        yield (*prefix, key)
        yield from _paths(child, (*prefix, key))


@settings(suppress_health_check=list(HealthCheck))
@given(sample=mutated())
def test_signed_mutations_of_real_bodies_never_get_a_server_error(fuzz_server, sample):
    platform, body = sample
    if platform == "telegram":
        headers = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
    else:
        headers = {"X-Hub-Signature-256": sign(body, SECRETS[f"/webhook/{platform}"])}
    response = httpx.post(f"{fuzz_server.url}/webhook/{platform}", content=body, headers=headers, timeout=10)
    assert response.status_code in (200, 400), (body, response.text)


def test_the_fuzzed_server_still_answers_a_real_message(fuzz_server, send_api):
    # /healthz says ok as long as the process runs; an answered message shows the worker survived too
    body = whatsapp_body("4915177777777", "wamid.after-fuzz", "Wie melde ich meinen Zählerstand?")
    headers = {"X-Hub-Signature-256": sign(body, WHATSAPP_SECRET)}
    response = httpx.post(f"{fuzz_server.url}/webhook/whatsapp", content=body, headers=headers, timeout=10)
    assert response.json() == {"accepted": 1, "duplicates": 0, "ignored": 0}
    deadline = time.monotonic() + 60
    while not any("Zählerstand" in json.dumps(r.body, ensure_ascii=False) for r in send_api.delivered(_to("4915177777777"))):
        assert time.monotonic() < deadline, "no answer within 60 s"
        time.sleep(0.05)


def _to(user: str) -> Callable[[Any], bool]:
    return lambda record: is_message(record) and recipient(record) == user
