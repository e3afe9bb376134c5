"""botkit's matrix work runs on one BLAS thread (idle BLAS threads spin and cost CPU), and only while it runs."""

from __future__ import annotations

import pytest
from threadpoolctl import threadpool_info, threadpool_limits

import botkit.retrieve
from botkit.blas import one_thread
from botkit.index import KnowledgeIndex, build_index
from botkit.knowledge import load_knowledge
from botkit.providers.memory import MemoryStore
from botkit.retrieve import Retriever
from botkit.testing import FakeEmbedder
from tests.conftest import SAMPLE


def blas_threads() -> int:
    return max(info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas")


@pytest.fixture
def two_threads():
    """BLAS on two threads around the test, as numpy starts on a machine with two or more cores."""
    with threadpool_limits(limits=2, user_api="blas"):
        if blas_threads() < 2:
            pytest.skip("this BLAS runs on one thread only")
        yield


def test_a_wrapped_call_runs_on_one_thread_and_the_limit_ends_with_it(two_threads):
    seen = one_thread(blas_threads)()
    assert seen == 1
    assert blas_threads() == 2


def test_the_limit_ends_when_the_call_raises(two_threads):
    @one_thread
    def fail() -> None:
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        fail()
    assert blas_threads() == 2


def test_opening_and_updating_a_retriever_whiten_on_one_thread(two_threads, monkeypatch):
    seen: list[int] = []
    original = botkit.retrieve.whitening

    def whitening(*args, **kwargs):
        seen.append(blas_threads())
        return original(*args, **kwargs)

    monkeypatch.setattr(botkit.retrieve, "whitening", whitening)
    monkeypatch.setattr(botkit.retrieve.Retriever, "_setup", spy(botkit.retrieve.Retriever._setup, seen))
    embedder, store = FakeEmbedder(), MemoryStore()
    entries = load_knowledge(SAMPLE).entries
    build_index(entries, embedder, store)
    retriever = Retriever(KnowledgeIndex.open(store, embedder))
    retriever.updated({entries[0].id: (["Eine neue Formulierung"], embedder.embed(["Eine neue Formulierung"]))}, [], {})
    assert seen == [1, 1, 1]  # whitening, then the regression's setup on opening, and its setup on an update
    assert blas_threads() == 2


def spy(method, seen):
    def wrapped(*args, **kwargs):
        seen.append(blas_threads())
        return method(*args, **kwargs)

    return wrapped
