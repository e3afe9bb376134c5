"""Pick the escalation threshold and clarification margin on tuning cases (stored with `botkit.calibration`).

How `tune` chooses:

1. The threshold, with clarification off (margin 0): every threshold from 0 to 1 in steps
   of 0.005 is tried. `balanced` maximises the mean of in-scope accuracy and OOS recall;
   `min_in_scope_accuracy=X` maximises OOS recall among thresholds keeping in-scope
   accuracy >= X. Of equally good thresholds (a plateau) the middle one is taken, so the
   choice does not sit on the edge of what the tuning cases happen to show.
2. The margin, at that threshold: from 0 to 0.2 in steps of 0.005, the smallest margin
   that maximises the mean of the "resolved" rate (answered right, or a clarification
   that offers the right entry) and OOS recall. A clarification is worth it only where it
   turns wrong answers into a one-tap choice.
3. The suggestion threshold, below the threshold (same grid): the one that resolves most
   in-scope cases (answered right, or the right entry among the suggestions) while at most
   `MAX_OOS_SUGGESTED` of the out-of-scope cases get suggestions instead of a person; of
   equally good ones the highest (fewest suggestions).

`few-wrong` (`max_wrong_answers=X`) instead picks threshold and suggestion threshold
together: of all pairs on the grid whose `wrong_answer_rate` (answers from a wrong entry,
out-of-scope cases included) is at most X and that suggest to at most `MAX_OOS_SUGGESTED` of
the out-of-scope cases, the one with the highest `resolved_rate`. The wrong-answer rate must
stay within X with 95 % confidence: rate + 1.645 standard errors `sqrt(p (1 - p) / n)`
(`SAFETY`). Measured on a few dozen tuning cases, a rate just at the bound is above it on
other cases in a quarter of resampled draws (benchmarks/README.md); with thousands of cases the
margin vanishes; ties go to more direct
answers, then fewer suggestions, then the highest suggestion threshold and the middle of the
plateau of thresholds. The margin is then the smallest that maximises
`resolved_rate` (a clarification never adds a wrong answer).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from botkit.calibration import Calibration
from botkit.errors import ConfigError
from botkit.evaluation.metrics import (
    CaseResult,
    SweepPoint,
    clarify_rate,
    in_scope_accuracy,
    oos_recall,
    redecide,
    resolved_rate,
    suggest_rate,
    sweep,
    threshold_grid,
    wrong_answer_rate,
)
from botkit.policy.escalation import Thresholds, suggest_options
from botkit.protocols import Embedder
from botkit.types import Decision

MARGINS = [round(i * 0.005, 6) for i in range(41)]
MAX_OOS_SUGGESTED = 0.25  # out-of-scope users offered suggestions (they can still pick "a person")
MAX_WRONG_ANSWERS = 0.05  # the `few-wrong` objective's default bound on wrong_answer_rate
SAFETY = 1.645  # standard errors of the tuning cases' wrong-answer rate kept below the bound: one-sided 95 %


def tune(
    results: Sequence[CaseResult],
    embedder: Embedder,
    *,
    min_in_scope_accuracy: float | None = None,
    max_wrong_answers: float | None = None,
    max_misses: int = 2,
) -> Calibration:
    """Choose threshold and margin on evaluated tuning cases (see the module docstring).

    `results` come from `evaluate_cases` at any threshold: retrieval does not depend on it.
    Raises `ConfigError` if no threshold reaches `min_in_scope_accuracy` or keeps the
    wrong answers at or below `max_wrong_answers` (give at most one of the two).
    """
    if not any(r.in_scope for r in results):
        raise ConfigError("tuning needs cases with an expected_id (questions the bot should answer)")
    if min_in_scope_accuracy is not None and max_wrong_answers is not None:
        raise ConfigError("give a minimum in-scope accuracy or a maximum wrong-answer rate, not both")
    if max_wrong_answers is not None:
        return _tune_few_wrong(results, embedder, max_wrong_answers, max_misses)
    points = threshold_curve(results, max_misses)
    if min_in_scope_accuracy is None:
        objective = "balanced"
        threshold = _middle_of_best(points, lambda p: p.balanced or 0.0)
    else:
        objective = f"in_scope_accuracy>={min_in_scope_accuracy:g}"
        ok = [p for p in points if (p.in_scope_accuracy or 0.0) >= min_in_scope_accuracy]
        if not ok:
            best = max(p.in_scope_accuracy or 0.0 for p in points)
            raise ConfigError(
                f"no threshold reaches in-scope accuracy {min_in_scope_accuracy:g} on these cases (best: {best:.3f}); "
                "lower --min-in-scope-accuracy or add paraphrases to the entries that are missed"
            )
        threshold = _middle_of_best(ok, lambda p: (p.oos_recall or 0.0, p.in_scope_accuracy or 0.0))

    def margin_score(margin: float) -> float:
        at = [redecide(r, Thresholds(threshold, margin, max_misses)) for r in results]
        parts = [v for v in (resolved_rate(at), oos_recall(at)) if v is not None]
        return float(np.mean(parts))

    scores = {m: margin_score(m) for m in MARGINS}
    margin = min(m for m in MARGINS if scores[m] == max(scores.values()))
    suggest = _suggest_threshold(results, Thresholds(threshold, margin, max_misses))
    return _calibration(results, embedder, Thresholds(threshold, margin, max_misses, suggest), objective)


def _tune_few_wrong(results: Sequence[CaseResult], embedder: Embedder, bound: float, max_misses: int) -> Calibration:
    """The `few-wrong` objective of the module docstring."""
    threshold, suggest = few_wrong_limits([results], bound)
    best: tuple[float, float] | None = None
    for margin in MARGINS:
        at = [redecide(r, Thresholds(threshold, margin, max_misses, suggest)) for r in results]
        score = resolved_rate(at) or 0.0
        if (wrong_answer_rate(at) or 0.0) <= bound and (best is None or score > best[0]):
            best = (score, margin)
    margin = best[1] if best is not None else 0.0
    return _calibration(results, embedder, Thresholds(threshold, margin, max_misses, suggest), f"few-wrong (wrong_answer_rate<={bound:g})")


def few_wrong_limits(groups: Sequence[Sequence[CaseResult]], bound: float) -> tuple[float, float]:
    """(threshold, suggestion threshold) of the `few-wrong` objective, clarification off.

    With several groups of cases (e.g. several knowledge bases) each group weighs the same:
    the mean of the groups' `wrong_answer_rate` (and share of out-of-scope cases offered
    suggestions) must stay within the bound, and the mean `resolved_rate` is maximised.
    """
    tables = [_Outcomes(group) for group in groups]
    per_threshold: dict[float, tuple[tuple[float, ...], float]] = {}  # threshold -> (key, suggestion threshold)
    grid = threshold_grid()
    for threshold in grid:
        if _upper_bound([t.wrong(threshold) for t in tables], [t.n_all for t in tables]) > bound:
            continue
        for band in (b for b in grid if b <= threshold):
            outcomes = [t.at(threshold, band) for t in tables]
            if np.mean([o[3] for o in outcomes]) > MAX_OOS_SUGGESTED:
                continue
            key = tuple(float(np.mean(column)) for column in list(zip(*outcomes))[:3])
            if threshold not in per_threshold or key >= per_threshold[threshold][0]:  # ascending: ties keep the highest band
                per_threshold[threshold] = (key, band)
    if not per_threshold:
        raise ConfigError(
            f"no threshold keeps the wrong-answer rate at or below {bound:g} on these cases; "
            "raise --max-wrong-answers or add paraphrases to the entries that are confused"
        )
    best = max(key for key, _ in per_threshold.values())
    tied = [t for t, (key, _) in per_threshold.items() if key == best]
    threshold = tied[(len(tied) - 1) // 2]  # the middle of the plateau, as for `balanced`
    return threshold, per_threshold[threshold][1]


def _upper_bound(rates: Sequence[float], sizes: Sequence[int]) -> float:
    """The mean of the groups' rates plus `SAFETY` standard errors of that mean (none when nothing is wrong)."""
    variance = sum(r * (1 - r) / max(n, 1) for r, n in zip(rates, sizes)) / len(rates) ** 2
    return float(np.mean(rates)) + SAFETY * float(np.sqrt(variance))


class _Outcomes:
    """One group's cases as arrays, to re-decide them at many thresholds quickly (clarification off)."""

    def __init__(self, results: Sequence[CaseResult]) -> None:
        fixed = [r for r in results if r.retrieval is None]  # answered before retrieval: no threshold changes them
        live = [r.retrieval for r in results if r.retrieval is not None]
        expected = [r.expected_id for r in results if r.retrieval is not None]
        self.n_all = len(results)
        self.n_in = max(1, sum(r.in_scope for r in results))
        self.fixed_wrong = sum(r.decision == Decision.ANSWERED and bool(r.entries) and not r.answered_right for r in fixed)
        self.fixed_resolved = sum(r.resolved for r in fixed if r.in_scope)
        self.confidence = np.array([r.confidence if r.top else -1.0 for r in live])
        self.right = np.array([r.top is not None and r.top.entry_id == e for r, e in zip(live, expected)], dtype=bool)
        self.offered = np.array([e in suggest_options(r) for r, e in zip(live, expected)], dtype=bool)
        self.inside = np.array([e is not None for e in expected], dtype=bool)
        self.n_out = int((~self.inside).sum())

    def wrong(self, threshold: float) -> float:
        """`wrong_answer_rate` at `threshold`."""
        return (self.fixed_wrong + int(((self.confidence >= threshold) & ~self.right).sum())) / self.n_all

    def at(self, threshold: float, band: float) -> tuple[float, float, float, float]:
        """(resolved rate, in-scope accuracy, minus suggest rate, share of out-of-scope cases offered suggestions)."""
        answered = self.confidence >= threshold
        suggested = (self.confidence >= band) & ~answered
        outside = int((suggested & ~self.inside).sum()) / self.n_out if self.n_out else 0.0
        direct = int((answered & self.right & self.inside).sum())
        resolved = (self.fixed_resolved + direct + int((suggested & self.offered & self.inside).sum())) / self.n_in
        return resolved, direct / self.n_in, -int(suggested.sum()) / self.n_all, outside


def _calibration(results: Sequence[CaseResult], embedder: Embedder, limits: Thresholds, objective: str) -> Calibration:
    """The calibration at `limits`, with its metrics on the tuning cases."""
    threshold, margin, suggest = limits.threshold, limits.clarify_margin, limits.suggest_threshold
    final = [redecide(r, limits) for r in results]
    metrics = {
        "n_cases": len(results),
        "in_scope_accuracy": in_scope_accuracy(final),
        "oos_recall": oos_recall(final),
        "resolved_rate": resolved_rate(final),
        "clarify_rate": clarify_rate(final),
        "suggest_rate": suggest_rate(final),
        "wrong_answer_rate": wrong_answer_rate(final),
    }
    return Calibration(
        threshold=threshold,
        clarify_margin=margin,
        suggest_threshold=suggest,
        embedder_id=embedder.model_id,
        embedder_version=embedder.version,
        objective=objective,
        metrics={k: round(v, 4) if isinstance(v, float) else v for k, v in metrics.items()},
    )


def _suggest_threshold(results: Sequence[CaseResult], limits: Thresholds) -> float:
    """Step 3 of the module docstring."""
    best: tuple[float, float] | None = None
    for band in (t for t in threshold_grid() if t <= limits.threshold):
        at = [redecide(r, replace(limits, suggest_threshold=band)) for r in results]
        outside = [r.reason == "uncertain" for r in at if not r.in_scope]
        if outside and float(np.mean(outside)) > MAX_OOS_SUGGESTED:
            continue
        score = resolved_rate(at) or 0.0
        if best is None or score >= best[0]:  # ascending: ties keep the highest band
            best = (score, band)
    return best[1] if best is not None else limits.threshold


def threshold_curve(results: Sequence[CaseResult], max_misses: int = 2) -> list[SweepPoint]:
    """The curve `tune` picks the threshold from: every threshold 0..1 (step 0.005), clarification off."""
    return sweep(results, Thresholds(0.0, 0.0, max_misses), threshold_grid())


def _middle_of_best(points: Sequence[SweepPoint], key: Callable[[SweepPoint], Any]) -> float:
    best = max(key(p) for p in points)
    tied = [p.threshold for p in points if key(p) == best]
    return tied[(len(tied) - 1) // 2]
