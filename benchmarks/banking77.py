"""Banking77 with 10 intents held out as unknown: does the bot answer known intents and hand over the rest?

Each known intent becomes one FaqEntry whose question and paraphrases are its training rows
(all of them, or 5). Tuning cases are a held-out part of train, including the unknown
intents' rows; thresholds are picked there (`balanced`, and `few-wrong` with its
suggestion band); test is only evaluated. Three seeds (which intents are unknown, which
rows tune), reported as their mean.
"""

from __future__ import annotations

import csv
import random
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from benchmarks.harness import DATASETS, Case, band_scores, escalation_scores, evaluate, open_retrievers, tuned_few_wrong, tuned_threshold
from botkit.protocols import Embedder
from botkit.types import FaqEntry

FOLDER = DATASETS / "banking77"
SEED = 13
SEEDS = (0, 1, 2)
UNKNOWN = 10
TUNE_FRACTION = 0.2
TARGETS = {"all": {"auroc": 0.90, "few_wrong_wrong_answer_rate": 0.05, "few_wrong_resolved_rate": 0.85}, "5": {}}


def _rows(name: str) -> list[tuple[str, str]]:
    with open(FOLDER / name, newline="", encoding="utf-8") as handle:
        return [(r["text"].strip(), r["category"]) for r in csv.DictReader(handle)]


def split(seed: int = SEED) -> tuple[dict[str, list[str]], list[Case], list[Case]]:
    """Knowledge phrasings per known intent, tuning cases (from train) and test cases."""
    rng = random.Random(seed)
    train, test = _rows("train.csv"), _rows("test.csv")
    intents = sorted({c for _, c in train})
    unknown = set(rng.sample(intents, UNKNOWN))
    by_intent: dict[str, list[str]] = defaultdict(list)
    for text, intent in train:
        by_intent[intent].append(text)
    knowledge: dict[str, list[str]] = {}
    tuning: list[Case] = []
    for intent in intents:
        texts = by_intent[intent][:]
        rng.shuffle(texts)
        held = round(len(texts) * TUNE_FRACTION)
        expected = None if intent in unknown else intent
        tuning += [Case(t, expected) for t in texts[:held]]
        if intent not in unknown:
            knowledge[intent] = texts[held:]
    cases = [Case(t, None if c in unknown else c) for t, c in test]
    return knowledge, tuning, cases


def entries(knowledge: dict[str, list[str]], per_intent: int | None) -> list[FaqEntry]:
    """One entry per intent; its phrasings are the intent's rows (the first `per_intent` after shuffling)."""
    out = []
    for intent, texts in knowledge.items():
        texts = texts[:per_intent] if per_intent else texts
        out.append(
            FaqEntry(
                id=intent,
                question=texts[0],
                answer=f"About {intent.replace('_', ' ')}.",
                topic="banking",
                scope="service",
                lang="en",
                paraphrases=tuple(texts[1:]),
            )
        )
    return out


def run(embedder: Embedder, methods: Sequence[str] = ("botkit",), quick: bool = False) -> dict[str, object]:
    """Both variants (all rows, 5 per intent) for each method and seed; `quick` evaluates every 4th test case."""
    per_seed: dict[str, dict[str, list[dict[str, object]]]] = {m: {"all": [], "5": []} for m in methods}
    for seed in SEEDS:
        knowledge, tuning, test = split(seed)
        if quick:
            test = test[::4]
        for name, per_intent in (("all", None), ("5", 5)):
            with tempfile.TemporaryDirectory() as folder:
                retrievers = open_retrievers(entries(knowledge, per_intent), Path(folder), embedder, methods)
                for method, retriever in retrievers.items():
                    started = time.perf_counter()
                    tuned, tested = evaluate(retriever, tuning), evaluate(retriever, test)
                    scores = escalation_scores(tested, tuned_threshold(tuned, embedder))
                    few = {f"few_wrong_{k}": v for k, v in band_scores(tested, tuned_few_wrong(tuned, embedder)).items()}
                    per_seed[method][name].append({**scores, **few, "seconds": round(time.perf_counter() - started, 1)})
    results = {m: {name: _mean(rows) for name, rows in variants.items()} for m, variants in per_seed.items()}
    return {
        "dataset": "banking77",
        "seeds": list(SEEDS),
        "quick": quick,
        "methods": results,
        "per_seed": per_seed,
        "targets": TARGETS,
    }


def _mean(rows: list[dict[str, object]]) -> dict[str, object]:
    """Mean over seeds of every number (None where a seed has none)."""
    keys = rows[0].keys()
    out: dict[str, object] = {}
    for key in keys:
        values = [r[key] for r in rows]
        numbers = [float(v) for v in values if isinstance(v, (int, float))]
        out[key] = float(np.mean(numbers)) if len(numbers) == len(values) else None
    return out
