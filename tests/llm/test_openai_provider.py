"""`OpenAIChat`: the real `ChatOpenAI`/`openai` client against the fake server on 127.0.0.1."""

from __future__ import annotations

import socket

import openai
import pytest
import tiktoken

from botkit.errors import LLMError, ProviderError
from botkit.providers.openai import OpenAIChat
from tests.llm.fake_openai import API_KEY


def chat(fake, **options) -> OpenAIChat:
    return OpenAIChat(**{"model": "fake-model", "base_url": fake.url, "api_key": API_KEY, "timeout": 5.0, **options})


def test_complete_returns_the_reply_and_sends_model_limit_and_temperature(fake_llm):
    fake_llm.script("Guten Tag!")
    assert chat(fake_llm).complete("system text", "user text", max_tokens=42) == "Guten Tag!"
    [request] = fake_llm.requests
    assert request["model"] == "fake-model"
    assert request["max_completion_tokens"] == 42
    assert request["temperature"] == 0.0
    assert [m["role"] for m in request["messages"]] == ["system", "user"]
    assert not request.get("stream")


def test_streaming_joins_the_server_sent_events(fake_llm):
    fake_llm.script("Sie können den Zählerstand online melden.")
    text = chat(fake_llm, streaming=True).complete("s", "u", max_tokens=50)
    assert text == "Sie können den Zählerstand online melden."
    assert fake_llm.requests[0]["stream"] is True


@pytest.mark.parametrize(
    ("status", "kind", "cause"),
    [
        (429, "rate_limited", openai.RateLimitError),
        (500, "server_error", openai.InternalServerError),
        (503, "server_error", openai.InternalServerError),
        (400, "bad_request", openai.BadRequestError),
    ],
)
def test_error_statuses_become_llm_errors_that_keep_the_cause(fake_llm, status, kind, cause):
    fake_llm.script(status=status)
    with pytest.raises(LLMError) as caught:
        chat(fake_llm).complete("s", "u", max_tokens=5)
    assert caught.value.kind == kind
    assert isinstance(caught.value, ProviderError)
    assert isinstance(caught.value.__cause__, cause)
    assert len(fake_llm.requests) == 1  # no retries by default: the bot falls back instead


def test_a_wrong_api_key_is_an_auth_error_naming_the_setting(fake_llm):
    with pytest.raises(LLMError, match="BOTKIT_LLM_API_KEY") as caught:
        chat(fake_llm, api_key="wrong").complete("s", "u", max_tokens=5)
    assert caught.value.kind == "auth"


@pytest.mark.parametrize("streaming", [False, True])
def test_a_reply_cut_off_at_the_token_limit_is_an_error(fake_llm, streaming):
    fake_llm.script("Sie können den Zählerstand online", finish_reason="length")
    with pytest.raises(LLMError, match="limit of 8 tokens") as caught:
        chat(fake_llm, streaming=streaming).complete("s", "u", max_tokens=8)
    assert caught.value.kind == "truncated"


def test_a_slow_server_is_a_timeout(fake_llm):
    fake_llm.script("late", delay=2.0)
    with pytest.raises(LLMError) as caught:
        chat(fake_llm, timeout=0.3).complete("s", "u", max_tokens=5)
    assert caught.value.kind == "timeout"


def test_a_closed_port_is_unreachable():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    model = OpenAIChat(model="m", base_url=f"http://127.0.0.1:{port}/v1", timeout=2.0)
    with pytest.raises(LLMError, match="BOTKIT_LLM_BASE_URL") as caught:
        model.complete("s", "u", max_tokens=5)
    assert caught.value.kind == "unreachable"


def test_no_tiktoken_code_path_is_taken(fake_llm, monkeypatch):
    # tiktoken downloads its encodings on first use, which fails offline. This machine has no
    # network to watch, so its two entry points are trapped instead.
    def trap(*args, **kwargs):
        raise AssertionError("tiktoken was used")

    monkeypatch.setattr(tiktoken, "get_encoding", trap)
    monkeypatch.setattr(tiktoken, "encoding_for_model", trap)
    fake_llm.script("ok")
    assert chat(fake_llm).complete("s", "u", max_tokens=5) == "ok"
    assert chat(fake_llm, streaming=True).complete("s", "u", max_tokens=5) == "ok"


def test_the_api_key_is_not_in_the_repr(fake_llm):
    assert API_KEY not in repr(chat(fake_llm))
