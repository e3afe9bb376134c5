"""The Chroma index: incremental, atomic, tied to its embedder, on disk or on a server."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from botkit import IndexMismatchError, KnowledgeError, Settings, build, open_bot
from botkit.defaults import generations_for
from botkit.index import KnowledgeIndex
from botkit.retrieve import Retriever
from botkit.testing import CountingEmbedder, RenamedEmbedder


def test_unchanged_knowledge_embeds_nothing(kb_copy, tmp_path, embedder):
    settings = Settings(index_dir=tmp_path / "idx")
    counting = CountingEmbedder(embedder)
    _, first = build(kb_copy, settings, embedder=counting)
    assert first.embedded_entries == first.entries > 40
    counting.texts.clear()
    _, second = build(kb_copy, settings, embedder=counting)
    assert (second.embedded_entries, second.generation, counting.texts) == (0, None, [])


def test_one_changed_entry_is_embedded_once(kb_copy, tmp_path, embedder):
    settings = Settings(index_dir=tmp_path / "idx")
    counting = CountingEmbedder(embedder)
    build(kb_copy, settings, embedder=counting)
    counting.texts.clear()
    faq = kb_copy / "zaehler.yaml"
    faq.write_text(faq.read_text(encoding="utf-8").replace("Wie melde ich meinen Zählerstand?", "Wo gebe ich den Zählerstand ein?"), encoding="utf-8")
    _, report = build(kb_copy, settings, embedder=counting)
    assert (report.added, report.changed, report.removed) == (0, 1, 0)
    assert "Wo gebe ich den Zählerstand ein?" in counting.texts
    kb = build(kb_copy, settings, embedder=counting)[0]
    assert len(counting.texts) == len(kb.by_id()["zaehlerstand-melden"].phrasings)


def test_removed_entry_disappears_from_retrieval(kb_copy, tmp_path, embedder):
    settings = Settings(index_dir=tmp_path / "idx")
    build(kb_copy, settings, embedder=embedder)
    faq = kb_copy / "zaehler.yaml"
    text = faq.read_text(encoding="utf-8")
    start = text.index("- id: zaehlerstand-melden")
    end = text.find("\n- id:", start + 1)
    faq.write_text(text[:start] + (text[end + 1 :] if end != -1 else ""), encoding="utf-8")
    _, report = build(kb_copy, settings, embedder=embedder)
    assert report.removed == 1
    index = KnowledgeIndex.open(generations_for(kb_copy, settings), embedder)
    hits = Retriever(index).retrieve("Wie melde ich meinen Zählerstand?").hits
    assert "zaehlerstand-melden" not in {h.entry_id for h in hits}


def test_invalid_knowledge_indexes_nothing(kb_copy, tmp_path, embedder):
    (kb_copy / "broken.yaml").write_text("- id: x\n  question: q\n")
    with pytest.raises(KnowledgeError):
        build(kb_copy, Settings(index_dir=tmp_path / "idx"), embedder=embedder)
    assert not (tmp_path / "idx" / "index" / "CURRENT").exists()


def test_other_embedder_is_refused_with_rebuild_hint(kb_copy, tmp_path, embedder):
    settings = Settings(index_dir=tmp_path / "idx")
    build(kb_copy, settings, embedder=embedder)
    other = RenamedEmbedder(embedder, "some-other-model")
    with pytest.raises(IndexMismatchError, match="--rebuild"):
        open_bot(kb_copy, settings, embedder=other)
    with pytest.raises(IndexMismatchError):
        KnowledgeIndex.open(generations_for(kb_copy, settings), other)
    _, report = build(kb_copy, settings, embedder=other, rebuild=True)
    assert report.embedded_entries == report.entries
    KnowledgeIndex.open(generations_for(kb_copy, settings), other)


KILLED_BUILD = """
import sys, time
import botkit.index
from botkit import Settings, build

botkit.index._BATCH = 16  # many small batches, so the kill lands mid-build
from botkit.defaults import default_embedder

class Slow:
    def __init__(self, inner):
        self._inner, self.model_id, self.version = inner, inner.model_id, inner.version
    def embed(self, texts):
        print("embedding", flush=True)
        time.sleep(0.2)
        return self._inner.embed(texts)

build(sys.argv[1], Settings(index_dir=sys.argv[2]), embedder=Slow(default_embedder()), rebuild=True)
"""


def test_killed_build_leaves_previous_index_answering(kb_copy, tmp_path, embedder):
    settings = Settings(index_dir=tmp_path / "idx")
    build(kb_copy, settings, embedder=embedder)
    before = (tmp_path / "idx" / "index" / "CURRENT").read_text()
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_BUILD, str(kb_copy), str(tmp_path / "idx")], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "embedding"
    proc.stdout.readline()  # the second batch: the new generation is half written
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    assert (tmp_path / "idx" / "index" / "CURRENT").read_text() == before
    index = KnowledgeIndex.open(generations_for(kb_copy, settings), embedder)
    retrieval = Retriever(index).retrieve("Wie melde ich meinen Zählerstand?")
    assert retrieval.top is not None and retrieval.top.entry_id == "zaehlerstand-melden"
    _, report = build(kb_copy, settings, embedder=embedder)  # the next build cleans up and is incremental
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


def test_chroma_server_mode_builds_incrementally_and_answers(kb_copy, tmp_path, embedder, chroma_server):
    settings = Settings(chroma_url=chroma_server, database_url=f"sqlite:///{tmp_path / 'db.sqlite'}")
    _, first = build(kb_copy, settings, embedder=embedder)
    assert first.embedded_entries == first.entries
    faq = kb_copy / "zaehler.yaml"
    faq.write_text(faq.read_text(encoding="utf-8").replace("Wie melde ich meinen Zählerstand?", "Zählerstand eingeben?"), encoding="utf-8")
    _, second = build(kb_copy, settings, embedder=embedder)
    assert (second.changed, second.embedded_entries) == (1, 1)
    bot = open_bot(kb_copy, settings, embedder=embedder)
    reply = bot.reply("c1", "Zählerstand eingeben?")  # only the new generation has this phrasing
    assert reply.entries == ("zaehlerstand-melden",)
    bot.store.engine.dispose()
