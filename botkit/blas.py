"""One BLAS thread for botkit's matrix work: its matrices are small (hundreds of rows, 512 columns).

A multi-threaded BLAS (OpenBLAS, numpy's default) gains nothing on them and its threads spin
while they wait: opening the sample knowledge base's retriever took 1.2-2.6 s of CPU with two
BLAS threads and 0.12-0.18 s with one (2 cores; the more processes share them, the worse). The
limit holds for the call only: other work in the process keeps its threads.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from threadpoolctl import threadpool_limits

P = ParamSpec("P")
R = TypeVar("R")


def one_thread(function: Callable[P, R]) -> Callable[P, R]:
    """`function` with BLAS limited to one thread while it runs."""

    @functools.wraps(function)
    def limited(*args: P.args, **kwargs: P.kwargs) -> R:
        with threadpool_limits(limits=1, user_api="blas"):
            return function(*args, **kwargs)

    return limited
