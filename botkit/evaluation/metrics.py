"""Pure numbers over per-case results: accuracy, handover quality, ranking, calibration.

A metric over an empty group (no in-scope cases, no handovers, ...) is None, not 0, so a
report never shows a made-up number.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from botkit.policy.escalation import Thresholds, clarify_options, decide, suggest_options
from botkit.types import Decision, Retrieval


@dataclass(frozen=True)
class CaseResult:
    """What the bot did with one single-turn case.

    `retrieval` is the retrieval the decision was made on, or None when the bot answered
    before retrieving (a greeting, "are you a bot?", a request for a person); `ranked` are
    the retrieved entry ids, best first, for the ranking metrics.
    """

    question: str
    lang: str
    expected_id: str | None
    decision: Decision
    reason: str
    entries: tuple[str, ...]
    ranked: tuple[str, ...]
    confidence: float
    margin: float
    latency_ms: float
    source: str
    retrieval: Retrieval | None = None

    @property
    def in_scope(self) -> bool:
        return self.expected_id is not None

    @property
    def answered_right(self) -> bool:
        """Answered, from the expected entry."""
        return self.decision == Decision.ANSWERED and self.in_scope and self.entries[:1] == (self.expected_id,)

    @property
    def handed_over(self) -> bool:
        return self.decision == Decision.HANDOVER

    @property
    def resolved(self) -> bool:
        """Answered right, or a clarification that offers the expected entry (one tap away)."""
        offered = self.decision == Decision.CLARIFY and self.expected_id in self.entries
        return self.answered_right or (self.in_scope and offered)

    @property
    def rank(self) -> int | None:
        """1-based rank of the expected entry among the retrieved ones; None if not retrieved."""
        if self.expected_id is None or self.expected_id not in self.ranked:
            return None
        return self.ranked.index(self.expected_id) + 1

    @property
    def top1_right(self) -> bool:
        """The best-ranked entry is the expected one (out-of-scope cases never are)."""
        return self.in_scope and self.ranked[:1] == (self.expected_id,)


def _mean(values: Sequence[bool] | Sequence[float]) -> float | None:
    return float(np.mean(values)) if len(values) else None


def in_scope_accuracy(results: Sequence[CaseResult]) -> float | None:
    """Share of cases with an expected entry that were answered from that entry."""
    return _mean([r.answered_right for r in results if r.in_scope])


def oos_recall(results: Sequence[CaseResult]) -> float | None:
    """Share of cases without an expected entry that were handed over."""
    return _mean([r.handed_over for r in results if not r.in_scope])


def handover_precision(results: Sequence[CaseResult]) -> float | None:
    """Share of handovers that were right to hand over (the case had no expected entry)."""
    return _mean([not r.in_scope for r in results if r.handed_over])


def clarify_rate(results: Sequence[CaseResult]) -> float | None:
    """Share of all cases answered with a clarification question."""
    return _mean([r.decision == Decision.CLARIFY for r in results])


def suggest_rate(results: Sequence[CaseResult]) -> float | None:
    """Share of all cases answered with suggestions (the uncertain band below the threshold)."""
    return _mean([r.reason == "uncertain" for r in results])


def wrong_answer_rate(results: Sequence[CaseResult]) -> float | None:
    """Share of all cases answered (not suggested) from a wrong entry, out-of-scope cases included."""
    return _mean([r.decision == Decision.ANSWERED and bool(r.entries) and not r.answered_right for r in results])


def resolved_rate(results: Sequence[CaseResult]) -> float | None:
    """Share of in-scope cases answered right or offered the right entry in a clarification."""
    return _mean([r.resolved for r in results if r.in_scope])


def hit_at(results: Sequence[CaseResult], k: int) -> float | None:
    """Share of in-scope cases whose expected entry is among the first `k` retrieved."""
    return _mean([r.rank is not None and r.rank <= k for r in results if r.in_scope])


def mrr(results: Sequence[CaseResult]) -> float | None:
    """Mean reciprocal rank of the expected entry over in-scope cases (0 when not retrieved)."""
    ranks = [r.rank for r in results if r.in_scope]
    return float(np.mean([1.0 / k if k else 0.0 for k in ranks])) if ranks else None


def auroc(positive: Sequence[float], negative: Sequence[float]) -> float | None:
    """Probability that a random positive scores higher than a random negative (ties count half).

    Computed from ranks (Mann-Whitney U), so it needs no thresholds and no sklearn.
    """
    if not positive or not negative:
        return None
    scores = np.asarray([*positive, *negative], dtype=float)
    order = scores.argsort(kind="mergesort")
    ranks = np.empty(len(scores))
    sorted_scores = scores[order]
    i = 0
    while i < len(scores):  # average ranks over ties
        j = i
        while j + 1 < len(scores) and sorted_scores[j + 1] == sorted_scores[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    n_pos, n_neg = len(positive), len(negative)
    u = ranks[:n_pos].sum() - n_pos * (n_pos + 1) / 2
    return float(u / (n_pos * n_neg))


def oos_auroc(results: Sequence[CaseResult]) -> float | None:
    """How well confidence separates in-scope from out-of-scope questions (1 = perfectly, 0.5 = not)."""
    return auroc([r.confidence for r in results if r.in_scope], [r.confidence for r in results if not r.in_scope])


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100, linear interpolation); None for no values."""
    return float(np.percentile(values, q)) if len(values) else None


def case_metrics(results: Sequence[CaseResult]) -> dict[str, float | int | None]:
    """The metrics of `botkit eval --json` for single-turn cases, rounded to 4 decimals."""
    latencies = [r.latency_ms for r in results]
    values: dict[str, float | int | None] = {
        "n_cases": len(results),
        "in_scope_accuracy": in_scope_accuracy(results),
        "oos_recall": oos_recall(results),
        "handover_precision": handover_precision(results),
        "hit_at_1": hit_at(results, 1),
        "hit_at_3": hit_at(results, 3),
        "mrr": mrr(results),
        "oos_auroc": oos_auroc(results),
        "clarify_rate": clarify_rate(results),
        "suggest_rate": suggest_rate(results),
        "wrong_answer_rate": wrong_answer_rate(results),
        "resolved_rate": resolved_rate(results),
        "latency_ms_p50": percentile(latencies, 50),
        "latency_ms_p99": percentile(latencies, 99),
    }
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in values.items()}


def redecide(result: CaseResult, limits: Thresholds) -> CaseResult:
    """The result as a fresh conversation of a bot with these limits would have it.

    The decision comes from `botkit.policy.escalation.decide`, the bot's own rule; cases the
    bot answered before retrieval (greetings, requests for a person) do not depend on limits.
    """
    retrieval = result.retrieval
    if retrieval is None:
        return result
    verdict = decide(retrieval, limits, misses=0, repeats_last_answer=False)
    entries: tuple[str, ...] = ()
    if verdict.decision == Decision.ANSWERED and retrieval.top is not None:
        entries = (retrieval.top.entry_id,)
    elif verdict.reason == "uncertain":
        entries = suggest_options(retrieval)
    elif verdict.decision == Decision.CLARIFY:
        entries = clarify_options(retrieval, limits)
    return replace(result, decision=verdict.decision, reason=verdict.reason, entries=entries)


@dataclass(frozen=True)
class SweepPoint:
    """Metrics of the cases re-decided at one threshold."""

    threshold: float
    in_scope_accuracy: float | None
    oos_recall: float | None
    resolved_rate: float | None
    clarify_rate: float | None

    @property
    def balanced(self) -> float | None:
        """Mean of in-scope accuracy and OOS recall (the one that exists if the other does not)."""
        parts = [v for v in (self.in_scope_accuracy, self.oos_recall) if v is not None]
        return float(np.mean(parts)) if parts else None


def threshold_grid(step: float = 0.005) -> list[float]:
    """Thresholds from 0 to 1 in `step`s, rounded so they print and compare cleanly."""
    return [round(i * step, 6) for i in range(int(round(1 / step)) + 1)]


def sweep(results: Sequence[CaseResult], limits: Thresholds, thresholds: Sequence[float]) -> list[SweepPoint]:
    """Re-decide every case at each threshold (keeping the margin and max misses of `limits`)."""
    points = []
    for threshold in thresholds:
        at = [redecide(r, replace(limits, threshold=threshold)) for r in results]
        points.append(SweepPoint(threshold, in_scope_accuracy(at), oos_recall(at), resolved_rate(at), clarify_rate(at)))
    return points


@dataclass(frozen=True)
class ReliabilityBin:
    """Cases whose confidence falls in [low, high): how often the top entry was right."""

    low: float
    high: float
    count: int
    mean_confidence: float | None
    accuracy: float | None


def reliability(results: Sequence[CaseResult], bins: int = 10) -> list[ReliabilityBin]:
    """Confidence against the share of cases whose top-ranked entry is right.

    Out-of-scope cases count as wrong: any answer to them would be. A well-calibrated
    confidence lies on the diagonal; the threshold belongs where accuracy becomes acceptable.
    """
    edges = np.linspace(0.0, 1.0, bins + 1)
    out = []
    for i in range(bins):
        low, high = float(edges[i]), float(edges[i + 1])
        last = i == bins - 1
        inside = [r for r in results if low <= r.confidence < high or (last and r.confidence == high)]
        out.append(
            ReliabilityBin(
                round(low, 6),
                round(high, 6),
                len(inside),
                _mean([r.confidence for r in inside]),
                _mean([r.top1_right for r in inside]),
            )
        )
    return out


def confusions(results: Sequence[CaseResult]) -> list[tuple[str, str, int]]:
    """(expected, what the bot did instead, count) for in-scope cases not answered right, most frequent first.

    "What the bot did" is the answered entry, or `handover`/`clarify`/... for other decisions.
    """
    counts: Counter[tuple[str, str]] = Counter()
    for r in results:
        if r.in_scope and not r.answered_right:
            got = r.entries[0] if r.decision == Decision.ANSWERED and r.entries else r.decision.value
            counts[(r.expected_id or "", got)] += 1
    return [(e, g, n) for (e, g), n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]
