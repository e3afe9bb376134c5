"""Fixtures for LLM tests: the fake OpenAI-compatible server and bots wired to it."""

from __future__ import annotations

from dataclasses import replace

import pytest

from botkit import open_bot
from tests.conftest import SAMPLE
from tests.llm.fake_openai import API_KEY, FakeOpenAI, FakeServer


@pytest.fixture(scope="session")
def fake_server():
    server = FakeServer(FakeOpenAI())
    yield server.start()
    server.stop()


@pytest.fixture
def fake_llm(fake_server) -> FakeOpenAI:
    """The fake server with an empty script and no recorded requests."""
    fake_server.reset()
    yield fake_server
    fake_server.reset()


@pytest.fixture
def llm_settings(settings, fake_llm):
    return replace(settings, llm_base_url=fake_llm.url, llm_api_key=API_KEY, llm_model="fake-model", llm_timeout=5.0)


@pytest.fixture
def llm_bot(llm_settings, embedder, clock):
    bot = open_bot(SAMPLE, llm_settings, embedder=embedder, clock=clock)
    yield bot
    bot.close()
