"""Vectors kept on disk for the next process (`embed_once`): read back exactly, refreshed when anything they depend on changes."""

from __future__ import annotations

import numpy as np
import pytest

from botkit import Settings, open_bot
from botkit.embedcache import embed_once
from botkit.policy.intents import IntentMatcher, load_utterances
from botkit.testing import FakeEmbedder

TEXTS = ["Hallo", "Danke schön", "Ich möchte mit einem Menschen sprechen", "STOP"]


class CountingEmbedder:
    """An embedder that counts the texts it is asked to embed."""

    def __init__(self, inner, version: str | None = None) -> None:
        self.inner, self.texts = inner, 0
        self.model_id, self.version = inner.model_id, version or inner.version

    def embed(self, texts):
        self.texts += len(texts)
        return self.inner.embed(texts)


def stored(folder, name="vectors"):
    return sorted(p.name for p in folder.glob(f"{name}-*.npy"))


def test_a_second_process_reads_the_vectors_instead_of_embedding(tmp_path):
    first, second = CountingEmbedder(FakeEmbedder()), CountingEmbedder(FakeEmbedder())
    written = embed_once(first, TEXTS, tmp_path, "vectors")
    read = embed_once(second, TEXTS, tmp_path, "vectors")
    assert first.texts == len(TEXTS) and second.texts == 0
    assert read.dtype == np.float32 and np.array_equal(read, written) and np.array_equal(read, FakeEmbedder().embed(TEXTS))
    assert len(stored(tmp_path)) == 1 and not list(tmp_path.glob(".*.tmp"))


@pytest.mark.parametrize(
    ("embedder", "texts"),
    [
        (CountingEmbedder(FakeEmbedder(), version="2"), TEXTS),  # another version of the model
        (CountingEmbedder(FakeEmbedder(dimensions=64)), TEXTS),  # another model (its version says so)
        (CountingEmbedder(FakeEmbedder()), [*TEXTS, "Tschüss"]),  # another text
        (CountingEmbedder(FakeEmbedder()), TEXTS[::-1]),  # the same texts in another order
    ],
)
def test_another_model_version_or_text_embeds_afresh_and_replaces_the_old_file(tmp_path, embedder, texts):
    embed_once(FakeEmbedder(), TEXTS, tmp_path, "vectors")
    before = stored(tmp_path)
    vectors = embed_once(embedder, texts, tmp_path, "vectors")
    assert embedder.texts == len(texts) and np.array_equal(vectors, embedder.inner.embed(texts))
    assert len(stored(tmp_path)) == 1 and stored(tmp_path) != before


def test_files_of_other_names_are_left_alone(tmp_path):
    embed_once(FakeEmbedder(), TEXTS, tmp_path, "vectors")
    embed_once(FakeEmbedder(), TEXTS[:2], tmp_path, "other")
    assert len(stored(tmp_path)) == 1 and len(stored(tmp_path, "other")) == 1


@pytest.mark.parametrize("damage", ["garbage", "truncated", "rows", "dtype"])
def test_a_damaged_file_is_embedded_again_and_rewritten(tmp_path, damage):
    embed_once(FakeEmbedder(), TEXTS, tmp_path, "vectors")
    (path,) = tmp_path.glob("vectors-*.npy")
    if damage == "garbage":
        path.write_bytes(b"not a numpy file")
    elif damage == "truncated":
        path.write_bytes(path.read_bytes()[:200])
    elif damage == "rows":
        np.save(path, FakeEmbedder().embed(TEXTS[:2]))
    else:
        np.save(path, FakeEmbedder().embed(TEXTS).astype(np.float64))
    embedder = CountingEmbedder(FakeEmbedder())
    assert np.array_equal(embed_once(embedder, TEXTS, tmp_path, "vectors"), FakeEmbedder().embed(TEXTS))
    assert embedder.texts == len(TEXTS)
    again = CountingEmbedder(FakeEmbedder())
    embed_once(again, TEXTS, tmp_path, "vectors")
    assert again.texts == 0


def test_a_folder_that_cannot_be_written_costs_only_the_embedding(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the folder should be")
    vectors = embed_once(FakeEmbedder(), TEXTS, blocker / "vectors", "vectors")
    assert np.array_equal(vectors, FakeEmbedder().embed(TEXTS))


def test_a_missing_folder_is_not_created(tmp_path):
    vectors = embed_once(FakeEmbedder(), TEXTS, tmp_path / "missing", "vectors")
    assert np.array_equal(vectors, FakeEmbedder().embed(TEXTS)) and not (tmp_path / "missing").exists()


def test_the_intent_matcher_reads_its_example_vectors_and_classifies_as_before(tmp_path):
    embedder = FakeEmbedder()  # the file holds what the embedder gave, whichever it is
    fresh = IntentMatcher(embedder)
    IntentMatcher(embedder, vectors_dir=tmp_path)
    counting = CountingEmbedder(embedder)
    read = IntentMatcher(counting, vectors_dir=tmp_path)
    assert counting.texts == 0
    assert np.array_equal(read._matrix, fresh._matrix) and np.array_equal(read._cased, fresh._cased)
    messages = ["Hallo!", "Danke, das hat geholfen", "Bist du ein Bot?", "Ich will einen Menschen", "Wann kommt meine Rechnung?"]
    assert [read.classify(m) for m in messages] == [fresh.classify(m) for m in messages]


def test_open_bot_keeps_the_example_vectors_beside_the_index_for_the_next_process(kb_copy, tmp_path):
    settings = Settings(index_dir=tmp_path / "data", database_url="sqlite://")
    open_bot(kb_copy, settings, embedder=FakeEmbedder()).close()
    assert len(stored(tmp_path / "data", "intent-examples")) == 1
    counting = CountingEmbedder(FakeEmbedder())  # another embedder object: as in a new process, no matcher is at hand
    bot = open_bot(kb_copy, settings, embedder=counting)
    examples = sum(len(texts) for texts in load_utterances()["examples"].values())
    assert counting.texts < examples  # at most a message or two, never the examples
    assert bot.reply("c1", "Hallo")
    bot.close()
