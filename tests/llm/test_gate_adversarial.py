"""The grounding gate against a committed adversarial set: every bypass is refused, faithful rephrasings pass."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from botkit.policy.grounding import Grounds, check_reply

DATA = Path(__file__).resolve().parent.parent / "data" / "gate" / "adversarial.yaml"
SET = yaml.safe_load(DATA.read_text(encoding="utf-8"))
LENGTH_RULES = {"empty", "too_short", "too_long"}


def grounds_for(case: dict, *, lengths: bool) -> Grounds:
    """The grounds the phraser builds for this answer (with its length bounds when `lengths`)."""
    sources = (
        case["answer"],
        *case["links"],
        *([case["teaser"]] if case.get("consent") else ()),
    )
    withheld = tuple(w for w in SET["withheld"] if not (case.get("consent") and w == case.get("teaser", "").strip()))
    own = case["answer"]
    return Grounds(
        sources,
        withheld=withheld,
        bot_name=SET["bot_name"],
        min_chars=min(40, len(own) // 4) if lengths else 0,
        max_chars=len(own) * 3 // 2 + 40 + (len(case.get("teaser", "")) if case.get("consent") else 0) if lengths else None,
    )


BYPASSES = [(c["entry"], text) for c in SET["cases"] for text in c["bypass"]]
FAITHFUL = [(c["entry"], text) for c in SET["cases"] for text in c["faithful"]]
CASES = {c["entry"]: c for c in SET["cases"]}


def test_the_set_is_large_enough_in_both_languages():
    langs = {CASES[entry]["lang"] for entry, _ in BYPASSES}
    assert len(BYPASSES) >= 100 and len(FAITHFUL) >= 20 and langs == {"de", "en"}


@pytest.mark.parametrize(("entry", "text"), BYPASSES)
def test_no_bypass_text_passes_the_gate_on_its_content(entry, text):
    # Without length bounds: each bypass must be refused for what it says, not for how long it is.
    violations = check_reply(text, grounds_for(CASES[entry], lengths=False))
    assert {v.rule for v in violations} - LENGTH_RULES, f"passed: {text!r}"


@pytest.mark.parametrize(("entry", "text"), FAITHFUL)
def test_faithful_rephrasings_pass_the_gate(entry, text):
    assert check_reply(text, grounds_for(CASES[entry], lengths=True)) == []
