"""The threshold trade-off in numbers and in plain words, and the calibration saved from the workshop."""

from __future__ import annotations

import pytest

from botkit.calibration import Calibration, read_calibration, write_calibration
from botkit.errors import ConfigError
from botkit.evaluation.metrics import CaseResult
from botkit.policy.escalation import Thresholds
from botkit.types import Decision, Hit, Retrieval
from botkit.workbench.tradeoff import Tradeoff, describe, tradeoff_at, tradeoff_curve, workshop_calibration

LIMITS = Thresholds(threshold=0.5, clarify_margin=0.0, max_misses=2)


def case(expected: str | None, top: str, confidence: float) -> CaseResult:
    """A case whose retrieval ranks `top` first with this confidence (and a far runner-up)."""
    hits = (Hit(top, confidence, top), Hit("other", confidence - 0.3, "other"))
    retrieval = Retrieval("q", hits, confidence, 0.3)
    return CaseResult("q", "de", expected, Decision.ANSWERED, "confident", (top,), (top, "other"), confidence, 0.3, 1.0, "t:1", retrieval)


CASES = [
    case("a", "a", 0.9),  # right, confident
    case("b", "b", 0.7),  # right
    case("c", "x", 0.6),  # wrong entry
    case(None, "d", 0.55),  # out of scope, answered below 0.6
    case(None, "e", 0.2),  # out of scope, low
]


def test_counts_at_a_threshold_follow_the_bots_decision_rule():
    at = tradeoff_at(CASES, LIMITS, 0.5)
    assert (at.cases, at.answered, at.wrong, at.handed_over, at.clarified) == (5, 4, 2, 1, 0)
    assert at.wrong_share == 0.5 and at.handover_rate == 0.2
    assert at.in_scope_accuracy == pytest.approx(2 / 3)
    higher = tradeoff_at(CASES, LIMITS, 0.65)
    assert (higher.answered, higher.wrong, higher.handed_over) == (2, 0, 3)


def test_the_curve_runs_from_answering_everything_to_handing_everything_over():
    curve = tradeoff_curve(CASES, LIMITS)
    assert len(curve) == 101 and curve[0].threshold == 0.0 and curve[-1].threshold == 1.0
    assert curve[0].handed_over == 0 and curve[-1].handed_over == 5
    rates = [t.handover_rate for t in curve]
    assert rates == sorted(rates)


def test_the_sentence_reads_as_in_the_issue_in_english_and_german():
    at = Tradeoff(threshold=0.55, cases=100, answered=60, wrong=3, handed_over=30, clarified=0, in_scope_accuracy=0.9)
    assert describe(at, "en") == "At this setting (0.55) 1 in 20 answered questions is wrong and 30 % go to a person."
    assert describe(at, "de") == "Bei dieser Einstellung (0,55) ist 1 von 20 beantworteten Fragen falsch und 30 % gehen an einen Menschen."


@pytest.mark.parametrize(
    ("answered", "wrong", "clarified", "expected"),
    [
        (50, 0, 0, "At this setting (0.70) no answered question is wrong and 50 % go to a person."),
        (0, 0, 0, "At this setting (0.70) the bot answers no question itself and 50 % go to a person."),
        (40, 30, 0, "At this setting (0.70) more than half of the answered questions are wrong (75 %) and 50 % go to a person."),
        (40, 4, 10, "At this setting (0.70) 1 in 10 answered questions is wrong, 50 % go to a person and for 10 % the bot asks which topic is meant."),
    ],
)
def test_edge_cases_are_worded_without_made_up_numbers(answered, wrong, clarified, expected):
    at = Tradeoff(threshold=0.7, cases=100, answered=answered, wrong=wrong, handed_over=50, clarified=clarified, in_scope_accuracy=None)
    assert describe(at, "en") == expected


def test_an_unknown_language_is_refused():
    at = Tradeoff(0.5, 1, 1, 0, 0, 0, 1.0)
    with pytest.raises(ConfigError, match="known: de, en"):
        describe(at, "fr")


def test_the_workshop_calibration_keeps_margin_and_embedder_and_reads_back(tmp_path, embedder):
    tuned = Calibration(0.5, 0.0, embedder.model_id, embedder.version, "balanced", {"n_cases": 5})
    chosen = workshop_calibration(tuned, CASES, 0.65)
    assert (chosen.threshold, chosen.clarify_margin) == (0.65, 0.0)
    assert chosen.objective.startswith("workshop") and "0.5" in chosen.objective
    assert chosen.metrics["in_scope_accuracy"] == pytest.approx(2 / 3, abs=1e-4) and chosen.metrics["oos_recall"] == 1.0
    assert read_calibration(write_calibration(chosen, tmp_path / "calibration.json"), embedder) == chosen
    with pytest.raises(ConfigError):
        workshop_calibration(tuned, CASES, 1.5)
