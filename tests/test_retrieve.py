"""The retriever's documented properties: confidence scale, one hit per entry, margin, language preference."""

from __future__ import annotations

import numpy as np
import pytest

from botkit.index import KnowledgeIndex, build_index
from botkit.knowledge import load_knowledge
from botkit.providers.chroma import ChromaStore
from botkit.retrieve import _SHORTLIST as SHORTLIST
from botkit.retrieve import Retriever, whitening
from botkit.scoring.fused import confidences
from botkit.types import FaqEntry
from tests.conftest import SAMPLE

QUESTIONS = [
    ("Wie melde ich meinen Zählerstand?", "de"),
    ("How do I submit my meter reading?", "en"),
    ("zählerstand eintragen, wo geht das", "de"),
    ("Wie wird das Wetter morgen in Rom?", "de"),
    ("What is the capital of Peru?", "en"),
    ("Rechnung", None),
]


@pytest.fixture(scope="module")
def retriever(sample_index_dir, embedder) -> Retriever:
    index = KnowledgeIndex.open(ChromaStore(sample_index_dir / "index"), embedder)
    return Retriever(index, {e.id: e.lang for e in load_knowledge(SAMPLE).entries})


@pytest.mark.parametrize(("text", "lang"), QUESTIONS)
def test_confidence_and_every_hit_score_lie_in_zero_to_one_best_first(retriever, text, lang):
    found = retriever.retrieve(text, lang=lang)
    scores = [h.score for h in found.hits]
    assert 0.0 <= found.confidence <= 1.0 and all(0.0 <= s <= 1.0 for s in scores)
    assert scores == sorted(scores, reverse=True) and found.confidence == scores[0]


@pytest.mark.parametrize(("text", "lang"), QUESTIONS)
def test_hits_are_one_per_entry_and_at_most_the_limit(retriever, text, lang):
    found = retriever.retrieve(text, lang=lang, limit=4)
    ids = [h.entry_id for h in found.hits]
    assert len(ids) == len(set(ids)) == 4


@pytest.mark.parametrize(("text", "lang"), QUESTIONS)
def test_margin_is_the_lead_over_the_runner_up_on_the_confidence_scale(retriever, text, lang):
    found = retriever.retrieve(text, lang=lang)
    assert found.margin == pytest.approx(found.hits[0].score - found.hits[1].score)


def test_a_verbatim_phrasing_is_more_confident_than_an_unrelated_question(retriever):
    verbatim = retriever.retrieve("Wie melde ich meinen Zählerstand?", lang="de")
    unrelated = retriever.retrieve("Wie wird das Wetter morgen in Rom?", lang="de")
    assert verbatim.top.entry_id == "zaehlerstand-melden"
    assert verbatim.top.matched == "Wie melde ich meinen Zählerstand?"
    assert verbatim.confidence > 0.8 > 0.45 > unrelated.confidence


def test_each_language_gets_its_own_twin_entry(retriever):
    german = retriever.retrieve("Wie kann ich meinen Zählerstand übermitteln?", lang="de")
    english = retriever.retrieve("How can I send you my meter reading?", lang="en")
    assert german.top.entry_id == "zaehlerstand-melden" and english.top.entry_id == "en-meter-reading"
    assert "en-meter-reading" not in [h.entry_id for h in german.hits]


def test_a_close_runner_up_lowers_the_confidence():
    clear, tied = confidences(np.array([8.0, 3.0, 2.0])), confidences(np.array([8.0, 7.9, 2.0]))
    assert tied[0] < clear[0] and tied[0] - tied[1] < clear[0] - clear[1]


def test_a_higher_score_never_lowers_the_confidence():
    low, high = confidences(np.array([6.0, 3.0])), confidences(np.array([7.0, 3.0]))
    assert high[0] > low[0]


def test_confidences_keep_the_order_of_the_scores_and_lie_in_zero_to_one():
    scores = np.random.default_rng(1).normal(0, 10, 50)
    values = confidences(scores)
    assert ((0 <= values) & (values <= 1)).all()
    assert np.array_equal(np.argsort(-scores, kind="stable"), np.argsort(-values, kind="stable"))


def test_one_phrasing_per_entry_means_plain_cosine_similarity():
    vectors = np.random.default_rng(0).standard_normal((5, 8)).astype(np.float32)
    assert np.array_equal(whitening(vectors, np.arange(5)), np.eye(8, dtype=np.float32))


def test_whitening_discounts_the_directions_in_which_paraphrases_differ():
    # Two entries whose paraphrases vary only along axis 0; the entries differ along axis 1.
    vectors = np.array([[1, 1, 0], [-1, 1, 0], [1, -1, 0], [-1, -1, 0]], dtype=np.float32)
    scale = np.linalg.norm(whitening(vectors, np.array([0, 2])), axis=1)
    assert scale[0] < scale[1] and scale[1] == pytest.approx(scale[2])


def test_a_knowledge_base_above_the_shortlist_still_finds_each_entrys_own_words(tmp_path, embedder):
    topics = ["invoice", "meter", "contract", "payment", "password", "tariff", "moving", "outage", "solar", "charging"]
    actions = ["change", "cancel", "find", "pay", "report", "download", "reset", "check", "send", "understand"]
    things = ["today", "online", "by phone", "for my flat", "abroad"]
    entries = [
        FaqEntry(id=f"e{i:03d}", question=f"How do I {a} my {t} {w}?", answer="See the portal.", topic="t", scope="service", lang="en")
        for i, (t, a, w) in enumerate((t, a, w) for t in topics for a in actions for w in things)
    ]
    store = ChromaStore(tmp_path / "index")
    build_index(entries, embedder, store)
    large = Retriever(KnowledgeIndex.open(store, embedder), {e.id: e.lang for e in entries})
    assert len(entries) > SHORTLIST
    for entry in entries[::37]:
        found = large.retrieve(entry.question, lang="en")
        assert found.top.entry_id == entry.id and found.top.matched == entry.question
        assert len({h.entry_id for h in found.hits}) == len(found.hits) == 5
