"""Does `few-wrong` chosen on a small tuning set hold on other cases? Resampled within TUNING cases only.

Families' tuning cases (the sample's `tune-cases.csv`; Banking77 seeds 0-2 tuning parts; three German FAQ subsets'
development questions, as in `default_threshold.py`) are split at random many times: `few-wrong` is tuned on a
small part (the sample: half; the others: 71 cases, the size of the sample's tune set) and checked on the rest.
Reported per `SAFETY` (standard errors kept below the bound): mean wrong-answer and resolved rates on the check
part, and the share of draws whose check part has more wrong answers than the bound.

    python -m benchmarks.few_wrong_safety [--draws 10] [--safety 0 1 2]
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from benchmarks import banking77, german_faq
from benchmarks.default_threshold import SUBSET_SEEDS, _subset_cases
from benchmarks.harness import NEVER, CachedEmbedder, Case, band_scores, evaluate
from benchmarks.scorer_variants import CACHE, retriever
from botkit.errors import ConfigError
from botkit.evaluation import tuning
from botkit.evaluation.cases import load_cases
from botkit.evaluation.metrics import CaseResult
from botkit.knowledge import load_knowledge
from botkit.protocols import Embedder

ROOT = Path(__file__).resolve().parent.parent
SMALL = 71  # cases tuned on per draw (the sample's tune set)


def groups(embedder: Embedder) -> dict[str, list[CaseResult]]:
    """Every family's tuning results, one group per knowledge base."""
    out: dict[str, list[CaseResult]] = {}
    entries = load_knowledge(ROOT / "knowledge").entries
    cases = [Case(c.question, c.expected_id, c.lang) for c in load_cases(ROOT / "evaluations" / "data" / "tune-cases.csv")]
    out["sample"] = evaluate(retriever(entries, embedder, True), cases)
    for seed in banking77.SEEDS:
        knowledge, tuning_cases, _ = banking77.split(seed)
        out[f"banking77-{seed}"] = evaluate(retriever(banking77.entries(knowledge, None), embedder, True), tuning_cases)
    faq, dev, held_out = german_faq.load()
    dev_ids = sorted({i for _, right in dev for i in right})
    held_ids = sorted({i for _, right in held_out for i in right})
    quiet = sorted({e.id for e in faq} - set(dev_ids) - set(held_ids))
    for seed in SUBSET_SEEDS:
        rng = random.Random(seed)
        chosen = set(rng.sample(dev_ids, 15) + rng.sample(held_ids, 15) + rng.sample(quiet, 10))
        subset = [e for e in faq if e.id in chosen]
        out[f"german-{seed}"] = evaluate(retriever(subset, embedder, True), _subset_cases(dev, chosen), lang="de")
    return out


def draws(results: Sequence[CaseResult], count: int, embedder: Embedder) -> list[dict[str, float | None]]:
    """Tune on a small random part, check on the rest, `count` times."""
    size = min(SMALL, len(results) // 2)
    out = []
    for draw in range(count):
        order = list(results)
        random.Random(draw).shuffle(order)
        small, rest = order[:size], order[size:]
        if not any(r.in_scope for r in small):
            continue
        try:
            calibration = tuning.tune(small, embedder, max_wrong_answers=tuning.MAX_WRONG_ANSWERS, max_misses=NEVER)
        except ConfigError:
            out.append({"resolved_rate": None, "wrong_answer_rate": None})
            continue
        out.append(band_scores(rest, calibration))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--draws", type=int, default=10)
    parser.add_argument("--safety", type=float, nargs="*", default=[0.0, 1.0, 2.0])
    args = parser.parse_args()
    from botkit.providers.embedders import USEEmbedder

    embedder = CachedEmbedder(USEEmbedder(), CACHE)
    families = groups(embedder)
    embedder.save()
    for safety in args.safety:
        tuning.SAFETY = safety
        summary = []
        for name, results in families.items():
            rows = draws(results, args.draws, embedder)
            ok = [r for r in rows if r["wrong_answer_rate"] is not None]
            wrong = np.array([r["wrong_answer_rate"] for r in ok], dtype=float)
            resolved = np.array([r["resolved_rate"] for r in ok], dtype=float)
            summary.append((wrong.mean(), (wrong > tuning.MAX_WRONG_ANSWERS).mean(), resolved.mean()))
            print(
                f"safety {safety:g} {name:12} check wrong {wrong.mean():.3f} (over bound in {(wrong > tuning.MAX_WRONG_ANSWERS).mean():.0%}) "
                f"resolved {resolved.mean():.3f}, no calibration in {len(rows) - len(ok)} of {len(rows)}",
                flush=True,
            )
        mean = np.mean(np.array(summary), axis=0)
        print(f"safety {safety:g} ALL mean check wrong {mean[0]:.3f} over bound in {mean[1]:.0%} resolved {mean[2]:.3f}", flush=True)


if __name__ == "__main__":
    main()
