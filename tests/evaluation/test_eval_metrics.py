"""Metric functions on small hand-computed inputs, and re-deciding through the bot's own rule."""

from __future__ import annotations

import pytest

from botkit import Decision, Hit, Retrieval, Settings, open_bot
from botkit.evaluation.cases import load_cases
from botkit.evaluation.metrics import (
    CaseResult,
    auroc,
    case_metrics,
    confusions,
    handover_precision,
    hit_at,
    in_scope_accuracy,
    mrr,
    oos_auroc,
    oos_recall,
    percentile,
    redecide,
    reliability,
)
from botkit.evaluation.runner import evaluate_cases
from botkit.policy.escalation import Thresholds
from tests.conftest import ROOT, SAMPLE


def result(expected, decision, entries=(), ranked=(), confidence=0.5, latency_ms=10.0) -> CaseResult:
    return CaseResult(
        question="q",
        lang="de",
        expected_id=expected,
        decision=decision,
        reason="r",
        entries=tuple(entries),
        ranked=tuple(ranked),
        confidence=confidence,
        margin=0.1,
        latency_ms=latency_ms,
        source="t.csv:2",
    )


A, H, C = Decision.ANSWERED, Decision.HANDOVER, Decision.CLARIFY
RESULTS = [
    result("a", A, ["a"], ["a", "b", "c"], 0.9, 5.0),  # right, rank 1
    result("b", A, ["c"], ["c", "b", "a"], 0.7, 7.0),  # wrong entry, rank 2
    result("c", H, [], ["a", "b", "d", "e", "c"], 0.4, 9.0),  # handed over, rank 5
    result("d", C, ["d", "a"], ["a", "d"], 0.6, 11.0),  # clarified, rank 2
    result(None, H, [], ["a"], 0.3, 13.0),  # out of scope, handed over
    result(None, A, ["b"], ["b"], 0.8, 100.0),  # out of scope, answered
]


def test_accuracy_recall_and_precision_count_the_right_cases():
    assert in_scope_accuracy(RESULTS) == 1 / 4
    assert oos_recall(RESULTS) == 1 / 2
    assert handover_precision(RESULTS) == 1 / 2  # two handovers, one of them right


def test_ranking_metrics_over_in_scope_cases():
    assert hit_at(RESULTS, 1) == 1 / 4
    assert hit_at(RESULTS, 3) == 3 / 4
    assert mrr(RESULTS) == pytest.approx((1 + 1 / 2 + 1 / 5 + 1 / 2) / 4)


def test_metrics_of_an_empty_group_are_none_not_zero():
    in_scope_only = RESULTS[:4]
    assert oos_recall(in_scope_only) is None and oos_auroc(in_scope_only) is None
    assert handover_precision([RESULTS[0]]) is None
    assert case_metrics([])["in_scope_accuracy"] is None and case_metrics([])["n_cases"] == 0


@pytest.mark.parametrize(
    ("positive", "negative", "expected"),
    [
        ([0.9, 0.8], [0.1, 0.2], 1.0),
        ([0.1], [0.9], 0.0),
        ([0.5, 0.5], [0.5], 0.5),  # ties count half
        ([0.9, 0.4], [0.5, 0.1], 0.75),  # 3 of 4 pairs ordered right
        ([0.3, 0.7, 0.7], [0.7, 0.2], (1 + 0.5 + 1 + 0.5 + 1 + 0) / 6),
    ],
)
def test_auroc_is_the_share_of_correctly_ordered_pairs(positive, negative, expected):
    assert auroc(positive, negative) == pytest.approx(expected)


def test_oos_auroc_separates_in_scope_from_out_of_scope_confidence():
    # in scope: 0.9, 0.7, 0.4, 0.6; out of scope: 0.3, 0.8 -> 5 of 8 pairs ordered right
    assert oos_auroc(RESULTS) == pytest.approx(5 / 8)


def test_latency_percentiles_interpolate():
    assert percentile([5.0, 7.0, 9.0, 11.0, 13.0, 100.0], 50) == 10.0
    assert percentile([], 99) is None
    metrics = case_metrics(RESULTS)
    assert metrics["latency_ms_p50"] == 10.0 and metrics["latency_ms_p99"] == pytest.approx(95.65)


def test_reliability_bins_count_top_entry_right_with_out_of_scope_as_wrong():
    bins = reliability(RESULTS, bins=2)
    low, high = bins
    assert (low.low, low.high, low.count) == (0.0, 0.5, 2)  # 0.4 and 0.3
    assert low.accuracy == 0.0  # rank 5 and out of scope
    assert (high.count, high.accuracy) == (4, 1 / 4)  # 0.9 right; 0.7 and 0.6 ranked wrong; 0.8 out of scope
    assert high.mean_confidence == pytest.approx((0.9 + 0.7 + 0.6 + 0.8) / 4)
    assert reliability([result("a", A, ["a"], ["a"], 1.0)], bins=4)[-1].count == 1  # 1.0 falls in the last bin


def test_confusions_list_what_happened_instead_most_frequent_first():
    extra = result("b", A, ["c"], ["c"])
    assert confusions([*RESULTS, extra]) == [("b", "c", 2), ("c", "handover", 1), ("d", "clarify", 1)]


def retrieval(*scored: tuple[str, float]) -> Retrieval:
    hits = tuple(Hit(entry, score, entry) for entry, score in scored)
    runner_up = hits[1].score if len(hits) > 1 else 0.0
    return Retrieval("q", hits, hits[0].score, hits[0].score - runner_up)


def test_redecide_answers_clarifies_or_hands_over_like_the_policy():
    case = result("a", A)
    limits = Thresholds(0.5, 0.05, 2)
    confident = redecide(CaseResult(**{**case.__dict__, "retrieval": retrieval(("a", 0.8), ("b", 0.6))}), limits)
    close = redecide(CaseResult(**{**case.__dict__, "retrieval": retrieval(("b", 0.8), ("a", 0.78), ("c", 0.5))}), limits)
    low = redecide(CaseResult(**{**case.__dict__, "retrieval": retrieval(("a", 0.4))}), limits)
    assert (confident.decision, confident.entries) == (A, ("a",))
    assert (close.decision, close.entries, close.resolved) == (C, ("b", "a"), True)
    assert (low.decision, low.entries, low.reason) == (H, (), "low_confidence")
    assert redecide(case, limits) is case  # answered before retrieval: does not depend on limits


# On the confidence scale of botkit/scoring/fused.py: the cross-dataset defaults, and a lower threshold with a small margin.
@pytest.mark.parametrize(("threshold", "margin"), [(0.6, 0.05), (0.8, 0.145)])
def test_redeciding_at_a_threshold_matches_a_bot_configured_with_it(tmp_path, sample_index_dir, embedder, threshold, margin):
    cases = load_cases(ROOT / "evaluations" / "data" / "cases.csv")

    def run(**limits: float) -> list[CaseResult]:
        settings = Settings(index_dir=sample_index_dir, database_url="sqlite://", **limits)
        bot = open_bot(SAMPLE, settings, embedder=embedder)
        return evaluate_cases(bot, cases)

    default = run()
    configured = run(threshold=threshold, clarify_margin=margin)
    limits = Thresholds(threshold, margin, Settings().max_misses, min(Settings().suggest_threshold, threshold))
    redecided = [redecide(r, limits) for r in default]
    assert [(r.decision, r.entries) for r in redecided] == [(r.decision, r.entries) for r in configured]
    exercised = {r.decision for r in configured}
    assert {Decision.ANSWERED, Decision.CLARIFY, Decision.HANDOVER} <= exercised, "the cases should exercise answer, clarify and handover"
