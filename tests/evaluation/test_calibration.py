"""Tuning the threshold and margin, storing them, and refusing them for another embedder."""

from __future__ import annotations

import json

import pytest

from botkit import ConfigError, Decision, EvaluationDataError, Hit, IndexMismatchError, Retrieval, Settings, open_bot
from botkit.calibration import Calibration, read_calibration, write_calibration
from botkit.evaluation.metrics import CaseResult
from botkit.evaluation.tuning import threshold_curve, tune
from botkit.testing import RenamedEmbedder
from tests.conftest import SAMPLE


class StubEmbedder:
    """Only its identity matters to a calibration; it embeds nothing."""

    def __init__(self, model_id: str = "stub", version: str = "1") -> None:
        self.model_id, self.version = model_id, version

    def embed(self, texts):
        raise AssertionError("tuning must not embed")


def case(expected: str | None, *scored: tuple[str, float]) -> CaseResult:
    hits = tuple(Hit(entry, score, entry) for entry, score in scored)
    runner_up = hits[1].score if len(hits) > 1 else 0.0
    retrieval = Retrieval("q", hits, hits[0].score, hits[0].score - runner_up)
    return CaseResult(
        question="q",
        lang="de",
        expected_id=expected,
        decision=Decision.ANSWERED,
        reason="r",
        entries=(),
        ranked=tuple(h.entry_id for h in hits),
        confidence=retrieval.confidence,
        margin=retrieval.margin,
        latency_ms=1.0,
        source="t.csv:2",
        retrieval=retrieval,
    )


# In scope: four right top entries (0.9, 0.8, 0.7, 0.45) and one wrong top entry at 0.85 with the right one
# 0.02 behind. Out of scope: 0.6, 0.5, 0.3. Balanced is best for thresholds in (0.6, 0.7]: in-scope 3/5, OOS 3/3.
SYNTHETIC = [
    case("a", ("a", 0.9), ("x", 0.7)),
    case("b", ("b", 0.8), ("x", 0.6)),
    case("c", ("c", 0.7), ("x", 0.5)),
    case("d", ("d", 0.45), ("x", 0.25)),
    case("e", ("wrong", 0.85), ("e", 0.83), ("x", 0.5)),
    case(None, ("a", 0.6), ("x", 0.4)),
    case(None, ("b", 0.5), ("x", 0.3)),
    case(None, ("c", 0.3), ("x", 0.1)),
]


def test_balanced_tuning_takes_the_middle_of_the_best_plateau():
    tuned = tune(SYNTHETIC, StubEmbedder())
    assert tuned.threshold == 0.65  # middle of 0.605 ... 0.700
    assert tuned.objective == "balanced"
    assert tuned.metrics["oos_recall"] == 1.0


def test_margin_is_the_smallest_that_turns_a_wrong_answer_into_a_choice_with_the_right_entry():
    tuned = tune(SYNTHETIC, StubEmbedder())
    assert tuned.clarify_margin == 0.025  # the wrong top entry leads by 0.02
    assert tuned.metrics["resolved_rate"] == 4 / 5 and tuned.metrics["in_scope_accuracy"] == 3 / 5
    without_the_close_call = [c for c in SYNTHETIC if c.expected_id != "e"]
    assert tune(without_the_close_call, StubEmbedder()).clarify_margin == 0.0


def test_min_in_scope_accuracy_keeps_accuracy_and_maximises_oos_recall():
    tuned = tune(SYNTHETIC, StubEmbedder(), min_in_scope_accuracy=0.8)
    # accuracy 4/5 needs every right entry answered: threshold <= 0.45, where OOS recall is 1/3
    assert tuned.threshold == 0.375 and tuned.metrics["oos_recall"] == pytest.approx(1 / 3, abs=1e-4)  # middle of (0.3, 0.45]
    assert tuned.objective == "in_scope_accuracy>=0.8"
    with pytest.raises(ConfigError, match="no threshold reaches in-scope accuracy 0.9"):
        tune(SYNTHETIC, StubEmbedder(), min_in_scope_accuracy=0.9)


def test_the_threshold_curve_is_what_tune_chose_from():
    curve = threshold_curve(SYNTHETIC)
    best = max(p.balanced for p in curve)
    assert next(p for p in curve if p.threshold == 0.65).balanced == best == pytest.approx((3 / 5 + 1) / 2)
    assert curve[0].threshold == 0.0 and curve[-1].threshold == 1.0 and len(curve) == 201


def test_tuning_without_in_scope_cases_is_refused():
    with pytest.raises(ConfigError, match="expected_id"):
        tune([c for c in SYNTHETIC if c.expected_id is None], StubEmbedder())


def test_calibration_round_trips_as_stable_json(tmp_path):
    tuned = tune(SYNTHETIC, StubEmbedder("use-multilingual-v3", "0.2.1"))
    path = write_calibration(tuned, tmp_path / "calibration.json")
    text = path.read_text()
    assert json.loads(text)["format"] == "botkit-calibration/1" and text == write_calibration(tuned, path).read_text()
    assert read_calibration(path, StubEmbedder("use-multilingual-v3", "0.2.1")) == tuned


@pytest.mark.parametrize(("model_id", "version"), [("openai:text-embedding-3-small", "0.2.1"), ("use-multilingual-v3", "0.3.0")])
def test_a_calibration_for_another_embedder_or_version_is_refused(tmp_path, model_id, version):
    path = write_calibration(Calibration(0.6, 0.04, "use-multilingual-v3", "0.2.1", "balanced"), tmp_path / "c.json")
    with pytest.raises(IndexMismatchError, match="tuned for embedder use-multilingual-v3 0.2.1"):
        read_calibration(path, StubEmbedder(model_id, version))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"threshold": 0.6,\n "clarify_margin": }', "c.json:2: is not a JSON calibration"),
        ("[]", "c.json:1: must be a JSON object written by `botkit tune`"),
        (
            json.dumps(
                {
                    "format": "botkit-calibration/1",
                    "threshold": 1.5,
                    "clarify_margin": 0.04,
                    "embedder_id": "x",
                    "embedder_version": "1",
                    "objective": "balanced",
                }
            ),
            "c.json: 'threshold' must be a number between 0 and 1, not 1.5",
        ),
    ],
)
def test_a_malformed_calibration_names_file_line_and_field(tmp_path, text, expected):
    (tmp_path / "c.json").write_text(text)
    with pytest.raises(EvaluationDataError) as exc:
        read_calibration(tmp_path / "c.json")
    assert str(exc.value.problems[0]).startswith(expected)


def test_the_bot_uses_a_calibration_and_refuses_one_for_another_embedder(tmp_path, sample_index_dir, embedder):
    path = write_calibration(Calibration(0.7, 0.02, embedder.model_id, embedder.version, "balanced"), tmp_path / "c.json")
    settings = Settings(index_dir=sample_index_dir, database_url="sqlite://", calibration=path, threshold=0.3)
    bot = open_bot(SAMPLE, settings, embedder=embedder)
    assert (bot.limits.threshold, bot.limits.clarify_margin) == (0.7, 0.02)
    with pytest.raises(IndexMismatchError):
        open_bot(SAMPLE, settings, embedder=RenamedEmbedder(embedder, "another-model"))
    assert Settings.from_env({"BOTKIT_CALIBRATION": str(path)}).calibration == path


def test_few_wrong_resolves_most_without_more_wrong_answers_than_the_bound():
    tuned = tune(SYNTHETIC, StubEmbedder(), max_wrong_answers=0.05)
    # One wrong answer is 1/8 > 0.05: the threshold must pass the wrong entry at 0.85, so only "a" is answered;
    # suggesting b, c and e (not the out-of-scope 0.6) resolves 4 of 5. Middle of 0.855 ... 0.9; highest band.
    assert tuned.metrics["wrong_answer_rate"] == 0.0 and tuned.metrics["resolved_rate"] == 4 / 5
    assert (tuned.threshold, tuned.suggest_threshold, tuned.clarify_margin) == (0.875, 0.7, 0.0)
    assert tuned.objective == "few-wrong (wrong_answer_rate<=0.05)"


def test_a_looser_bound_lets_few_wrong_answer_more_directly():
    # 3 wrong of 8 (0.375) plus 1.645 standard errors (0.171) is within 0.7: a, b, c and d are answered directly
    tuned = tune(SYNTHETIC, StubEmbedder(), max_wrong_answers=0.7)
    assert tuned.metrics["wrong_answer_rate"] <= 0.7 and tuned.metrics["resolved_rate"] >= 4 / 5
    assert tuned.metrics["in_scope_accuracy"] > tune(SYNTHETIC, StubEmbedder(), max_wrong_answers=0.05).metrics["in_scope_accuracy"]


def test_few_wrong_keeps_a_safety_margin_that_shrinks_with_more_cases():
    # Right answers at 0.99 .. 0.595; out-of-scope questions at 0.95, 0.85, 0.75, 0.65 answered wrongly above the threshold.
    few = [case(str(i), (str(i), 0.99 - 0.005 * i)) for i in range(80)] + [case(None, ("a", c)) for c in (0.95, 0.85, 0.75, 0.65)]
    # 2 wrong of 84 (0.024) is within 0.05, but not with 1.645 standard errors (+0.027): only the 0.95 one is let through
    assert tune(few, StubEmbedder(), max_wrong_answers=0.05).metrics["wrong_answer_rate"] == round(1 / 84, 4)
    # the same rates on 50 times as many cases: 3 of 84 plus the margin (+0.003) is within the bound, 4 of 84 is not
    assert tune(few * 50, StubEmbedder(), max_wrong_answers=0.05).metrics["wrong_answer_rate"] == round(3 / 84, 4)


def test_few_wrong_and_a_minimum_accuracy_are_not_asked_together():
    with pytest.raises(ConfigError, match="not both"):
        tune(SYNTHETIC, StubEmbedder(), min_in_scope_accuracy=0.5, max_wrong_answers=0.05)
