"""German COVID FAQ (deepset): do colloquial user questions find the official FAQ entry?

Knowledge = the German rows of `faq_200322_16.tsv`; queries = the user questions
(`question_2`) of positive pairs in `eval_question_similarity_de.csv` whose official
question is in that knowledge. Rows with the same question (several sources) all count
as right. The queries are split, seeded and by official question, into a development
half (used to choose the retrieval method) and a held-out half (reported); "all" is
reported too, to compare with the issue's baseline.
"""

from __future__ import annotations

import csv
import random
import tempfile
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from benchmarks.harness import DATASETS, open_retrievers
from botkit.protocols import Embedder
from botkit.types import FaqEntry, Retrieval

Query = tuple[str, frozenset[str]]  # user question, ids of the rows that are right

FOLDER = DATASETS / "deepset-covid-faq-de"
SEED = 13
TARGETS = {"top1": 0.35, "top3": 0.55}


def _normal(text: str) -> str:
    return " ".join(text.lower().split())


def load() -> tuple[list[FaqEntry], list[Query], list[Query]]:
    """The entries, the development cases and the held-out cases."""
    with open(FOLDER / "faq_200322_16.tsv", newline="", encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle, delimiter="\t") if r["lang"] == "de"]
    entries = [
        FaqEntry(id=f"faq-{i:03d}", question=r["question"].strip(), answer=r["answer"].strip(), topic="covid", scope="service", lang="de")
        for i, r in enumerate(rows)
    ]
    ids_by_question: dict[str, set[str]] = defaultdict(set)
    for entry in entries:
        ids_by_question[_normal(entry.question)].add(entry.id)
    with open(FOLDER / "eval_question_similarity_de.csv", newline="", encoding="utf-8") as handle:
        pairs = [r for r in csv.DictReader(handle) if r["similar"] == "1" and _normal(r["question_1"]) in ids_by_question]
    groups = sorted({_normal(r["question_1"]) for r in pairs})
    dev_groups = set(random.Random(SEED).sample(groups, len(groups) // 2))
    dev, held_out = [], []
    for r in pairs:
        case = (r["question_2"].strip(), frozenset(ids_by_question[_normal(r["question_1"])]))
        (dev if _normal(r["question_1"]) in dev_groups else held_out).append(case)
    return entries, dev, held_out


def top_k(retrievals: Sequence[Retrieval], queries: Sequence[Query], k: int) -> float:
    return float(np.mean([any(h.entry_id in right for h in r.hits[:k]) for r, (_, right) in zip(retrievals, queries)]))


def run(embedder: Embedder, methods: Sequence[str] = ("botkit",), quick: bool = False) -> dict[str, object]:
    """Top-1/top-3 of each method with questions only and with answers indexed too (`quick` changes nothing)."""
    entries, dev, held_out = load()
    results: dict[str, dict[str, object]] = {m: {} for m in methods}
    for name, with_answers in (("questions", False), ("questions+answers", True)):
        with tempfile.TemporaryDirectory() as folder:
            retrievers = open_retrievers(entries, Path(folder), embedder, methods, with_answers=with_answers)
            for method, retriever in retrievers.items():
                scores: dict[str, object] = {}
                for part, queries in (("held_out", held_out), ("dev", dev), ("all", [*dev, *held_out])):
                    found = [retriever.retrieve(text, lang="de") for text, _ in queries]
                    scores[part] = {"top1": top_k(found, queries, 1), "top3": top_k(found, queries, 3), "queries": len(queries)}
                results[method][name] = scores
    return {"dataset": "deepset-covid-faq-de", "seed": SEED, "entries": len(entries), "quick": quick, "methods": results, "targets": TARGETS}
