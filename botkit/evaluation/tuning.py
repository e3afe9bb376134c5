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
from botkit.policy.escalation import Thresholds
from botkit.protocols import Embedder

MARGINS = [round(i * 0.005, 6) for i in range(41)]
MAX_OOS_SUGGESTED = 0.25  # out-of-scope users offered suggestions (they can still pick "a person")


def tune(
    results: Sequence[CaseResult],
    embedder: Embedder,
    *,
    min_in_scope_accuracy: float | None = None,
    max_misses: int = 2,
) -> Calibration:
    """Choose threshold and margin on evaluated tuning cases (see the module docstring).

    `results` come from `evaluate_cases` at any threshold: retrieval does not depend on it.
    Raises `ConfigError` if no threshold reaches `min_in_scope_accuracy`.
    """
    if not any(r.in_scope for r in results):
        raise ConfigError("tuning needs cases with an expected_id (questions the bot should answer)")
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
    final = [redecide(r, Thresholds(threshold, margin, max_misses, suggest)) for r in results]
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
