"""Compare scorer variants on the TUNING splits only: Banking77 seeds 0-2 (tuning cases; `banking77-5`: 5 phrasings
per intent), the German FAQ development half, the sample knowledge base's `tune-cases.csv`, the within-entry split's
tuning half at k = 2 (`k2`, whose queries come from both German halves) and the within-entry split on the development
half's entries only (`k2dev`, which leaves the held-out half untouched).

Variants patch module constants or functions (`answer-*`: what of an answer is indexed; `prior-*`: the regression's
L2 as a penalty on the summed loss); `--base` applies variants under every measured one. The vector cache is
`BOTKIT_BENCHMARK_CACHE` (default: the benchmarks' shared cache in the temporary folder).

Each variant patches module constants of botkit's own scorer (`botkit.retrieve`, `botkit.scoring.*`) and runs
the real `Retriever` over an in-memory index of cached embeddings (no Chroma), so a variant costs seconds plus
the regression fits. Held-out and test splits are never scored here.

`german-written` is the development half written as messenger users do (umlauts as ae/oe/ue; or lower case, no
punctuation, umlauts without dots, ß as ss), to measure the TF-IDF normalisation's variants (`text-*`).

    python -m benchmarks.scorer_variants [--only banking77 banking77-5 german german-written sample k2 k2dev] [--variants NAME ...] [--base NAME ...]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import tempfile
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np

from benchmarks import banking77, german_faq, paraphrases
from benchmarks.harness import CachedEmbedder, Case, evaluate
from botkit import index, retrieve
from botkit.evaluation.metrics import CaseResult, hit_at, oos_auroc
from botkit.knowledge import load_knowledge
from botkit.protocols import Embedder
from botkit.scoring import fused, refit, softmax, tfidf
from botkit.types import FaqEntry

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(
    os.environ.get("BOTKIT_BENCHMARK_CACHE", Path(tempfile.gettempdir()) / "botkit-benchmark-embeddings.npz")
)  # the benchmarks' shared cache (see run.py --cache)

Patch = tuple[Any, str, Any]
_PUNCTUATION = re.compile(r"[^\w\s]+")
_EDGES = re.compile(r"(?<!\S)[^\w\s]+|[^\w\s]+(?!\S)")  # punctuation at the start or end of a word
_DIGRAPHS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss"})
_PLAIN = str.maketrans({"ä": "a", "ö": "o", "ü": "u", "ß": "ss"})
_FOLD = tfidf.normalise  # the shipped normalisation, kept here as variants patch `tfidf.normalise`


# Sentence ends: ".", "!" or "?" before a space and a capital or digit, or glued to a capitalised word ("Raum.Lüften",
# as text copied from web pages is); not after single letters with dots ("z. B.") or a common short form ("ggf.").
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-ZÄÖÜ0-9])|(?<=[a-zäöüß][.!?])(?=[A-ZÄÖÜ][a-zäöüß])")
_ABBREVIATION = re.compile(r"(?:\b[^\W\d_]\.\s?)+$|\b(?:bzw|ggf|usw|etc|ca|vgl|evtl|inkl|bspw|sog|dr|nr|abs|str|tel|min|max|mio|mrd)\.$", re.IGNORECASE)


def _sentences(text: str, min_words: int = 1) -> list[str]:
    """`text` split into sentences (see `_SENTENCE_END`), each of at least `min_words` words where the text allows."""
    out: list[str] = []
    for piece in _SENTENCE_END.split(text.strip()):
        if out and (_ABBREVIATION.search(out[-1]) or len(out[-1].split()) < min_words):
            out[-1] += " " + piece
        else:
            out.append(piece)
    return [p for p in out if p]


def _answer_texts(mode: str, min_words: int = 1) -> Patch:
    """Index variant: what of an entry's answer is embedded (and matched by TF-IDF) when answers are indexed."""

    def texts(entry: FaqEntry, with_answers: bool = False) -> list[str]:
        if not with_answers:
            return list(entry.phrasings)
        sentences = _sentences(entry.answer, min_words)
        extra = {
            "whole": [entry.answer],
            "sentences": sentences,
            "whole+sentences": [entry.answer, *sentences],
            "whole+first-two": [entry.answer, *sentences[:2]],
            "first": sentences[:1],
            "whole+first": [entry.answer, *sentences[:1]],
            "first-two-joined": [" ".join(sentences[:2])],
            "first-two": sentences[:2],
            "words-25": [" ".join(entry.answer.split()[:25])],
        }[mode]
        return [*entry.phrasings, *dict.fromkeys(t for t in extra if t not in entry.phrasings)]

    return (index, "index_texts", texts)


def _joined_pairs(text: str) -> str:
    """The normalised text plus each pair of adjacent words written as one ("kontakt person" -> "kontaktperson"):
    grams across word boundaries, so a compound meets its parts written apart."""
    words = _FOLD(text).split()
    return " ".join([*words, *(a + b for a, b in zip(words, words[1:]))])


def _prior(strength: float) -> Patch:
    """The regression's L2 as a fixed penalty on the summed loss: `strength / rows` on the mean (not shipped)."""

    def fit(features: np.ndarray, labels: np.ndarray, classes: Sequence[str], **options: Any) -> softmax.SoftmaxModel:
        return softmax.fit_softmax(features, labels, classes, **{**options, "l2": strength / max(len(features), 1)})

    return (refit, "fit_softmax", fit)


def _fit(**options: Any) -> Patch:
    return (softmax.fit_softmax, "__kwdefaults__", {**softmax.fit_softmax.__kwdefaults__, **options})


VARIANTS: dict[str, list[Patch]] = {
    "current": [],
    "centroid-1.0": [(retrieve, "_CENTROID_WEIGHT", 1.0)],
    "centroid-0.7": [(retrieve, "_CENTROID_WEIGHT", 0.7)],
    "l2-3e-6": [_fit(l2=3e-6)],
    "iterations-200": [(softmax, "ITERATIONS", 200)],
    "sharpness-12": [(fused, "SHARPNESS", 12.0)],
    "sharpness-16": [(fused, "SHARPNESS", 16.0)],
    "tfidf-0.25": [(fused, "WITH_REGRESSION", fused.Weights(1.0, 0.5, 0.25))],
    "tfidf-1.0": [(fused, "WITH_REGRESSION", fused.Weights(1.0, 0.5, 1.0))],
    "logit-0.5": [(fused, "WITH_REGRESSION", fused.Weights(0.5, 0.5, 0.5))],
    "no-regression": [(retrieve, "REGRESSION_LIMIT", 0)],
    "centroid-0.2": [(retrieve, "_CENTROID_WEIGHT", 0.2)],
    "l2-3e-5": [_fit(l2=3e-5)],
    "l2-1e-4": [_fit(l2=1e-4)],
    "l2-3e-4": [_fit(l2=3e-4)],
    "iterations-50": [(softmax, "ITERATIONS", 50)],
    "l2-1e-3": [_fit(l2=1e-3)],
    "prior-0.07": [_prior(0.07)],
    "prior-0.14": [_prior(0.14)],
    "prior-0.21": [_prior(0.21)],
    "prior-0.35": [_prior(0.35)],
    "sim-0.75": [(fused, "WITH_REGRESSION", fused.Weights(1.0, 0.75, 0.5))],
    "sim-1.0": [(fused, "WITH_REGRESSION", fused.Weights(1.0, 1.0, 0.5))],
    "sharpness-32": [(fused, "SHARPNESS", 32.0)],
    "text-lower": [(tfidf, "normalise", str.lower)],  # before the normalisation
    "text-nfkc": [(tfidf, "normalise", lambda t: unicodedata.normalize("NFKC", t).casefold())],
    "text-nfkc-punct": [(tfidf, "normalise", lambda t: _PUNCTUATION.sub(" ", unicodedata.normalize("NFKC", t).casefold()))],
    "text-expand": [(tfidf, "normalise", lambda t: _PUNCTUATION.sub(" ", unicodedata.normalize("NFKC", t).casefold()).translate(_DIGRAPHS))],
    "text-strip-umlauts": [(tfidf, "normalise", lambda t: _PUNCTUATION.sub(" ", unicodedata.normalize("NFKC", t).casefold()).translate(_PLAIN))],
    "text-fold-no-punct": [(tfidf, "normalise", lambda t: _FOLD(_PUNCTUATION.sub(" ", t)))],
    "text-fold-no-edges": [(tfidf, "normalise", lambda t: _EDGES.sub("", _FOLD(t)))],
    "text-min-common-10": [(tfidf, "MIN_COMMON", 10)],
    "text-common-2%-10": [(tfidf, "MIN_COMMON", 10), (tfidf, "COMMON", 0.02)],
    "text-sizes-2-5": [(tfidf, "_SIZES", (2, 3, 4, 5))],
    "text-joined-pairs": [(tfidf, "normalise", _joined_pairs)],
    "answer-sentences": [_answer_texts("sentences")],
    "answer-whole+sentences": [_answer_texts("whole+sentences")],
    "answer-whole+first-two": [_answer_texts("whole+first-two")],
    "answer-first-sentence": [_answer_texts("first")],
    "answer-first-sentence-3-words": [_answer_texts("first", 3)],
    "answer-first-sentence-6-words": [_answer_texts("first", 6)],
    "answer-first-sentence-10-words": [_answer_texts("first", 10)],
    "answer-whole+first-sentence": [_answer_texts("whole+first")],
    "answer-first-two-joined": [_answer_texts("first-two-joined")],
    "answer-first-two": [_answer_texts("first-two")],
    "answer-25-words": [_answer_texts("words-25")],
}


class MemoryIndex:
    """What `Retriever` reads from an index, from cached vectors (same texts and rows as `build_index`)."""

    def __init__(self, entries: Sequence[FaqEntry], embedder: Embedder, with_answers: bool) -> None:
        self.embedder = embedder
        rows = [(e.id, t) for e in entries for t in index.index_texts(e, with_answers)]
        self._ids = [i for i, _ in rows]
        self._texts = [t for _, t in rows]
        self._vectors = np.asarray(embedder.embed(self._texts), dtype=np.float32)

    def vectors(self) -> tuple[list[str], list[str], np.ndarray]:
        return list(self._ids), list(self._texts), self._vectors.copy()


@contextmanager
def patched(patches: Sequence[Patch]) -> Iterator[None]:
    with ExitStack() as stack:
        for target, name, value in patches:
            stack.enter_context(mock.patch.object(target, name, value))
        refit._models.clear()  # fitted models are remembered by their rows only, not by the fit's settings
        yield
        refit._models.clear()


def retriever(entries: Sequence[FaqEntry], embedder: Embedder, with_answers: bool) -> retrieve.Retriever:
    refit._models.clear()  # every knowledge base fitted from scratch, as a new client's is
    opened = retrieve.Retriever(MemoryIndex(entries, embedder, with_answers), {e.id: e.lang for e in entries})  # type: ignore[arg-type]
    if opened.fitter is not None:
        opened.fitter.wait()
    return opened


def answered_right_at(results: Sequence[CaseResult], bound: float = 0.05) -> float:
    """In-scope share answered right at the lowest threshold keeping wrong answers (all cases) <= bound."""
    confidence = np.array([r.confidence for r in results])
    right = np.array([r.in_scope and r.rank == 1 for r in results])
    n_in = sum(r.in_scope for r in results)
    best = 0.0
    for threshold in np.unique(confidence):
        answered = confidence >= threshold
        if (answered & ~right).sum() / len(results) <= bound:
            best = max(best, float((answered & right).sum()) / n_in)
    return best


def banking(embedder: Embedder) -> dict[str, float]:
    rows = []
    for seed in banking77.SEEDS:
        knowledge, tuning, _ = banking77.split(seed)
        results = evaluate(retriever(banking77.entries(knowledge, None), embedder, False), tuning)
        rows.append((hit_at(results, 1), oos_auroc(results), answered_right_at(results)))
    means = np.mean(np.array(rows, dtype=float), axis=0)
    return {"b77_top1": means[0], "b77_auroc": means[1], "b77_right@5%": means[2], **{f"b77_auroc_s{s}": r[1] for s, r in zip(banking77.SEEDS, rows)}}


def banking_few(embedder: Embedder) -> dict[str, float]:
    """Banking77 tuning splits with 5 phrasings per intent (few phrasings per entry)."""
    rows = []
    for seed in banking77.SEEDS:
        knowledge, tuning, _ = banking77.split(seed)
        results = evaluate(retriever(banking77.entries(knowledge, 5), embedder, False), tuning)
        rows.append((hit_at(results, 1), oos_auroc(results), answered_right_at(results)))
    means = np.mean(np.array(rows, dtype=float), axis=0)
    return {"b77few_top1": means[0], "b77few_auroc": means[1], "b77few_right@5%": means[2]}


def german(embedder: Embedder) -> dict[str, float]:
    entries, dev, _ = german_faq.load()
    out = {}
    for name, answers in (("q", False), ("qa", True)):
        opened = retriever(entries, embedder, answers)
        found = [opened.retrieve(text, lang="de") for text, _ in dev]
        out[f"de_{name}_top1"] = german_faq.top_k(found, dev, 1)
        out[f"de_{name}_top3"] = german_faq.top_k(found, dev, 3)
    return out


def _casual(text: str) -> str:
    """Lower case, no punctuation, umlauts without dots and ß as ss: "wie hoch ist mein zahlerstand"."""
    return " ".join("".join(c for c in text.lower() if c.isalnum() or c.isspace()).translate(_PLAIN).split())


def german_written(embedder: Embedder) -> dict[str, float]:
    """The development half written as messenger users do: umlauts as ae/oe/ue, and casually (see `_casual`)."""
    entries, dev, _ = german_faq.load()
    opened = retriever(entries, embedder, True)
    out = {}
    for name, rewrite in (("digraphs", lambda t: t.translate(_DIGRAPHS)), ("casual", _casual)):
        queries = [(rewrite(text), right) for text, right in dev]
        found = [opened.retrieve(text, lang="de") for text, _ in queries]
        out[f"de_{name}_top1"] = german_faq.top_k(found, queries, 1)
        out[f"de_{name}_top3"] = german_faq.top_k(found, queries, 3)
    return out


def sample(embedder: Embedder) -> dict[str, float]:
    from botkit.evaluation.cases import load_cases

    entries = load_knowledge(ROOT / "knowledge").entries
    cases = [Case(c.question, c.expected_id, c.lang) for c in load_cases(ROOT / "evaluations" / "data" / "tune-cases.csv")]
    results = evaluate(retriever(entries, embedder, True), cases)
    return {"sample_top1": hit_at(results, 1) or 0.0, "sample_auroc": oos_auroc(results) or 0.0, "sample_right@5%": answered_right_at(results)}


def within_entry(embedder: Embedder, k: int = 2) -> dict[str, float]:
    """The within-entry split's TUNING half (the half `paraphrases.py` tunes on), USE + answers, 5 seeds."""
    top1, aurocs = [], []
    for seed in paraphrases.SEEDS:
        entries, all_groups = paraphrases.groups(seed)
        order = all_groups[:]
        random.Random(seed).shuffle(order)
        n_oos = round(len(order) * paraphrases.OOS_SHARE)
        oos, kept = order[:n_oos], order[n_oos:]
        tuning_half = {g.ids for g in oos[::2]} | {g.ids for g in kept[::2]}
        confirmed, cases = {}, []
        for g in kept:
            paraphrase, queries = (g.questions, ()) if len(g.questions) <= k else (g.questions[:k], g.questions[k:])
            for row in g.ids:
                confirmed[row] = paraphrase
            if g.ids in tuning_half:
                cases += paraphrases._cases(g, queries, True)
        cases += [c for g in oos if g.ids in tuning_half for c in paraphrases._cases(g, g.questions, False)]
        alias = {row: min(g.ids) for g in kept for row in g.ids}
        knowledge = paraphrases.with_paraphrases(entries, confirmed, {row for g in oos for row in g.ids})
        results = paraphrases._relabel(evaluate(retriever(knowledge, embedder, True), cases, lang="de"), alias)
        top1.append(hit_at(results, 1))
        aurocs.append(oos_auroc(results))
    return {"k2_tune_top1": float(np.mean(top1)), "k2_tune_auroc": float(np.mean(aurocs))}


DEV_SEEDS = tuple(range(13, 23))


def within_entry_dev(embedder: Embedder, k: int = 2) -> dict[str, float]:
    """The within-entry split on the German development half's entries only (10 seeds), USE + answers.

    Touches neither the held-out half (its entries stay in the knowledge without paraphrases and are
    never asked) nor, for the held-out entries, the within-entry test queries `paraphrases.py` reports.
    Per seed a fifth of the development groups is left out (their questions must be handed over); of the
    others the first k user questions become paraphrases and the rest are queries.
    """
    _, dev, _ = german_faq.load()
    dev_ids = {right for _, right in dev}
    top1, top3, aurocs = [], [], []
    for seed in DEV_SEEDS:
        entries, all_groups = paraphrases.groups(seed)
        order = [g for g in all_groups if g.ids in dev_ids]
        random.Random(seed).shuffle(order)
        n_oos = round(len(order) * paraphrases.OOS_SHARE)
        oos, kept = order[:n_oos], order[n_oos:]
        confirmed, cases = {}, []
        for g in kept:
            if len(g.questions) <= k:
                continue
            for row in g.ids:
                confirmed[row] = g.questions[:k]
            cases += paraphrases._cases(g, g.questions[k:], True)
        cases += [c for g in oos for c in paraphrases._cases(g, g.questions, False)]
        alias = {row: min(g.ids) for g in all_groups for row in g.ids}
        knowledge = paraphrases.with_paraphrases(entries, confirmed, {row for g in oos for row in g.ids})
        results = paraphrases._relabel(evaluate(retriever(knowledge, embedder, True), cases, lang="de"), alias)
        top1.append(hit_at(results, 1))
        top3.append(hit_at(results, 3))
        aurocs.append(oos_auroc(results))
    return {"k2dev_top1": float(np.mean(top1)), "k2dev_top3": float(np.mean(top3)), "k2dev_auroc": float(np.mean(aurocs))}


PARTS = {
    "banking77": banking,
    "banking77-5": banking_few,
    "german": german,
    "german-written": german_written,
    "sample": sample,
    "k2": within_entry,
    "k2dev": within_entry_dev,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="*", default=list(PARTS), choices=list(PARTS))
    parser.add_argument("--variants", nargs="*", default=list(VARIANTS))
    parser.add_argument("--base", nargs="*", default=[], help="variants applied under every measured one")
    args = parser.parse_args()
    from botkit.providers.embedders import USEEmbedder

    embedder = CachedEmbedder(USEEmbedder(), CACHE)
    try:
        for name in args.variants:
            with patched([p for base in args.base for p in VARIANTS[base]] + VARIANTS[name]):
                row: dict[str, float] = {}
                for part in args.only:
                    row.update(PARTS[part](embedder))
            print(name, " ".join(f"{k}={v:.3f}" for k, v in row.items()), flush=True)
    finally:
        embedder.save()


if __name__ == "__main__":
    main()
