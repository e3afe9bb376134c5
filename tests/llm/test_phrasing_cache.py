"""The phrasing cache's bound: least recently used phrasings go first; size 0 caches nothing."""

from __future__ import annotations

import pytest

from botkit.knowledge import load_knowledge
from botkit.phrasing import Phraser
from botkit.providers.openai import OpenAIChat
from tests.conftest import SAMPLE
from tests.llm.fake_openai import API_KEY
from tests.llm.test_phrasing import METER_REPLY, request_for

QUESTIONS = ("Zählerstand melden", "Wo melde ich den Zählerstand?", "Zählerstand online eingeben")


@pytest.fixture(scope="module")
def knowledge():
    return load_knowledge(SAMPLE)


def phraser(url: str, knowledge, cache_size: int) -> Phraser:
    return Phraser(OpenAIChat(model="fake-model", base_url=url, api_key=API_KEY, timeout=1.0), knowledge, cache_size=cache_size)


def test_a_full_cache_evicts_the_least_recently_used_phrasing(fake_llm, knowledge):
    fake_llm.script(METER_REPLY)
    cache = phraser(fake_llm.url, knowledge, cache_size=2)
    a, b, c = (request_for(knowledge, "zaehlerstand-melden", user_text=q) for q in QUESTIONS)
    assert not cache.phrase(a).cached and not cache.phrase(b).cached
    assert cache.phrase(a).cached  # a used again: b is now the least recently used
    assert not cache.phrase(c).cached  # the third entry evicts b
    assert cache.phrase(a).cached and cache.phrase(c).cached
    assert len(fake_llm.requests) == 3
    assert not cache.phrase(b).cached  # asked for again after its eviction (and now evicts a)
    assert len(fake_llm.requests) == 4
    assert cache.phrase(c).cached and not cache.phrase(a).cached
    assert len(fake_llm.requests) == 5


def test_a_cache_of_size_zero_asks_the_model_every_time(fake_llm, knowledge):
    fake_llm.script(METER_REPLY)
    uncached = phraser(fake_llm.url, knowledge, cache_size=0)
    request = request_for(knowledge, "zaehlerstand-melden")
    results = [uncached.phrase(request) for _ in range(3)]
    assert [r.cached for r in results] == [False, False, False]
    assert {r.phrasing for r in results} == {"llm"}
    assert len(fake_llm.requests) == 3
