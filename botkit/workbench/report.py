"""The workshop report: one self-contained HTML file with the day's charts, tables and open decisions.

Every section is always there; one without findings says so (e.g. "No problems found"),
so the reader can tell "checked, nothing found" from "not looked at".
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from botkit.channels import LintFinding
from botkit.errors import Problem
from botkit.evaluation.metrics import CaseResult, reliability
from botkit.evaluation.report import plot_reliability
from botkit.knowledge import KnowledgeBase
from botkit.policy.escalation import Thresholds
from botkit.types import Topic
from botkit.workbench.charts import plot_coverage, plot_lint, png_data_uri
from botkit.workbench.columns import MappedKnowledge
from botkit.workbench.gaps import AskedQuestion, Cluster, answerable_share, plot_answerable
from botkit.workbench.overlap import CONFLICT, Overlap
from botkit.workbench.tradeoff import describe, plot_tradeoff, tradeoff_at, tradeoff_curve

SECTIONS: tuple[str, ...] = (
    "Knowledge base",
    "Validation problems",
    "Channel lint",
    "Coverage",
    "Duplicates and conflicts",
    "Gaps",
    "Threshold and trade-off",
    "Consent topics",
    "Open decisions",
)


@dataclass(frozen=True)
class ExportCheck:
    """What checking the client's own FAQ export found (notebook 1)."""

    source: str  # file name, e.g. "faq-export.xlsx"
    rows: int
    usable: int  # rows that became valid entries
    problems: tuple[Problem, ...] = ()
    overlaps: tuple[Overlap, ...] = ()

    @classmethod
    def of(cls, mapped: MappedKnowledge, source: str, overlaps: Sequence[Overlap] = ()) -> ExportCheck:
        """From `apply_mapping`'s result and `find_overlaps` on its entries."""
        return cls(source, mapped.rows, len(mapped.entries), mapped.problems, tuple(overlaps))


@dataclass(frozen=True)
class GapFindings:
    """Real customer questions run through the bot, and the groups of unanswered ones."""

    asked: tuple[AskedQuestion, ...]
    clusters: tuple[Cluster, ...]
    threshold: float


@dataclass(frozen=True)
class ThresholdFindings:
    """Evaluated cases and the threshold agreed on."""

    results: tuple[CaseResult, ...]
    limits: Thresholds  # the bot's limits; `threshold` replaces theirs
    threshold: float


@dataclass(frozen=True)
class Findings:
    """Everything the report shows; a finding left empty is reported as "none found"."""

    knowledge: KnowledgeBase  # the knowledge base the bot runs on
    export: ExportCheck | None = None
    lint: tuple[LintFinding, ...] = ()  # of the knowledge base
    overlaps: tuple[Overlap, ...] = ()  # within the knowledge base
    gaps: GapFindings | None = None
    threshold: ThresholdFindings | None = None
    proposed_topics: tuple[Topic, ...] = ()
    decisions: tuple[str, ...] = ()  # open decisions noted by the consultant
    day: date = field(default_factory=date.today)


def open_decisions(workshop: Findings) -> list[str]:
    """The consultant's open decisions plus those the findings raise, in report order."""
    found = list(workshop.decisions)
    export = workshop.export
    if export is not None and export.problems:
        found.append(f"Fix the {len(export.problems)} validation problem(s) in {export.source} (see the table).")
    overlaps = [*workshop.overlaps, *(export.overlaps if export else ())]
    conflicts = [o for o in overlaps if o.kind == CONFLICT]
    for o in conflicts:
        found.append(f"Similar questions, different answers: is one answer wrong, or should {o.first!r} and {o.second!r} be told apart better?")
    duplicates = len(overlaps) - len(conflicts)
    if duplicates:
        found.append(f"Merge {duplicates} duplicate pair(s) of entries.")
    hard = {f.entry_id for f in workshop.lint if f.hard}
    if hard:
        found.append(f"Shorten or split {len(hard)} answer(s) that break a platform limit: {', '.join(sorted(hard))}.")
    if workshop.gaps is not None:
        for cluster in workshop.gaps.clusters:
            if cluster.size >= 2:
                found.append(f"New entry or hand over to people? {cluster.size} questions like “{cluster.label}”.")
    if workshop.threshold is not None:
        found.append(f"Confirm the escalation threshold {workshop.threshold.threshold:.2f} with the service team.")
    for topic in workshop.proposed_topics:
        found.append(f"Have the wording of the proposed consent topic {topic.id!r} (version {topic.version}) approved.")
    return found


def write_report(workshop: Findings, path: str | Path, *, title: str | None = None) -> Path:
    """Write the workshop report as one HTML file (charts embedded as PNG) and return its path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    client = workshop.knowledge.client
    title = title or f"Workshop report: {client.name}"
    bodies = {
        "Knowledge base": _overview(workshop),
        "Validation problems": _problems(workshop),
        "Channel lint": _lint(workshop.lint),
        "Coverage": _coverage(workshop),
        "Duplicates and conflicts": _overlaps(workshop),
        "Gaps": _gaps(workshop.gaps),
        "Threshold and trade-off": _threshold(workshop.threshold),
        "Consent topics": _topics(workshop),
        "Open decisions": _decisions(open_decisions(workshop)),
    }
    nav = "".join(f'<a href="#{_anchor(h)}">{html.escape(h)}</a>' for h in SECTIONS)
    sections = "".join(
        f'<section id="{_anchor(h)}"><h2>{html.escape(h)}</h2>{bodies[h]}</section>' for h in SECTIONS
    )
    subtitle = f"{html.escape(client.name)} · bot “{html.escape(client.bot_name)}” · {workshop.day.isoformat()}"
    path.write_text(
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{_STYLE}</style></head><body><header><h1>{html.escape(title)}</h1><p>{subtitle}</p>"
        f"<nav>{nav}</nav></header>{sections}</body></html>\n",
        encoding="utf-8",
    )
    return path


def _overview(workshop: Findings) -> str:
    kb = workshop.knowledge
    scopes = Counter(e.scope for e in kb.entries)
    rows = [
        ("entries", len(kb.entries)),
        ("service / marketing entries", f"{scopes['service']} / {scopes['marketing']}"),
        ("languages", ", ".join(kb.languages) or "–"),
        ("topics", len({e.topic for e in kb.entries})),
        ("phrasings (questions and paraphrases)", sum(len(e.phrasings) for e in kb.entries)),
        ("entries without paraphrases", sum(not e.paraphrases for e in kb.entries)),
        ("consent topics", len(kb.client.topics)),
    ]
    return _table(["", ""], rows, head=False)


def _problems(workshop: Findings) -> str:
    export = workshop.export
    if export is None:
        return "<p>No client export was checked in this workshop.</p>"
    intro = f"<p>{html.escape(export.source)}: {export.usable} of {export.rows} row(s) became valid entries.</p>"
    if not export.problems:
        return intro + "<p class='ok'>No problems found.</p>"
    rows = [(p.line if p.line is not None else "", p.field or "", p.message) for p in export.problems]
    return intro + _table(["row", "field", "problem"], rows)


def _lint(findings: Sequence[LintFinding]) -> str:
    if not findings:
        return "<p class='ok'>Every answer fits every channel's limits and the house rules.</p>"
    hard = sum(f.hard for f in findings)
    intro = (
        f"<p>{len(findings)} finding(s), {hard} of them platform limits (the reply is split or cut), "
        "the others house rules for short messages.</p>"
    )
    rows = [
        (f.entry_id, f.channel, f.rule, "platform" if f.hard else "house", f.measured, f.limit, f.note)
        for f in sorted(findings, key=lambda f: (not f.hard, f.entry_id, f.channel))
    ]
    return intro + _img(plot_lint(findings)) + _table(["entry", "channel", "rule", "kind", "measured", "limit", "note"], rows)


def _coverage(workshop: Findings) -> str:
    entries = workshop.knowledge.entries
    if not entries:
        return "<p>The knowledge base is empty.</p>"
    return _img(plot_coverage(entries))


def _overlaps(workshop: Findings) -> str:
    export = workshop.export
    found = [*((export.source, o) for o in (export.overlaps if export else ())), *(("knowledge base", o) for o in workshop.overlaps)]
    if not found:
        return "<p class='ok'>No near-duplicate questions found.</p>"
    intro = (
        "<p>A <b>duplicate</b> has the same answer (merge the entries). A <b>conflict</b> has a different answer: "
        "either one answer is wrong, or the questions need clearer wording so the bot can tell them apart.</p>"
    )
    rows = [
        (where, o.kind, f"{o.first}\n{o.second}", f"{o.first_phrasing}\n{o.second_phrasing}", f"{o.similarity:.2f}",
         f"{o.first_answer}\n—\n{o.second_answer}")
        for where, o in found
    ]
    return intro + _table(["where", "kind", "entries", "closest phrasings", "similarity", "answers"], rows)


def _gaps(gaps: GapFindings | None) -> str:
    if gaps is None:
        return "<p>Not looked at in this workshop.</p>"
    retrieved = [a for a in gaps.asked if a.retrieved]
    share = answerable_share(gaps.asked, gaps.threshold)
    summary = (
        f"<p>{len(gaps.asked)} real customer question(s) were asked; at threshold {gaps.threshold:.2f} the bot would answer "
        f"<b>{_pct(share)}</b> of the {len(retrieved)} that needed the knowledge base (greetings and requests for a person aside). "
        "Answered is not the same as answered right: see the threshold section.</p>"
    )
    groups = [c for c in gaps.clusters if c.size >= 2]
    singles = [c.label for c in gaps.clusters if c.size < 2]
    rows = [(c.size, c.label, "\n".join(c.questions[1:]), f"{c.cohesion:.2f}") for c in groups]
    table = _table(["questions", "candidate entry (most central question)", "also asked as", "cohesion"], rows)
    rest = (
        f"<p>{len(singles)} single question(s) without a group:</p><ul>" + "".join(f"<li>{html.escape(s)}</li>" for s in singles) + "</ul>"
        if singles
        else ""
    )
    return summary + _img(plot_answerable(gaps.asked, gaps.threshold)) + "<h3>Groups of unanswered questions</h3>" + table + rest


def _threshold(findings: ThresholdFindings | None) -> str:
    if findings is None:
        return "<p>Not looked at in this workshop.</p>"
    results = findings.results
    at = tradeoff_at(results, findings.limits, findings.threshold)
    sentences = f"<blockquote>{html.escape(describe(at, 'en'))}<br>{html.escape(describe(at, 'de'))}</blockquote>"
    counts = (
        f"<p>Measured on {at.cases} labelled case(s): {at.answered} answered ({at.wrong} wrongly), "
        f"{at.handed_over} handed over, {at.clarified} asked back. In-scope accuracy {_pct(at.in_scope_accuracy)}.</p>"
    )
    curve = tradeoff_curve(results, findings.limits)
    return (
        sentences + counts + '<div class="plots">' + _img(plot_tradeoff(curve, findings.threshold))
        + _img(plot_reliability(reliability(results))) + "</div>"
    )


def _topics(workshop: Findings) -> str:
    kb = workshop.knowledge
    marketing = Counter(e.topic for e in kb.entries if e.scope == "marketing")
    rows: list[tuple[Any, ...]] = []
    for topic, status in [*((t, "in use") for t in kb.client.topics), *((t, "proposed") for t in workshop.proposed_topics)]:
        titles = " / ".join(f"{lang}: {text}" for lang, text in topic.title.items())
        description = topic.description.get("de") or next(iter(topic.description.values()), "")
        rows.append((topic.id, status, topic.version, titles, marketing.get(topic.id, 0), description))
    if not rows:
        return "<p>No consent topics: the bot sends no marketing content.</p>"
    orphans = sorted(set(marketing) - {t.id for t in kb.client.topics})
    warning = (
        f"<p class='warn'>Marketing entries whose topic nobody can opt into (never promoted): {html.escape(', '.join(orphans))}</p>"
        if orphans
        else ""
    )
    return _table(["topic", "status", "version", "title", "marketing entries", "wording (de)"], rows) + warning


def _decisions(decisions: Sequence[str]) -> str:
    if not decisions:
        return "<p class='ok'>Nothing left open.</p>"
    return "<ol>" + "".join(f"<li>{html.escape(d)}</li>" for d in decisions) + "</ol>"


def _img(fig: Any) -> str:
    return f'<img alt="chart" src="{png_data_uri(fig)}">'


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]], *, head: bool = True) -> str:
    thead = "<thead><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr></thead>" if head else ""
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table>{thead}<tbody>{body}</tbody></table>"


def _pct(share: float | None) -> str:
    return "–" if share is None else f"{round(share * 100)} %"


def _anchor(heading: str) -> str:
    return heading.lower().replace(" ", "-")


_STYLE = (
    "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:1100px;margin:0 auto;padding:1em 1.5em;color:#1f2937}"
    "header{border-bottom:3px solid #2563eb;margin-bottom:1em}header p{color:#555;margin:0 0 .5em}"
    "nav{display:flex;flex-wrap:wrap;gap:.3em 1em;font-size:.9em;margin:.5em 0}nav a{color:#2563eb;text-decoration:none}"
    "h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.6em}"
    "table{border-collapse:collapse;margin:.5em 0;font-size:.9em}td,th{border:1px solid #d1d5db;padding:4px 8px;text-align:left;"
    "vertical-align:top;white-space:pre-wrap}th{background:#f3f4f6}img{max-width:100%}"
    ".plots{display:flex;flex-wrap:wrap;gap:1em}.plots img{max-width:48%}"
    "blockquote{background:#eff6ff;border-left:4px solid #2563eb;margin:.5em 0;padding:.6em 1em;font-size:1.05em}"
    ".ok{color:#15803d}.warn{color:#b45309}"
)
