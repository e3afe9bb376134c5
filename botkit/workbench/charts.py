"""Charts for the workshop: knowledge coverage and lint findings, as matplotlib figures.

Figures are built on `Figure` with the Agg canvas (like `botkit.evaluation.report`), so
nothing touches pyplot's global state; notebooks show them, the report embeds them as PNG.
"""

from __future__ import annotations

import base64
from collections import Counter
from collections.abc import Sequence
from typing import Any

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from botkit.channels import CHANNELS, LintFinding
from botkit.evaluation.report import figure_png
from botkit.types import FaqEntry


def new_figure(width: float = 6.4, height: float = 4.0) -> tuple[Figure, Any]:
    """A figure with one axes, on the Agg canvas."""
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot()


def png_data_uri(fig: Figure) -> str:
    """The figure as a `data:image/png;base64,...` address for an `<img>`."""
    return "data:image/png;base64," + base64.b64encode(figure_png(fig)).decode("ascii")


def coverage_table(entries: Sequence[FaqEntry]) -> pd.DataFrame:
    """Entries per topic (rows) and language (columns), with totals; topics by size."""
    frame = pd.crosstab(pd.Series([e.topic for e in entries], name="topic"), pd.Series([e.lang for e in entries], name="lang"))
    frame["total"] = frame.sum(axis=1)
    return frame.sort_values(["total"], ascending=False, kind="stable")


def plot_coverage(entries: Sequence[FaqEntry]) -> Figure:
    """Entries per topic, stacked by language: where answers are missing in a language."""
    table = coverage_table(entries)
    fig, ax = new_figure(6.4, max(2.5, 0.35 * len(table) + 1.2))
    left = [0] * len(table)
    topics = list(table.index)[::-1]
    for lang in [c for c in table.columns if c != "total"]:
        counts = [int(table.loc[t, lang]) for t in topics]
        ax.barh(topics, counts, left=left[: len(topics)], label=lang)
        left = [a + b for a, b in zip(left, counts)]
    ax.set(xlabel="entries", title="Entries per topic and language")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(title="language", loc="lower right")
    return fig


def plot_lint(findings: Sequence[LintFinding]) -> Figure:
    """Findings per channel: platform limits (hard) and house rules."""
    fig, ax = new_figure(6.4, 3.2)
    hard = Counter(f.channel for f in findings if f.hard)
    house = Counter(f.channel for f in findings if not f.hard)
    ax.bar(CHANNELS, [hard[c] for c in CHANNELS], label="platform limit (hard)", color="tab:red")
    ax.bar(CHANNELS, [house[c] for c in CHANNELS], bottom=[hard[c] for c in CHANNELS], label="house rule", color="tab:orange")
    ax.set(ylabel="findings", title="Lint findings per channel")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend()
    return fig
