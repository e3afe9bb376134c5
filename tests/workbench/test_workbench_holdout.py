"""Notebook 4 tunes on one part of the cases and reports on the other."""

from __future__ import annotations

from collections import Counter

import pytest

from botkit.errors import ConfigError
from botkit.evaluation.cases import Case
from botkit.workbench.holdout import split_cases


def cases(spec: dict[str | None, int]) -> list[Case]:
    return [Case(f"{entry}-{n}", entry, "de", f"cases.csv:{n}") for entry, count in spec.items() for n in range(count)]


def test_the_parts_are_disjoint_cover_every_case_and_are_stratified_by_entry():
    given = cases({"a": 2, "b": 4, "c": 1, "d": 1, "e": 1, None: 5})
    split = split_cases(given)
    assert not set(split.tune) & set(split.check)
    assert sorted(map(id, (*split.tune, *split.check))) == sorted(map(id, given))
    assert abs(len(split.tune) - len(split.check)) <= 1
    tune, check = Counter(c.expected_id for c in split.tune), Counter(c.expected_id for c in split.check)
    assert (tune["a"], check["a"], tune["b"], check["b"]) == (1, 1, 2, 2)  # entries with cases in both parts
    assert {tune[None], check[None]} == {2, 3}  # out-of-scope questions on both sides


def test_the_split_is_seeded():
    given = cases({"a": 3, "b": 3, "c": 1, None: 3})
    assert split_cases(given) == split_cases(list(given))
    others = {tuple(c.question for c in split_cases(given, seed=s).check) for s in range(10)}
    assert len(others) > 1


def test_too_few_cases_say_what_to_do():
    with pytest.raises(ConfigError, match="save at least 4 in notebook 2"):
        split_cases(cases({"a": 3}))
