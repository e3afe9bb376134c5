"""A running bot picks up an edited knowledge base; a message is embedded once per reply; the TF-IDF build keeps its definition."""

from __future__ import annotations

import shutil
import threading
import time
from collections import Counter
from collections.abc import Sequence

import numpy as np
import pytest

from botkit import Settings, open_bot
from botkit.errors import KnowledgeError
from botkit.index import KnowledgeIndex
from botkit.providers.chroma import ChromaStore
from botkit.retrieve import Retriever
from botkit.scoring.tfidf import COMMON, MIN_COMMON, CharTfidf, grams
from botkit.testing import FakeEmbedder
from tests.conftest import SAMPLE

NEW_PHRASING = "Where do I find the zebra-striped loyalty voucher?"


class Counting:
    """An embedder that counts its calls and the texts it embedded."""

    def __init__(self, embedder: FakeEmbedder) -> None:
        self.inner = embedder
        self.model_id, self.version = embedder.model_id, embedder.version
        self.calls = 0
        self.texts: Counter[str] = Counter()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        self.texts.update(texts)
        return self.inner.embed(texts)


@pytest.fixture
def knowledge(tmp_path):
    folder = tmp_path / "knowledge"
    shutil.copytree(SAMPLE, folder)
    return folder


CSV = "english-faq.csv"
ENTRY, QUESTION = "en-meter-reading", "How do I submit my meter reading?"
ADDED = f"zebra-voucher;{NEW_PHRASING};Under Cards, then Vouchers.;vertrag;service;en;;;"


def edit(folder, old: str, new: str) -> None:
    path = folder / CSV
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def bot_on(folder, tmp_path, embedder, **settings):
    return open_bot(folder, Settings(index_dir=tmp_path / "data", database_url=f"sqlite:///{tmp_path / 'bot.db'}", **settings), embedder=embedder)


def test_a_changed_entry_answers_from_its_new_text_after_reload(knowledge, tmp_path):
    bot = bot_on(knowledge, tmp_path, FakeEmbedder())
    assert bot.retriever.retrieve(NEW_PHRASING).top.matched != NEW_PHRASING
    edit(knowledge, QUESTION, NEW_PHRASING)
    report = bot.reload()
    assert (report.changed, report.added, report.removed) == (1, 0, 0)
    top = bot.retriever.retrieve(NEW_PHRASING).top
    assert (top.entry_id, top.matched) == (ENTRY, NEW_PHRASING)
    assert QUESTION not in {h.matched for h in bot.retriever.retrieve(QUESTION, limit=20).hits}
    assert bot.knowledge.by_id()[ENTRY].question == NEW_PHRASING
    # At once the entry is answered or offered first; the background refit of the regression may
    # still be running (the previous model scores the new text), after it the entry is answered.
    assert bot.reply("c1", NEW_PHRASING).entries[0] == ENTRY
    assert bot.retriever.fitter is None or bot.retriever.fitter.wait(120)
    assert bot.reply("c2", NEW_PHRASING).entries == (ENTRY,)
    bot.close()


def test_a_removed_entry_is_gone_and_an_added_one_is_found(knowledge, tmp_path):
    bot = bot_on(knowledge, tmp_path, FakeEmbedder())
    line = next(line for line in (knowledge / CSV).read_text(encoding="utf-8").splitlines() if line.startswith(f"{ENTRY};"))
    edit(knowledge, line, ADDED)
    report = bot.reload()
    assert (report.added, report.changed, report.removed) == (1, 0, 1)
    assert bot.retriever.retrieve(NEW_PHRASING).top.entry_id == "zebra-voucher"
    assert ENTRY not in {h.entry_id for h in bot.retriever.retrieve(QUESTION, limit=50).hits}
    assert ENTRY not in bot.knowledge.by_id()
    assert bot.reply("c1", NEW_PHRASING).entries == ("zebra-voucher",)
    bot.close()


def test_a_reload_embeds_only_the_changed_entry_and_brings_the_index_on_disk_up_to_date(knowledge, tmp_path):
    embedder = Counting(FakeEmbedder())
    bot = bot_on(knowledge, tmp_path, embedder)
    edit(knowledge, QUESTION, NEW_PHRASING)
    embedder.texts.clear()
    report = bot.reload()
    assert report.embedded_texts == sum(embedder.texts.values()) == len(bot.knowledge.by_id()[ENTRY].phrasings) + 1  # and its answer
    assert embedder.texts[NEW_PHRASING] == 1
    bot.close()
    embedder.texts.clear()
    bot_on(knowledge, tmp_path, embedder).close()
    assert not embedder.texts  # the index on disk already held the new text


def test_an_updated_retriever_ranks_and_scores_like_a_fresh_one(knowledge, tmp_path):
    bot = bot_on(knowledge, tmp_path, FakeEmbedder(), index_answers=False)
    store = ChromaStore(tmp_path / "data" / "index")
    languages = {e.id: e.lang for e in bot.knowledge.entries}
    before = Retriever(KnowledgeIndex.open(store, FakeEmbedder()), languages, regression=False)
    entry = bot.knowledge.by_id()[ENTRY]
    texts = [NEW_PHRASING, *entry.paraphrases]
    after = before.updated({entry.id: (texts, FakeEmbedder().embed(texts))}, (), languages)
    edit(knowledge, entry.question, NEW_PHRASING)
    bot.close()
    bot = bot_on(knowledge, tmp_path, FakeEmbedder(), index_answers=False)
    fresh = Retriever(KnowledgeIndex.open(store, FakeEmbedder()), languages, regression=False)
    for text in [NEW_PHRASING, entry.answer, "Zählerstand melden", "Where is my invoice?"]:
        a, b = fresh.retrieve(text, limit=5), after.retrieve(text, limit=5)
        assert [h.entry_id for h in a.hits[:2]] == [h.entry_id for h in b.hits[:2]], text
        assert a.confidence == pytest.approx(b.confidence, abs=0.05), text
    bot.close()


def test_a_reply_during_reloads_never_fails_and_sees_one_version(knowledge, tmp_path):
    bot = bot_on(knowledge, tmp_path, FakeEmbedder())
    failures: list[BaseException] = []
    stop = threading.Event()

    def ask() -> None:
        n = 0
        while not stop.is_set():
            try:
                reply = bot.reply(f"c{n}", NEW_PHRASING if n % 2 else QUESTION)
                assert reply.messages
            except BaseException as exc:  # noqa: BLE001 - any failure fails the test
                failures.append(exc)
                return
            n += 1

    worker = threading.Thread(target=ask)
    worker.start()
    try:
        for i in range(4):
            edit(knowledge, *((QUESTION, NEW_PHRASING) if i % 2 == 0 else (NEW_PHRASING, QUESTION)))
            bot.reload()
    finally:
        stop.set()
        worker.join()
    assert not failures, failures
    bot.close()


def test_an_edit_outside_the_indexed_texts_is_swapped_in_without_embedding(knowledge, tmp_path):
    embedder = Counting(FakeEmbedder())
    bot = bot_on(knowledge, tmp_path, embedder, index_answers=False)
    answer = bot.knowledge.by_id()[ENTRY].answer
    edit(knowledge, answer, "Send us a photo of your meter in the app.")
    embedder.texts.clear()
    report = bot.reload()
    assert report.unchanged and not embedder.texts
    assert bot.reply("c1", QUESTION).messages[-1].text.startswith("Send us a photo of your meter")
    bot.close()


def test_knowledge_with_errors_is_refused_and_the_bot_keeps_answering(knowledge, tmp_path):
    bot = bot_on(knowledge, tmp_path, FakeEmbedder())
    before = bot.retriever.retrieve(QUESTION).top
    edit(knowledge, f"{ENTRY};{QUESTION}", f"Not A Slug!;{NEW_PHRASING}")
    with pytest.raises(KnowledgeError):
        bot.reload()
    assert bot.retriever.retrieve(QUESTION).top == before
    assert bot.reply("c1", QUESTION).entries == (ENTRY,)
    bot.close()


def test_the_watcher_reloads_an_edit_by_itself(knowledge, tmp_path):
    bot = bot_on(knowledge, tmp_path, FakeEmbedder(), reload_seconds=0.05)
    edit(knowledge, QUESTION, NEW_PHRASING)
    deadline = time.monotonic() + 30
    while bot.retriever.retrieve(NEW_PHRASING).top.matched != NEW_PHRASING:
        assert time.monotonic() < deadline, "the watcher did not reload"
        time.sleep(0.05)
    assert bot.retriever.retrieve(NEW_PHRASING).top.entry_id == ENTRY
    bot.close()


# one embedding per reply ------------------------------------------------------------------


def test_a_reply_embeds_the_message_once_in_one_call(knowledge, tmp_path, embedder):
    # The real embedder: the intent matcher's screen (policy/intents.py SCREEN_SLACK) is measured on it.
    counting = Counting(embedder)
    bot = bot_on(knowledge, tmp_path, counting)
    for n, message in enumerate(["When does my invoice come?", "Wann kommt meine Jahresabrechnung?"]):
        calls = counting.calls
        counting.texts.clear()
        bot.reply(f"user-{n}", message)
        assert counting.calls - calls == 1, message  # one text, shared by the intent matcher and the retriever
        assert counting.texts == {message: 1}, counting.texts
    # Near a kind ("kündbar" is close to the withdrawal examples) the matcher looks again, casefolded.
    counting.texts.clear()
    bot.reply("user-3", "Ist der Vertrag kündbar?")
    assert counting.texts == {"Ist der Vertrag kündbar?": 1, "ist der vertrag kündbar?": 1}, counting.texts
    bot.close()


# TF-IDF ---------------------------------------------------------------------------------------


def defined(texts: list[str], query: str) -> np.ndarray:
    """The TF-IDF cosine as defined (module docstring), one text at a time, with the common-gram cut."""
    counted = [grams(t) for t in texts]
    df = Counter(g for c in counted for g in c)
    n = len(texts)

    def weights(c: Counter[str]) -> dict[str, float]:
        return {g: (1 + np.log(k)) * (np.log((1 + n) / (1 + df.get(g, 0))) + 1) for g, k in c.items()}

    q = weights(grams(query))
    q_norm = np.sqrt(sum(v * v for v in q.values())) or 1e-12
    out = []
    for c in counted:
        d = weights(c)
        d_norm = np.sqrt(sum(v * v for v in d.values())) or 1e-12
        out.append(sum(q[g] * d[g] for g in q if g in d and df[g] <= max(COMMON * n, MIN_COMMON)) / (q_norm * d_norm))
    return np.array(out)


TEXTS = [
    "Wie melde ich meinen Zählerstand?",
    "Zählerstand online übermitteln",
    "Where is my invoice?",
    "a I ab abc",  # words shorter than the gram sizes count whole
    "",
    "Straße STRASSE straße 👍 — ok!!",
    "hello hello hello",
]


@pytest.mark.parametrize("query", ["zählerstand melden", "invoice where", "a ab", "straße 👍", "qqq zzz", "", "ÿ unseen ñ"])
def test_the_vectorised_tfidf_gives_the_defined_cosine(query):
    assert np.allclose(CharTfidf(TEXTS).similarities(query), defined(TEXTS, query), atol=1e-6)


def test_the_tfidf_of_a_large_alphabet_takes_the_slower_sort_and_the_same_definition():
    rng = np.random.default_rng(3)
    letters = [chr(0x4E00 + i) for i in range(2200)]
    texts = ["".join(rng.choice(letters, size=rng.integers(1, 7))) + " ab" for _ in range(300)]
    for query in (texts[0], texts[7][:3], "ab"):
        assert np.allclose(CharTfidf(texts).similarities(query), defined(texts, query), atol=1e-6)


def test_replacing_tfidf_rows_equals_building_from_scratch():
    old = CharTfidf(TEXTS)
    source = np.array([0, -1, 2, 3, -1, 5, 6])  # row 1 replaced, row 4 replaced (was empty); 7 rows
    new_texts = ["Zählerstand per App melden", "Ein ganz neuer Eintrag über Gutscheine"]
    expected_texts = [TEXTS[0], new_texts[0], TEXTS[2], TEXTS[3], new_texts[1], TEXTS[5], TEXTS[6]]
    replaced = old.replaced(source, new_texts)
    shrunk = old.replaced(np.array([2, 0, 6]), [])
    for query in ("zählerstand melden", "gutscheine", "hello", "invoice"):
        assert np.allclose(replaced.similarities(query), CharTfidf(expected_texts).similarities(query), atol=1e-6)
        assert np.allclose(shrunk.similarities(query), CharTfidf([TEXTS[2], TEXTS[0], TEXTS[6]]).similarities(query), atol=1e-6)
    assert np.allclose(old.similarities("invoice"), CharTfidf(TEXTS).similarities("invoice"))  # the old index is unchanged
