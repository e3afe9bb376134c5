"""/metrics in the Prometheus text format and JSON log lines, on the real app under uvicorn."""

from __future__ import annotations

import io
import json
import logging
import shutil
import signal
import sys
import time
from collections.abc import Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from botkit import open_bot
from botkit.platforms import get_platform
from botkit.types import Decision
from botkit.webhook.logs import JsonFormatter, guard_logs, log
from botkit.webhook.metrics import Metrics
from botkit.webhook.outbox import WebhookQueue
from tests.conftest import SAMPLE
from tests.webhook.support import (
    TELEGRAM_TOKEN,
    WHATSAPP_SECRET,
    WHATSAPP_TOKEN,
    free_port,
    is_message,
    recipient,
    signed,
    whatsapp_body,
)
from tests.webhook.test_webhook_restart import Process, server_env

QUESTION = "Wie melde ich meinen Zählerstand?"
PHONE = "4915100000777"


def post(server, body: bytes) -> httpx.Response:
    return httpx.post(f"{server.url}/webhook/whatsapp", content=body, headers=signed(body, WHATSAPP_SECRET), timeout=10)


def scrape(server) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of /metrics, parsed by prometheus-client's own parser, keyed by name and labels."""
    response = httpx.get(f"{server.url}/metrics", timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value for family in text_string_to_metric_families(response.text) for s in family.samples}


def wait_for(server, name: str, labels: dict[str, str], value: float, timeout: float = 20.0) -> dict:
    """Scrape until the sample reaches `value` (sends are counted after the stand-in answered)."""
    key = (name, tuple(sorted(labels.items())))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        samples = scrape(server)
        if samples.get(key, 0.0) >= value:
            return samples
        time.sleep(0.05)
    raise AssertionError(f"{key} did not reach {value}: {samples.get(key)}")


def test_a_message_and_its_reply_show_in_metrics(server, recorder):
    before = scrape(server)
    assert before[("botkit_queue_depth", (("queue", "inbox"),))] == 0
    assert ("botkit_inbound_events_total", (("outcome", "accepted"), ("platform", "whatsapp"))) not in before

    assert post(server, whatsapp_body(PHONE, "wamid.m1", QUESTION)).json()["accepted"] == 1
    recorder.wait_for(1, lambda r: is_message(r) and recipient(r) == PHONE)
    samples = wait_for(server, "botkit_sends_total", {"platform": "whatsapp", "status": "sent"}, 1)

    assert samples[("botkit_inbound_events_total", (("outcome", "accepted"), ("platform", "whatsapp")))] == 1
    replies = {labels: v for (name, labels), v in samples.items() if name == "botkit_replies_total"}
    assert sum(replies.values()) == 1
    (labels,) = replies
    assert dict(labels)["decision"] in {d.value for d in Decision} and dict(labels)["reason"]
    assert samples[("botkit_reply_seconds_count", ())] == 1
    assert samples[("botkit_send_seconds_count", (("platform", "whatsapp"),))] >= 1
    assert samples[("botkit_queue_depth", (("queue", "inbox"),))] == 0
    assert samples[("botkit_queue_oldest_age_seconds", ())] == 0
    assert ("botkit_handovers", (("state", "waiting"),)) in samples

    # A redelivery is a duplicate; a wrong signature a refusal.
    assert post(server, whatsapp_body(PHONE, "wamid.m1", QUESTION)).json()["duplicates"] == 1
    bad = whatsapp_body(PHONE, "wamid.m2", QUESTION)
    assert httpx.post(f"{server.url}/webhook/whatsapp", content=bad, headers=signed(bad, "wrong")).status_code == 403
    after = scrape(server)
    assert after[("botkit_inbound_events_total", (("outcome", "duplicate"), ("platform", "whatsapp")))] == 1
    assert after[("botkit_inbound_events_total", (("outcome", "forbidden"), ("platform", "whatsapp")))] == 1
    assert after[("botkit_inbound_events_total", (("outcome", "accepted"), ("platform", "whatsapp")))] == 1


def test_each_app_has_its_own_registry(serve, recorder):
    first, second = serve(), serve()
    assert post(first, whatsapp_body(PHONE, "wamid.own", QUESTION)).status_code == 200
    key = ("botkit_inbound_events_total", (("outcome", "accepted"), ("platform", "whatsapp")))
    assert scrape(first)[key] == 1
    assert key not in scrape(second)


def test_metrics_is_served_without_auth_and_left_out_of_the_openapi_schema(server):
    assert httpx.get(f"{server.url}/metrics").status_code == 200
    assert "/metrics" not in httpx.get(f"{server.url}/openapi.json").json()["paths"]


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    log.addHandler(handler)
    level = log.level
    log.setLevel(logging.DEBUG)
    yield out
    log.removeHandler(handler)
    log.setLevel(level)


def test_json_log_lines_parse_carry_the_masked_conversation_and_no_secrets(json_lines, server, recorder):
    assert post(server, whatsapp_body(PHONE, "wamid.j1", QUESTION)).status_code == 200
    recorder.wait_for(1, lambda r: recipient(r) == PHONE)
    deadline = time.monotonic() + 20
    while '"conversation"' not in json_lines.getvalue() and time.monotonic() < deadline:
        time.sleep(0.05)
    text = json_lines.getvalue()
    lines = [json.loads(line) for line in text.splitlines()]
    assert lines and all({"time", "level", "logger", "message"} <= line.keys() for line in lines)
    replies = [line for line in lines if "conversation" in line]
    assert replies and all(line["conversation"].startswith("…") and len(line["conversation"]) == 4 for line in replies)
    assert PHONE not in text and WHATSAPP_TOKEN not in text and WHATSAPP_SECRET not in text


def test_json_lines_keep_scrubbing_secrets_and_tracebacks(json_lines):
    guard_logs([WHATSAPP_TOKEN])
    try:
        raise ValueError(f"send to +{PHONE} with {WHATSAPP_TOKEN}")
    except ValueError:
        log.exception("delivering to %s failed", PHONE, extra={"conversation": "…777"})
    (line,) = [json.loads(raw) for raw in json_lines.getvalue().splitlines()]
    assert line["level"] == "ERROR" and line["logger"] == "botkit.webhook" and line["conversation"] == "…777"
    assert "Traceback" in line["exception"] and "ValueError" in line["exception"]
    assert PHONE not in json_lines.getvalue() and WHATSAPP_TOKEN not in json_lines.getvalue()


def test_queue_gauges_show_a_pending_event_and_its_age(settings, embedder, clock):
    bot = open_bot(SAMPLE, settings, embedder=embedder, clock=clock)
    try:
        events = get_platform("whatsapp").parse(whatsapp_body(PHONE, "wamid.q1", QUESTION), {})
        assert WebhookQueue(bot.store.engine).accept(events, 1000.0) == (1, 0)
        text = Metrics(bot.store.engine, lambda: 1042.5).exposition().decode()
    finally:
        bot.close()
    samples = {(s.name, tuple(s.labels.values())): s.value for f in text_string_to_metric_families(text) for s in f.samples}
    assert samples[("botkit_queue_depth", ("inbox",))] == 1
    assert samples[("botkit_queue_depth", ("outbox",))] == 0
    assert samples[("botkit_queue_oldest_age_seconds", ())] == 42.5


def test_botkit_serve_with_json_log_format_writes_json_lines(tmp_path, recorder, sample_index_dir):
    """The real `botkit serve` process: its uvicorn and botkit lines are JSON, masked, without secrets."""
    port = free_port()
    index = tmp_path / "index"
    shutil.copytree(sample_index_dir, index)
    server = Process(
        [sys.executable, "-m", "botkit", "serve", str(SAMPLE), "--host", "127.0.0.1", "--port", str(port), "--index-dir", str(index)],
        server_env(recorder.url, tmp_path / "bot.db", BOTKIT_LOG_FORMAT="json"),
        tmp_path,
        tmp_path / "serve.log",
        port,  # type: ignore[attr-defined]
    )
    try:
        server.wait_healthy()
        assert post(server, whatsapp_body(PHONE, "wamid.serve1", QUESTION)).json()["accepted"] == 1
        recorder.wait_for(1, lambda r: is_message(r) and recipient(r) == PHONE)
        deadline = time.monotonic() + 20
        while '"conversation"' not in server.log.read_text() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        server.kill(signal.SIGTERM)
    text = server.log.read_text()
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    assert {"uvicorn.error", "botkit.webhook"} <= {line["logger"] for line in lines}
    assert any(line.get("conversation") == "…" + PHONE[-3:] for line in lines)
    for secret in (PHONE, WHATSAPP_SECRET, WHATSAPP_TOKEN, TELEGRAM_TOKEN):
        assert secret not in text
