"""The index: incremental, atomic, tied to its embedder; the same contract on every `VectorStore`.

Tests that only need vectors use `FakeEmbedder`; what they check does not depend on retrieval quality.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from botkit import IndexMismatchError, KnowledgeError, Settings, build, load_knowledge, open_bot
from botkit.index import KnowledgeIndex, build_index
from botkit.protocols import VectorStore
from botkit.providers.chroma import ChromaStore
from botkit.providers.memory import MemoryStore
from botkit.retrieve import Retriever
from botkit.testing import CountingEmbedder, RenamedEmbedder
from botkit.wiring import vector_store_for


@pytest.fixture(params=["chroma", "memory"])
def store(request, tmp_path) -> VectorStore:
    """Every `VectorStore` implementation, held to the same contract."""
    return ChromaStore(tmp_path / "index") if request.param == "chroma" else MemoryStore()


def _remove_entry(kb_copy: Path, entry_id: str) -> None:
    faq = kb_copy / "zaehler.yaml"
    text = faq.read_text(encoding="utf-8")
    start = text.index(f"- id: {entry_id}")
    end = text.find("\n- id:", start + 1)
    faq.write_text(text[:start] + (text[end + 1 :] if end != -1 else ""), encoding="utf-8")


def test_unchanged_knowledge_embeds_nothing(kb_copy, store, fake_embedder):
    counting = CountingEmbedder(fake_embedder)
    entries = load_knowledge(kb_copy).entries
    first = build_index(entries, counting, store)
    assert first.embedded_entries == first.entries > 40
    counting.texts.clear()
    second = build_index(entries, counting, store)
    assert (second.embedded_entries, second.generation, counting.texts) == (0, None, [])


def test_one_changed_entry_is_embedded_once(kb_copy, store, fake_embedder):
    counting = CountingEmbedder(fake_embedder)
    build_index(load_knowledge(kb_copy).entries, counting, store)
    counting.texts.clear()
    faq = kb_copy / "zaehler.yaml"
    text = faq.read_text(encoding="utf-8")
    faq.write_text(text.replace("Wie melde ich meinen Zählerstand?", "Wo gebe ich den Zählerstand ein?"), encoding="utf-8")
    kb = load_knowledge(kb_copy)
    report = build_index(kb.entries, counting, store)
    assert (report.added, report.changed, report.removed) == (0, 1, 0)
    assert counting.texts == list(kb.by_id()["zaehlerstand-melden"].phrasings)
    _, texts, vectors = KnowledgeIndex.open(store, counting).vectors()
    assert "Wo gebe ich den Zählerstand ein?" in texts and "Wie melde ich meinen Zählerstand?" not in texts
    assert vectors.shape == (len(texts), fake_embedder.dimensions)


def test_removed_entry_disappears_from_retrieval(kb_copy, store, fake_embedder):
    build_index(load_knowledge(kb_copy).entries, fake_embedder, store)
    _remove_entry(kb_copy, "zaehlerstand-melden")
    report = build_index(load_knowledge(kb_copy).entries, fake_embedder, store)
    assert report.removed == 1
    hits = Retriever(KnowledgeIndex.open(store, fake_embedder)).retrieve("Wie melde ich meinen Zählerstand?").hits
    assert hits and "zaehlerstand-melden" not in {h.entry_id for h in hits}


def test_an_entrys_own_question_finds_it_on_every_store(kb_copy, store, fake_embedder):
    entries = load_knowledge(kb_copy).entries
    build_index(entries, fake_embedder, store)
    retriever = Retriever(KnowledgeIndex.open(store, fake_embedder), {e.id: e.lang for e in entries})
    for entry in entries[::7]:
        assert retriever.retrieve(entry.question, lang=entry.lang).top.entry_id == entry.id


def test_answers_are_indexed_only_when_asked_and_switching_starts_afresh(kb_copy, store, fake_embedder):
    entries = load_knowledge(kb_copy).entries
    build_index(entries, fake_embedder, store)
    report = build_index(entries, fake_embedder, store, with_answers=True)
    assert report.embedded_texts == sum(len(e.phrasings) + 1 for e in entries)
    _, texts, _ = KnowledgeIndex.open(store, fake_embedder).vectors()
    assert entries[0].answer in texts and len(texts) == report.embedded_texts


def test_an_empty_store_is_refused_with_a_build_hint(store, fake_embedder):
    with pytest.raises(IndexMismatchError, match="botkit build"):
        KnowledgeIndex.open(store, fake_embedder)


def test_a_bot_runs_on_an_in_memory_index_and_writes_no_index_to_disk(kb_copy, tmp_path, fake_embedder):
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'botkit.db'}")
    with open_bot(kb_copy, settings, embedder=fake_embedder, vector_store=MemoryStore()) as bot:
        reply = bot.reply("c1", "Wie melde ich meinen Zählerstand?")
    assert reply.entries == ("zaehlerstand-melden",)
    assert not any(kb_copy.glob(".botkit*/index"))


def test_invalid_knowledge_indexes_nothing(kb_copy, tmp_path, fake_embedder):
    (kb_copy / "broken.yaml").write_text("- id: x\n  question: q\n")
    with pytest.raises(KnowledgeError):
        build(kb_copy, Settings(index_dir=tmp_path / "idx"), embedder=fake_embedder)
    assert not (tmp_path / "idx" / "index" / "CURRENT").exists()


def test_other_embedder_is_refused_with_rebuild_hint(kb_copy, tmp_path, fake_embedder):
    settings = Settings(index_dir=tmp_path / "idx", database_url=f"sqlite:///{tmp_path / 'db.sqlite'}")
    build(kb_copy, settings, embedder=fake_embedder)
    other = RenamedEmbedder(fake_embedder, "some-other-model")
    with pytest.raises(IndexMismatchError, match="--rebuild"):
        open_bot(kb_copy, settings, embedder=other)
    with pytest.raises(IndexMismatchError):
        KnowledgeIndex.open(vector_store_for(kb_copy, settings), other)
    _, report = build(kb_copy, settings, embedder=other, rebuild=True)
    assert report.embedded_entries == report.entries
    KnowledgeIndex.open(vector_store_for(kb_copy, settings), other)


KILLED_BUILD = """
import sys, time
import botkit.index
from botkit import Settings, build

botkit.index._BATCH = 16  # many small batches, so the kill lands mid-build
from botkit.testing import FakeEmbedder

class Slow:
    def __init__(self, inner):
        self._inner, self.model_id, self.version = inner, inner.model_id, inner.version
    def embed(self, texts):
        print("embedding", flush=True)
        time.sleep(0.2)
        return self._inner.embed(texts)

build(sys.argv[1], Settings(index_dir=sys.argv[2]), embedder=Slow(FakeEmbedder()), rebuild=True)
"""


def test_killed_build_leaves_previous_index_answering(kb_copy, tmp_path, fake_embedder):
    settings = Settings(index_dir=tmp_path / "idx")
    build(kb_copy, settings, embedder=fake_embedder)
    before = (tmp_path / "idx" / "index" / "CURRENT").read_text()
    proc = subprocess.Popen([sys.executable, "-c", KILLED_BUILD, str(kb_copy), str(tmp_path / "idx")], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "embedding"
    proc.stdout.readline()  # the second batch: the new generation is half written
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    assert (tmp_path / "idx" / "index" / "CURRENT").read_text() == before
    index = KnowledgeIndex.open(vector_store_for(kb_copy, settings), fake_embedder)
    retrieval = Retriever(index).retrieve("Wie melde ich meinen Zählerstand?")
    assert retrieval.top is not None and retrieval.top.entry_id == "zaehlerstand-melden"
    _, report = build(kb_copy, settings, embedder=fake_embedder)  # the next build cleans up and is incremental
    assert report.generation is None
    assert sorted(p.name for p in (tmp_path / "idx" / "index").glob("gen-*")) == [before]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def chroma_server(tmp_path):
    """A real `chroma run` server on 127.0.0.1."""
    chroma = Path(sys.executable).with_name("chroma")
    port = _free_port()
    proc = subprocess.Popen(
        [str(chroma), "run", "--path", str(tmp_path / "server"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("chroma run did not start within 60 s")
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=30)


def test_chroma_server_mode_builds_incrementally_and_answers(kb_copy, tmp_path, fake_embedder, chroma_server):
    settings = Settings(chroma_url=chroma_server, database_url=f"sqlite:///{tmp_path / 'db.sqlite'}")
    _, first = build(kb_copy, settings, embedder=fake_embedder)
    assert first.embedded_entries == first.entries
    faq = kb_copy / "zaehler.yaml"
    faq.write_text(faq.read_text(encoding="utf-8").replace("Wie melde ich meinen Zählerstand?", "Zählerstand eingeben?"), encoding="utf-8")
    _, second = build(kb_copy, settings, embedder=fake_embedder)
    assert (second.changed, second.embedded_entries) == (1, 1)
    bot = open_bot(kb_copy, settings, embedder=fake_embedder)
    reply = bot.reply("c1", "Zählerstand eingeben?")  # only the new generation has this phrasing
    assert reply.entries == ("zaehlerstand-melden",)
    bot.close()
