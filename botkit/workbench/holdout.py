"""Tune on one part of the cases, report on the other: a threshold measured on the cases it was tuned on looks better than it is.

The split is seeded (the same cases always split the same way) and stratified by entry: the
cases of one entry, and the out-of-scope cases, are dealt to both parts in turn, so each part
asks about the same entries where there are two or more cases for one. Entries with a single
case go to the smaller part.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from botkit.errors import ConfigError

SEED = 13
MIN_CASES = 4  # two per part, the least a threshold can be tuned and checked on


class Labelled(Protocol):
    """A test case or its evaluated result: what it expects."""

    @property
    def expected_id(self) -> str | None: ...


T = TypeVar("T", bound=Labelled)


@dataclass(frozen=True)
class CaseSplit(Generic[T]):
    """Cases (or their results) to tune the threshold on, and held-out ones to report it on."""

    tune: tuple[T, ...]
    check: tuple[T, ...]
    seed: int

    def describe(self, lang: str = "en") -> str:
        """One sentence saying which cases tune and which report."""
        if lang == "de":
            return (
                f"Die Schwelle wird an {len(self.tune)} Testfragen abgestimmt und an den {len(self.check)} anderen gemessen "
                f"(nach Eintrag geschichtet, Seed {self.seed}); alle Zahlen hier stammen von diesen {len(self.check)}."
            )
        return (
            f"The threshold is tuned on {len(self.tune)} cases and measured on the other {len(self.check)} "
            f"(stratified by entry, seed {self.seed}); every number shown comes from those {len(self.check)}."
        )


def split_cases(cases: Sequence[T], *, seed: int = SEED) -> CaseSplit[T]:
    """Split `cases` into a tuning and a check part of (nearly) equal size, stratified by expected entry.

    The split depends only on the order and the expected entries, so cases and their evaluated
    results (`evaluate_cases` keeps the order) split alike.

    Raises:
        ConfigError: fewer than `MIN_CASES` cases.
    """
    if len(cases) < MIN_CASES:
        raise ConfigError(
            f"{len(cases)} test case(s) are too few to tune the threshold on some and check it on others; "
            f"save at least {MIN_CASES} in notebook 2 (or bring labelled cases)"
        )
    strata: dict[str | None, list[int]] = {}
    for i, case in enumerate(cases):
        strata.setdefault(case.expected_id, []).append(i)
    rng = random.Random(seed)
    tune: list[int] = []
    check: list[int] = []
    single: list[int] = []
    for members in strata.values():
        rng.shuffle(members)
        pairs = len(members) // 2
        check += members[:pairs]
        tune += members[pairs : 2 * pairs]
        single += members[2 * pairs :]
    rng.shuffle(single)
    for i in single:
        (tune if len(tune) <= len(check) else check).append(i)
    return CaseSplit(tuple(cases[i] for i in sorted(tune)), tuple(cases[i] for i in sorted(check)), seed)
