"""The escalation threshold in plain words: how many answers are wrong, how many go to a person.

Built on `botkit.evaluation`: cases are evaluated once, then re-decided at each threshold
with the bot's own rule (`redecide`), so the numbers are what the bot would do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from matplotlib.figure import Figure

from botkit.calibration import Calibration
from botkit.errors import ConfigError
from botkit.evaluation.metrics import (
    CaseResult,
    clarify_rate,
    in_scope_accuracy,
    oos_recall,
    redecide,
    resolved_rate,
    threshold_grid,
)
from botkit.policy.escalation import Thresholds
from botkit.types import Decision
from botkit.workbench.charts import new_figure


@dataclass(frozen=True)
class Tradeoff:
    """What the bot does with the cases at one threshold."""

    threshold: float
    cases: int
    answered: int
    wrong: int  # answered, but not from the expected entry (or a question it should have handed over)
    handed_over: int
    clarified: int
    in_scope_accuracy: float | None

    @property
    def wrong_share(self) -> float | None:
        """Share of answered questions that were answered wrongly."""
        return self.wrong / self.answered if self.answered else None

    @property
    def handover_rate(self) -> float | None:
        """Share of all questions that go to a person."""
        return self.handed_over / self.cases if self.cases else None

    @property
    def clarify_rate(self) -> float | None:
        return self.clarified / self.cases if self.cases else None


def tradeoff_at(results: Sequence[CaseResult], limits: Thresholds, threshold: float) -> Tradeoff:
    """Re-decide every case at `threshold` (keeping margin and max misses) and count."""
    at = [redecide(r, replace(limits, threshold=threshold)) for r in results]
    answered = [r for r in at if r.decision == Decision.ANSWERED and r.entries]
    return Tradeoff(
        threshold=threshold,
        cases=len(at),
        answered=len(answered),
        wrong=sum(not r.answered_right for r in answered),
        handed_over=sum(r.handed_over for r in at),
        clarified=sum(r.decision == Decision.CLARIFY for r in at),
        in_scope_accuracy=in_scope_accuracy(at),
    )


def tradeoff_curve(results: Sequence[CaseResult], limits: Thresholds, thresholds: Sequence[float] | None = None) -> list[Tradeoff]:
    """`tradeoff_at` for each threshold (default: 0 to 1 in steps of 0.01)."""
    return [tradeoff_at(results, limits, t) for t in (thresholds if thresholds is not None else threshold_grid(0.01))]


_WORDS = {
    "de": {
        "setting": "Bei dieser Einstellung ({threshold})",
        "none_answered": "beantwortet der Bot keine Frage selbst",
        "none_wrong": "ist keine beantwortete Frage falsch",
        "one_in": "ist 1 von {n} beantworteten Fragen falsch",
        "most_wrong": "ist mehr als die Hälfte der beantworteten Fragen falsch ({share} %)",
        "handover": "{share} % gehen an einen Menschen",
        "clarify": "bei {share} % fragt der Bot nach, was gemeint ist",
        "and": "und",
    },
    "en": {
        "setting": "At this setting ({threshold})",
        "none_answered": "the bot answers no question itself",
        "none_wrong": "no answered question is wrong",
        "one_in": "1 in {n} answered questions is wrong",
        "most_wrong": "more than half of the answered questions are wrong ({share} %)",
        "handover": "{share} % go to a person",
        "clarify": "for {share} % the bot asks which topic is meant",
        "and": "and",
    },
}


def describe(tradeoff: Tradeoff, lang: str = "en") -> str:
    """One sentence for the client, e.g. "At this setting (0.55) 1 in 20 answered questions is wrong and 30 % go to a person."

    Shares are rounded to whole percent; "1 in N" rounds N to a whole number.
    """
    if lang not in _WORDS:
        raise ConfigError(f"no trade-off wording for language {lang!r}; known: {', '.join(_WORDS)}")
    words = _WORDS[lang]
    share = tradeoff.wrong_share
    if share is None:
        wrong = words["none_answered"]
    elif share == 0:
        wrong = words["none_wrong"]
    elif share > 0.5:
        wrong = words["most_wrong"].format(share=_percent(share))
    else:
        wrong = words["one_in"].format(n=round(1 / share))
    parts = [wrong, words["handover"].format(share=_percent(tradeoff.handover_rate or 0.0))]
    if tradeoff.clarified:
        parts.append(words["clarify"].format(share=_percent(tradeoff.clarify_rate or 0.0)))
    listed = ", ".join(parts[:-1]) + f" {words['and']} " + parts[-1]
    threshold = f"{tradeoff.threshold:.2f}"
    return f"{words['setting'].format(threshold=threshold.replace('.', ',') if lang == 'de' else threshold)} {listed}."


def plot_tradeoff(curve: Sequence[Tradeoff], threshold: float | None = None) -> Figure:
    """In-scope accuracy, handover rate and the share of wrong answers against the threshold."""
    fig, ax = new_figure()
    xs = [t.threshold for t in curve]
    ax.plot(xs, [t.in_scope_accuracy for t in curve], label="in-scope accuracy", color="tab:blue")
    ax.plot(xs, [t.handover_rate for t in curve], label="handed over to a person", color="tab:orange")
    ax.plot(xs, [t.wrong_share for t in curve], label="answered wrongly (of answered)", color="tab:red", linestyle="--")
    if threshold is not None:
        ax.axvline(threshold, color="black", linestyle=":", label=f"threshold {threshold:.2f}")
    ax.set(xlabel="threshold", ylabel="share", title="What the threshold trades", xlim=(0, 1), ylim=(0, 1.02))
    ax.legend(loc="center left", fontsize=8)
    return fig


def workshop_calibration(tuned: Calibration, results: Sequence[CaseResult], threshold: float, *, max_misses: int = 2) -> Calibration:
    """`tuned` with the threshold agreed in the workshop and its metrics on `results`: the held-out check cases.

    The clarification margin and uncertain band stay the tuned ones; `objective` records that a
    person chose and how many cases it was tuned on (`metrics` keep `n_cases` measured on).
    """
    if not 0.0 <= threshold <= 1.0:
        raise ConfigError(f"threshold {threshold} must be between 0 and 1")
    limits = Thresholds(threshold, tuned.clarify_margin, max_misses)
    at = [redecide(r, limits) for r in results]
    metrics = {
        "n_cases": len(results),
        "in_scope_accuracy": in_scope_accuracy(at),
        "oos_recall": oos_recall(at),
        "resolved_rate": resolved_rate(at),
        "clarify_rate": clarify_rate(at),
    }
    return replace(
        tuned,
        threshold=round(threshold, 6),
        objective=f"workshop (tuned: {tuned.objective} at {tuned.threshold:g} on {tuned.metrics.get('n_cases')} other cases)",
        metrics={k: round(v, 4) if isinstance(v, float) else v for k, v in metrics.items()},
    )


def _percent(share: float) -> str:
    return f"{round(share * 100):d}"
