"""Where a new knowledge base's thresholds start: calibrated across several knowledge bases, with a transfer check.

Families of knowledge bases, each with tuning cases and held-out cases:
- the sample (`knowledge/`): `tune-cases.csv` / `cases.csv`;
- Banking77 (seeds 0-2, all rows): the tuning part of train / test (`benchmarks.banking77`);
- German COVID FAQ subsets of 40 entries (seeds 0-2): 15 entries whose user questions are in
  the development half, 15 from the held-out half, 10 without user questions; tuning cases
  are development questions (of the subset's entries: in scope; of other entries: out of
  scope), held-out cases the same from the held-out half.

The default is `botkit tune --objective few-wrong` over several knowledge bases at once, each
family weighing the same: the threshold and suggestion threshold (then the clarify margin)
with the highest mean `resolved_rate` over the families' tuning cases while the mean
`wrong_answer_rate` stays at or below 0.05 (`botkit.evaluation.tuning.few_wrong_limits`). Leave-one-dataset-out: calibrated on the other families, evaluated
on the left-out family's held-out cases, beside that family's own tuned calibration.
Run: `python -m benchmarks.default_threshold` (results in `benchmarks/results/default_threshold.json`).
"""

from __future__ import annotations

import random
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from benchmarks import banking77, german_faq
from benchmarks.harness import NEVER, CachedEmbedder, Case, band_scores, evaluate, open_retrievers, tuned_few_wrong, write_result
from botkit.calibration import Calibration
from botkit.config import Settings
from botkit.evaluation.cases import load_cases
from botkit.evaluation.metrics import CaseResult, redecide, resolved_rate, wrong_answer_rate
from botkit.evaluation.tuning import MARGINS, MAX_WRONG_ANSWERS, few_wrong_limits
from botkit.knowledge import load_knowledge
from botkit.policy.escalation import Thresholds
from botkit.protocols import Embedder

ROOT = Path(__file__).resolve().parents[1]
SUBSET_SEEDS = (0, 1, 2)
ANSWERS = Settings().index_answers  # the default a new knowledge base gets
Family = tuple[list[CaseResult], list[CaseResult]]  # tuning results, held-out results


def sample_family(embedder: Embedder) -> Family:
    kb = load_knowledge(ROOT / "knowledge")
    tune_cases = [Case(c.question, c.expected_id, c.lang) for c in load_cases(ROOT / "evaluations" / "data" / "tune-cases.csv")]
    held_cases = [Case(c.question, c.expected_id, c.lang) for c in load_cases(ROOT / "evaluations" / "data" / "cases.csv")]
    with tempfile.TemporaryDirectory() as folder:
        retriever = open_retrievers(kb.entries, Path(folder), embedder, ["botkit"], ANSWERS)["botkit"]
        return evaluate(retriever, tune_cases), evaluate(retriever, held_cases)


def banking_family(embedder: Embedder) -> Family:
    tuned: list[CaseResult] = []
    held: list[CaseResult] = []
    for seed in banking77.SEEDS:
        knowledge, tuning, test = banking77.split(seed)
        with tempfile.TemporaryDirectory() as folder:
            retriever = open_retrievers(banking77.entries(knowledge, None), Path(folder), embedder, ["botkit"], ANSWERS)["botkit"]
            tuned += evaluate(retriever, tuning)
            held += evaluate(retriever, test)
    return tuned, held


def german_family(embedder: Embedder) -> Family:
    entries, dev, held_out = german_faq.load()
    dev_ids = sorted({i for _, right in dev for i in right})
    held_ids = sorted({i for _, right in held_out for i in right})
    quiet = sorted({e.id for e in entries} - set(dev_ids) - set(held_ids))
    tuned: list[CaseResult] = []
    held: list[CaseResult] = []
    for seed in SUBSET_SEEDS:
        rng = random.Random(seed)
        chosen = set(rng.sample(dev_ids, 15) + rng.sample(held_ids, 15) + rng.sample(quiet, 10))
        subset = [e for e in entries if e.id in chosen]
        with tempfile.TemporaryDirectory() as folder:
            retriever = open_retrievers(subset, Path(folder), embedder, ["botkit"], ANSWERS)["botkit"]
            tuned += evaluate(retriever, _subset_cases(dev, chosen), lang="de")
            held += evaluate(retriever, _subset_cases(held_out, chosen), lang="de")
    return tuned, held


def _subset_cases(queries: Sequence[german_faq.Query], chosen: set[str]) -> list[Case]:
    """In scope when a right row is in the subset (the first such is expected), else out of scope."""
    return [Case(text, next(iter(sorted(right & chosen)), None)) for text, right in queries]


FAMILIES = {"sample": sample_family, "banking77": banking_family, "german_faq_subsets": german_family}


def calibrate(families: dict[str, Family], embedder: Embedder, bound: float = MAX_WRONG_ANSWERS) -> Calibration:
    """The `few-wrong` calibration that holds the bound in every family's tuning cases (see the module docstring)."""
    groups = [tuned for tuned, _ in families.values()]
    threshold, band = few_wrong_limits(groups, bound)
    best: tuple[float, float] | None = None
    for margin in MARGINS:
        limits = Thresholds(threshold, margin, NEVER, band)
        decided = [[redecide(r, limits) for r in group] for group in groups]
        if np.mean([wrong_answer_rate(g) or 0.0 for g in decided]) > bound:
            continue
        score = float(np.mean([resolved_rate(g) or 0.0 for g in decided]))
        if best is None or score > best[0]:
            best = (score, margin)
    margin = best[1] if best is not None else 0.0
    objective = f"few-wrong (mean wrong_answer_rate<={bound:g} over {', '.join(families)})"
    return Calibration(threshold, margin, embedder.model_id, embedder.version, objective, suggest_threshold=band)


def run(embedder: Embedder) -> dict[str, object]:
    """The default calibration over all families and the leave-one-dataset-out transfer report."""
    families = {name: make(embedder) for name, make in FAMILIES.items()}
    default = calibrate(families, embedder)
    transfer = {}
    for name, (tuned, held) in families.items():
        others = {k: v for k, v in families.items() if k != name}
        left_out = calibrate(others, embedder)
        own = tuned_few_wrong(tuned, embedder)
        transfer[name] = {
            "tuning_cases": len(tuned),
            "held_out_cases": len(held),
            "calibrated_on_the_others": band_scores(held, left_out),
            "own_tuning_cases": band_scores(held, own),
            "default": band_scores(held, default),
        }
    return {
        "default": {"threshold": default.threshold, "suggest_threshold": default.suggest_threshold, "clarify_margin": default.clarify_margin},
        "default_on_tuning": {name: band_scores(tuned, default) for name, (tuned, _) in families.items()},
        "transfer": transfer,
    }


def main() -> None:
    from botkit.providers.embedders import USEEmbedder

    embedder = CachedEmbedder(USEEmbedder(threads=1), Path(tempfile.gettempdir()) / "botkit-benchmark-embeddings.npz")
    result = run(embedder)
    embedder.save()
    print(write_result("default_threshold", result))
    print(result["default"])
    for name, parts in result["transfer"].items():
        for kind in ("calibrated_on_the_others", "own_tuning_cases", "default"):
            v = parts[kind]
            print(
                f"{name:20} {kind:26} resolved {v['resolved_rate']:.3f} wrong {v['wrong_answer_rate']:.3f} "
                f"suggest {v['suggest_rate']:.3f} t {v['threshold']:.3f} band {v['suggest_threshold']:.3f}"
            )


if __name__ == "__main__":
    main()
