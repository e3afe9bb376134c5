"""Tables, plots and a self-contained HTML report (plots embedded as PNG) plus per-case CSV.

Plots are built on `matplotlib.figure.Figure` with the Agg canvas, so nothing here touches
pyplot's global state or needs a display; notebooks show the returned figures directly.
"""

from __future__ import annotations

import base64
import csv
import html
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from botkit.evaluation.metrics import CaseResult, ReliabilityBin, SweepPoint, case_metrics, confusions, reliability
from botkit.evaluation.runner import ConversationResult, conversation_metrics
from botkit.tabular import spreadsheet_safe

CASE_COLUMNS = (
    "source",
    "lang",
    "question",
    "expected_id",
    "decision",
    "reason",
    "entries",
    "top1",
    "rank",
    "confidence",
    "margin",
    "correct",
    "latency_ms",
)
TURN_COLUMNS = (
    "conversation",
    "step",
    "channel",
    "user",
    "decision",
    "entries",
    "bot",
    "failed",
    "format_problems",
    "marketing_leaks",
    "latency_ms",
    "source",
)


def case_rows(results: Sequence[CaseResult]) -> list[dict[str, Any]]:
    """One row per case (`CASE_COLUMNS`), in input order; numbers rounded to 3 decimals."""
    return [
        {
            "source": r.source,
            "lang": r.lang,
            "question": r.question,
            "expected_id": r.expected_id or "",
            "decision": r.decision.value,
            "reason": r.reason,
            "entries": " | ".join(r.entries),
            "top1": r.ranked[0] if r.ranked else "",
            "rank": r.rank or "",
            "confidence": round(r.confidence, 3),
            "margin": round(r.margin, 3),
            "correct": r.answered_right if r.in_scope else r.handed_over,
            "latency_ms": round(r.latency_ms, 1),
        }
        for r in results
    ]


def turn_rows(results: Sequence[ConversationResult]) -> list[dict[str, Any]]:
    """One row per script step (`TURN_COLUMNS`): the bot's messages and every failed check."""
    rows = []
    for conversation in results:
        for setup in conversation.setup:
            rows.append(
                {
                    "conversation": conversation.name,
                    "step": 0,
                    "channel": conversation.channel,
                    "user": "",
                    "decision": "setup",
                    "entries": "",
                    "bot": "",
                    "failed": f"{setup.key}: {setup.note}",
                    "format_problems": "",
                    "marketing_leaks": "",
                    "latency_ms": 0.0,
                    "source": conversation.source,
                }
            )
        for t in conversation.turns:
            rows.append(
                {
                    "conversation": t.conversation,
                    "step": t.step,
                    "channel": t.channel,
                    "user": t.user,
                    "decision": t.decision,
                    "entries": " | ".join(t.entries),
                    "bot": "\n---\n".join(t.messages),
                    "failed": "; ".join(_describe(c.key, c.expected, c.actual, c.note) for c in t.failed),
                    "format_problems": "; ".join(t.format_problems),
                    "marketing_leaks": ", ".join(t.marketing_leaks),
                    "latency_ms": round(t.latency_ms, 1),
                    "source": t.source,
                }
            )
    return rows


def _describe(key: str, expected: Any, actual: Any, note: str) -> str:
    text = f"{key}: expected {expected!r}, got {actual!r}"
    return f"{text} ({note})" if note else text


def plot_confidence(results: Sequence[CaseResult], threshold: float | None = None) -> Figure:
    """Histograms of confidence for in-scope and out-of-scope questions (want: little overlap)."""
    fig, ax = _figure()
    bins = [i / 20 for i in range(21)]
    ax.hist([r.confidence for r in results if r.in_scope], bins=bins, alpha=0.6, label="in scope", color="tab:blue")
    ax.hist([r.confidence for r in results if not r.in_scope], bins=bins, alpha=0.6, label="out of scope", color="tab:red")
    if threshold is not None:
        ax.axvline(threshold, color="black", linestyle="--", label=f"threshold {threshold:.3f}")
    ax.set(xlabel="confidence", ylabel="questions", title="Confidence by question type", xlim=(0, 1))
    ax.legend()
    return fig


def plot_reliability(bins: Sequence[ReliabilityBin]) -> Figure:
    """Reliability diagram: per confidence bin, how often the top entry was right."""
    fig, ax = _figure()
    filled = [b for b in bins if b.count]
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="perfect calibration")
    ax.bar(
        [(b.low + b.high) / 2 for b in filled],
        [b.accuracy or 0.0 for b in filled],
        width=[b.high - b.low for b in filled],
        alpha=0.6,
        edgecolor="black",
        label="top entry right",
    )
    for b in filled:
        ax.annotate(str(b.count), ((b.low + b.high) / 2, (b.accuracy or 0.0) + 0.02), ha="center", fontsize=8)
    ax.set(xlabel="confidence", ylabel="share right (n above bars)", title="Reliability", xlim=(0, 1), ylim=(0, 1.08))
    ax.legend(loc="upper left")
    return fig


def plot_threshold_curve(points: Sequence[SweepPoint], threshold: float | None = None) -> Figure:
    """In-scope accuracy, OOS recall and their mean against the threshold."""
    fig, ax = _figure()
    xs = [p.threshold for p in points]
    ax.plot(xs, [p.in_scope_accuracy for p in points], label="in-scope accuracy")
    ax.plot(xs, [p.oos_recall for p in points], label="OOS recall")
    ax.plot(xs, [p.balanced for p in points], label="balanced (mean)", linestyle="--")
    if threshold is not None:
        ax.axvline(threshold, color="black", linestyle=":", label=f"threshold {threshold:.3f}")
    ax.set(xlabel="threshold", ylabel="share", title="Accuracy and OOS recall against the threshold", xlim=(0, 1), ylim=(0, 1.02))
    ax.legend(loc="lower left")
    return fig


def _figure() -> tuple[Figure, Any]:
    fig = Figure(figsize=(6.4, 4.0), layout="constrained")
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot()


def figure_png(fig: Figure) -> bytes:
    """The figure as PNG bytes."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def write_case_report(
    results: Sequence[CaseResult],
    directory: str | Path,
    *,
    sweep_points: Sequence[SweepPoint],
    threshold: float,
    title: str = "botkit evaluation",
) -> Path:
    """Write `cases.csv` and `report.html` (metrics, plots, worst confusions) into `directory`."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    rows = case_rows(results)
    _write_csv(folder / "cases.csv", CASE_COLUMNS, rows)
    wrong = sorted((r for r in results if r.in_scope and not r.answered_right), key=lambda r: (-r.confidence, r.source))
    sections = [
        ("Metrics", _table(["metric", "value"], list(case_metrics(results).items()))),
        ("Confidence: in scope vs out of scope", _img(plot_confidence(results, threshold))),
        ("Reliability", _img(plot_reliability(reliability(results)))),
        ("Threshold", _img(plot_threshold_curve(sweep_points, threshold))),
        ("Worst confusions", _table(["expected", "got", "cases"], confusions(results)[:15])),
        (
            "Missed in-scope questions (most confident first)",
            _table(
                ["source", "question", "expected", "decision", "entries", "confidence"],
                [(r.source, r.question, r.expected_id, r.decision.value, ", ".join(r.entries), f"{r.confidence:.3f}") for r in wrong],
            ),
        ),
        ("Cases", '<p>Every case with its outcome: <a href="cases.csv">cases.csv</a>.</p>'),
    ]
    return _write_html(folder / "report.html", title, sections)


def write_conversation_report(results: Sequence[ConversationResult], directory: str | Path, *, title: str = "botkit conversations") -> Path:
    """Write `turns.csv` and `report.html` (metrics, failed expectations, transcripts) into `directory`."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    rows = turn_rows(results)
    _write_csv(folder / "turns.csv", TURN_COLUMNS, rows)
    failing = [r for r in rows if r["failed"] or r["format_problems"] or r["marketing_leaks"]]
    columns = ["conversation", "step", "user", "failed", "format_problems", "marketing_leaks"]
    sections = [
        ("Metrics", _table(["metric", "value"], list(conversation_metrics(results).items()))),
        ("Failed checks", _table(columns, [[r[c] for c in columns] for r in failing])),
        (
            "Transcripts",
            _table(
                ["conversation", "step", "user", "bot", "decision", "entries"],
                [[r[c] for c in ("conversation", "step", "user", "bot", "decision", "entries")] for r in rows],
            ),
        ),
        ("Turns", '<p>Every step with its checks: <a href="turns.csv">turns.csv</a>.</p>'),
    ]
    return _write_html(folder / "report.html", title, sections)


def _write_csv(path: Path, columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(columns))
        writer.writeheader()
        writer.writerows({key: spreadsheet_safe(value) for key, value in row.items()} for row in rows)


def _img(fig: Figure) -> str:
    data = base64.b64encode(figure_png(fig)).decode("ascii")
    return f'<img alt="plot" src="data:image/png;base64,{data}">'


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    if not rows:
        return "<p>None.</p>"
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape('' if v is None else str(v))}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}"
    "table{border-collapse:collapse;margin:0.5em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;"
    "vertical-align:top;white-space:pre-wrap}th{background:#f3f3f3}img{max-width:100%}"
)


def _write_html(path: Path, title: str, sections: Sequence[tuple[str, str]]) -> Path:
    body = "".join(f"<section><h2>{html.escape(h)}</h2>{content}</section>" for h, content in sections)
    path.write_text(
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>{body}</body></html>\n",
        encoding="utf-8",
    )
    return path
