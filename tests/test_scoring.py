"""The scorer's parts: TF-IDF postings agree with the dense definition, the regression learns, refits do not block."""

from __future__ import annotations

import time
from collections import Counter

import numpy as np
import pytest

from botkit.scoring import refit
from botkit.scoring.refit import Fitter
from botkit.scoring.softmax import extend, fit_softmax
from botkit.scoring.tfidf import CharTfidf, grams, normalise

TEXTS = [
    "Wie melde ich meinen Zählerstand?",
    "Zählerstand online übermitteln",
    "Where is my invoice?",
    "How do I cancel my contract?",
    "Vertrag kündigen",
]


def dense_cosine(texts: list[str], query: str) -> np.ndarray:
    """Sublinear char 3-5-gram TF-IDF cosine written out densely, unseen query grams in the norm."""
    counted = [grams(t) for t in texts]
    vocabulary = sorted(set().union(*counted))
    df = Counter(g for c in counted for g in c)
    idf = {g: np.log((1 + len(texts)) / (1 + df[g])) + 1 for g in vocabulary}
    unseen = np.log(1 + len(texts)) + 1

    def vector(c: Counter[str], keys: list[str]) -> np.ndarray:
        return np.array([(1 + np.log(c[g])) * idf.get(g, unseen) if c[g] else 0.0 for g in keys])

    q = grams(query)
    keys = vocabulary + sorted(set(q) - set(vocabulary))
    rows = np.stack([vector(c, keys) for c in counted])
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    qv = vector(q, keys)
    return rows @ (qv / np.linalg.norm(qv))


@pytest.mark.parametrize("query", ["zählerstand melden", "cancel contract", "invoice where", "völlig anderes Thema xyz"])
def test_tfidf_postings_give_the_dense_cosine(query):
    assert np.allclose(CharTfidf(TEXTS).similarities(query), dense_cosine(TEXTS, query))


def test_tfidf_of_a_text_with_itself_is_one_and_of_unrelated_words_zero():
    found = CharTfidf(TEXTS).similarities("Vertrag kündigen")
    assert found[4] == pytest.approx(1.0) and found.argmax() == 4
    assert not CharTfidf(TEXTS).similarities("qqq zzz").any()


@pytest.mark.parametrize(
    ("written", "folded"),
    [
        ("Zählerstand", "zahlerstand"),
        ("Zaehlerstand", "zahlerstand"),
        ("ZÄHLERSTAND", "zahlerstand"),
        ("Straße", "strasse"),
        ("STRASSE", "strasse"),
        ("Übung Uebung", "ubung ubung"),
        ("Größe Groesse", "grosse grosse"),
        ("neue Frauen Quelle teuer", "neue frauen quelle teuer"),  # the e of eu, au, qu stays
        ("Café ñandú", "cafe nandu"),
        ("ﬁnden １２", "finden 12"),  # NFKC: ligature and full-width digits
        ("Zählerstand?", "zahlerstand?"),  # punctuation stays
    ],
)
def test_normalise_folds_case_umlauts_their_spellings_and_diacritics(written, folded):
    assert normalise(written) == folded


def test_umlaut_spellings_share_their_grams_and_score_alike():
    assert grams("Zaehlerstand") == grams("Zählerstand") == grams("zahlerstand")
    index = CharTfidf(TEXTS)
    for query in ("zaehlerstand melden", "zahlerstand melden", "Vertrag kuendigen"):
        assert np.allclose(index.similarities(query), index.similarities(query.replace("ae", "ä").replace("ue", "ü").replace("zah", "zäh")))
    assert index.similarities("zaehlerstand melden").argmax() == 0
    assert index.similarities("Vertrag kuendigen")[4] == pytest.approx(1.0)


def test_replaced_rows_are_normalised_as_a_fresh_build():
    old = CharTfidf(TEXTS)
    source = np.array([0, -1, 2, 3, 4])
    texts = [*TEXTS[:1], "Zaehlerstand per App uebermitteln", *TEXTS[2:]]
    replaced = old.replaced(source, [texts[1]])
    for query in ("Zählerstand übermitteln", "zahlerstand app", "Straße"):
        assert np.allclose(replaced.similarities(query), CharTfidf(texts).similarities(query))
    assert replaced.similarities("Zählerstand per App übermitteln")[1] == pytest.approx(1.0)


def clusters(seed: int, classes: int = 6, per: int = 20, dims: int = 16) -> tuple[np.ndarray, np.ndarray, list[str]]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(classes, dims))
    x = np.concatenate([c + 0.3 * rng.normal(size=(per, dims)) for c in centres]).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x, np.repeat(np.arange(classes), per), [f"e{i}" for i in range(classes)]


def test_the_regression_separates_clusters_it_was_not_shown_the_test_points_of():
    x, y, classes = clusters(0)
    model = fit_softmax(x[::2], y[::2], classes)
    held = np.array([model.logits(v).argmax() for v in x[1::2]])
    assert (held == y[1::2]).mean() >= 0.95


def test_a_warm_start_keeps_known_entries_and_starts_a_new_one_near_its_rows():
    x, y, classes = clusters(1)
    old = fit_softmax(x[y < 5], y[y < 5], classes[:5])
    grown = extend(old, x, y, classes)
    assert np.array_equal(grown.weights[:, :5], old.weights)
    new_rows = x[y == 5]
    assert np.mean([grown.logits(v).argmax() == 5 for v in new_rows]) >= 0.8


def test_a_small_change_answers_at_once_with_the_earlier_model_and_refits_in_the_background(monkeypatch):
    x, y, classes = clusters(2)
    first = Fitter(x, y, classes)
    assert not first.refitting
    edited = x.copy()
    edited[0] = x[1]  # one phrasing of the first entry rewritten
    slow = fit_softmax

    def slower(*args, **kwargs):
        time.sleep(2.0)
        return slow(*args, **kwargs)

    monkeypatch.setattr(refit, "fit_softmax", slower)
    started = time.perf_counter()
    second = Fitter(edited, y, classes)
    assert time.perf_counter() - started < 1.5 and second.refitting  # did not wait for the 2 s fit
    assert second.model.weights is not first.model.weights and np.array_equal(second.model.weights, first.model.weights)
    stand_in = second.model
    assert second.wait(30) and not second.refitting and second.model is not stand_in
    assert Fitter(edited, y, classes).model is second.model  # same rows: the fitted model is reused


def test_a_large_change_is_fitted_in_the_foreground():
    x, y, classes = clusters(3)
    Fitter(x[y < 3], y[y < 3], classes[:3])
    grown = Fitter(x, y, classes)  # twice the entries: the earlier model cannot stand in
    assert not grown.refitting and grown.model.classes == tuple(classes)
