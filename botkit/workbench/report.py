"""The workshop report: one self-contained HTML file with the day's charts, tables and open decisions.

Every section is always there; one without findings says so (e.g. "No problems found"),
so the reader can tell "checked, nothing found" from "not looked at". The report is written in
the client's language (German or English; by default the main language of the knowledge base).
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from botkit.channels import LintFinding
from botkit.errors import ConfigError, Problem
from botkit.evaluation.metrics import CaseResult, redecide, reliability
from botkit.evaluation.report import plot_reliability
from botkit.knowledge import KnowledgeBase
from botkit.policy.escalation import Thresholds
from botkit.types import Decision, FaqEntry, Topic
from botkit.workbench.charts import plot_coverage, plot_lint, png_data_uri
from botkit.workbench.columns import MappedKnowledge
from botkit.workbench.folder import ImportChoices
from botkit.workbench.gaps import AskedQuestion, Cluster, answerable_share, has_band, misses, plot_answerable
from botkit.workbench.offers import MARKETING, OfferFinding
from botkit.workbench.overlap import CONFLICT, Overlap
from botkit.workbench.script import Example, main_language
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
    "Example conversations",
    "Open decisions",
)

LANGUAGES = ("de", "en")
_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "Knowledge base": "Knowledge base",
        "Validation problems": "Validation problems",
        "Channel lint": "Channel lint",
        "Coverage": "Coverage",
        "Duplicates and conflicts": "Duplicates and conflicts",
        "Gaps": "Gaps",
        "Threshold and trade-off": "Threshold and trade-off",
        "Consent topics": "Consent topics",
        "Open decisions": "Open decisions",
        "Example conversations": "Example conversations",
        "no_examples": "No example conversations were recorded.",
        "ex_answer": "The bot introduces itself and answers",
        "ex_bot_question": "“Are you a human?”",
        "ex_not_in_faq": "A real question the FAQ does not answer",
        "ex_person": "Asking for a person",
        "customer": "customer",
        "title": "Workshop report: {client}",
        "bot": "bot",
        "entries": "entries",
        "scopes": "service / marketing entries",
        "languages": "languages",
        "topics": "topics",
        "phrasings": "phrasings (questions and paraphrases)",
        "bare": "entries without paraphrases",
        "consent_topics": "consent topics",
        "no_export": "No client export was checked in this workshop.",
        "export_rows": "{source}: {usable} of {rows} row(s) became valid entries.",
        "no_problems": "No problems found.",
        "row": "row",
        "field": "field",
        "problem": "problem",
        "lint_ok": "Every answer fits every channel's limits and the house rules.",
        "lint_intro": "{n} finding(s), {hard} of them platform limits (the reply is split or cut), the others house rules for short messages.",
        "entry": "entry",
        "channel": "channel",
        "rule": "rule",
        "kind": "kind",
        "measured": "measured",
        "limit": "limit",
        "note": "note",
        "platform": "platform",
        "house": "house",
        "empty_kb": "The knowledge base is empty.",
        "no_overlaps": "No near-duplicate questions found.",
        "overlap_intro": "A <b>duplicate</b> has the same answer (merge the entries). A <b>conflict</b> has a different answer: "
        "either one answer is wrong, or the questions need clearer wording so the bot can tell them apart.",
        "where": "where",
        "entries_col": "entries",
        "closest": "closest phrasings",
        "similarity": "similarity",
        "answers": "answers",
        "duplicate": "duplicate",
        "conflict": "conflict",
        "in_kb": "knowledge base",
        "not_looked": "Not looked at in this workshop.",
        "gaps_summary": "{asked} real customer question(s) were asked; at threshold {threshold} the bot would answer <b>{share}</b> "
        "of the {retrieved} that needed the knowledge base (greetings and requests for a person aside). "
        "Answered is not the same as answered right: see the threshold section.",
        "missed_title": "Covered but missed",
        "missed_intro": "{n} question(s) fell just below the threshold, in the band where the bot offers its nearest entries: "
        "the FAQ most likely covers them. Add each as a phrasing of its entry (notebook 2) rather than writing a new entry.",
        "no_missed": "No question fell in the band just below the threshold.",
        "nearest": "nearest entry",
        "score": "score",
        "no_band": "The calibration has no uncertain band below the threshold, so a question's score cannot tell a miss from a "
        "hole: every unanswered question is listed below as not in the FAQ, each with its nearest entry to check.",
        "single_nearest": "nearest entry {entry}, score {score}",
        "d_missed": "Add the {n} question(s) the FAQ covers but the bot missed as phrasings of their nearest entries (see Gaps).",
        "groups": "Groups of questions not in the FAQ",
        "size": "questions",
        "candidate": "candidate entry (most central question)",
        "also": "also asked as",
        "cohesion": "cohesion",
        "singles": "{n} single question(s) without a group:",
        "counts": "Measured on {cases} labelled case(s): {answered} answered ({wrong} wrongly), {handed} handed over, "
        "{clarified} asked back. In-scope accuracy {accuracy}.",
        "held_out": "The threshold was tuned on {tuned} other cases; these {cases} were kept apart to measure it honestly.",
        "wrong_title": "Answered wrongly at this threshold",
        "no_wrong": "No case was answered wrongly at this threshold.",
        "question": "question",
        "given": "answered from",
        "right": "right entry",
        "a_person": "a person should answer",
        "topic": "topic",
        "status": "status",
        "version": "version",
        "title_col": "title",
        "marketing": "marketing entries",
        "wording": "wording",
        "in_use": "in use",
        "proposed": "proposed",
        "no_topics": "No consent topics: the bot sends no marketing content.",
        "orphans": "Marketing entries whose topic nobody can opt into (never promoted): {topics}",
        "nothing_open": "Nothing left open.",
        "d_problems": "Fix the {n} validation problem(s) in {source} (see the table).",
        "d_conflict": "Similar questions, different answers: is one answer wrong, or should {first!r} and {second!r} be told apart better?",
        "d_duplicates": "Merge {n} duplicate pair(s) of entries.",
        "d_offer_marketing": "Row {id} looks like an offer ({words}): mark it as marketing or keep it as service (notebook 1).",
        "d_offer_teaser": "The service answer of {id} holds offer text ({words}) that reaches every customer without consent: "
        "move it to a teaser (notebook 1).",
        "offers_title": "Offers found in the export",
        "suggestion": "suggestion",
        "found": "found",
        "state": "decision",
        "s_marketing": "mark as marketing",
        "s_teaser": "move the offer to a teaser",
        "st_open": "open: nothing applied",
        "st_applied": "applied",
        "st_kept": "kept as it is",
        "decision": "decision",
        "open": "open",
        "d_lint": "Shorten or split {n} answer(s) that break a platform limit: {ids}.",
        "d_gap": "New entry or hand over to people? {n} questions like “{label}”.",
        "d_threshold": "Confirm the escalation threshold {threshold} with the service team.",
        "d_wrong": "Check the {n} question(s) answered from the wrong entry (see the threshold section).",
        "d_topic": "Have the wording of the proposed consent topic {id!r} (version {version}) approved.",
    },
    "de": {
        "Knowledge base": "Wissensbasis",
        "Validation problems": "Probleme beim Import",
        "Channel lint": "Prüfung je Kanal",
        "Coverage": "Abdeckung",
        "Duplicates and conflicts": "Doppelte und widersprüchliche Einträge",
        "Gaps": "Lücken",
        "Threshold and trade-off": "Schwelle und Abwägung",
        "Consent topics": "Einwilligungsthemen",
        "Open decisions": "Offene Entscheidungen",
        "Example conversations": "Beispielgespräche",
        "no_examples": "Es wurden keine Beispielgespräche aufgezeichnet.",
        "ex_answer": "Der Bot stellt sich vor und antwortet",
        "ex_bot_question": "„Bist du ein Mensch?“",
        "ex_not_in_faq": "Eine echte Frage, die das FAQ nicht beantwortet",
        "ex_person": "Bitte um einen Menschen",
        "customer": "Kunde",
        "title": "Workshop-Bericht: {client}",
        "bot": "Bot",
        "entries": "Einträge",
        "scopes": "Service- / Marketing-Einträge",
        "languages": "Sprachen",
        "topics": "Themen",
        "phrasings": "Formulierungen (Fragen und Umschreibungen)",
        "bare": "Einträge ohne Umschreibungen",
        "consent_topics": "Einwilligungsthemen",
        "no_export": "In diesem Workshop wurde kein Export des Kunden geprüft.",
        "export_rows": "{source}: aus {usable} von {rows} Zeile(n) wurden gültige Einträge.",
        "no_problems": "Keine Probleme gefunden.",
        "row": "Zeile",
        "field": "Feld",
        "problem": "Problem",
        "lint_ok": "Jede Antwort passt in die Grenzen jedes Kanals und die Hausregeln.",
        "lint_intro": "{n} Befund(e), davon {hard} Grenzen einer Plattform (die Antwort wird geteilt oder gekürzt), die übrigen "
        "Hausregeln für kurze Nachrichten.",
        "entry": "Eintrag",
        "channel": "Kanal",
        "rule": "Regel",
        "kind": "Art",
        "measured": "gemessen",
        "limit": "Grenze",
        "note": "Hinweis",
        "platform": "Plattform",
        "house": "Hausregel",
        "empty_kb": "Die Wissensbasis ist leer.",
        "no_overlaps": "Keine fast gleichen Fragen gefunden.",
        "overlap_intro": "Eine <b>Dublette</b> hat dieselbe Antwort (Einträge zusammenführen). Ein <b>Widerspruch</b> hat eine andere "
        "Antwort: entweder ist eine Antwort falsch, oder die Fragen müssen klarer formuliert werden, damit der Bot sie unterscheiden kann.",
        "where": "Fundort",
        "entries_col": "Einträge",
        "closest": "ähnlichste Formulierungen",
        "similarity": "Ähnlichkeit",
        "answers": "Antworten",
        "duplicate": "Dublette",
        "conflict": "Widerspruch",
        "in_kb": "Wissensbasis",
        "not_looked": "In diesem Workshop nicht betrachtet.",
        "gaps_summary": "{asked} echte Kundenfrage(n) wurden gestellt; bei der Schwelle {threshold} würde der Bot <b>{share}</b> der "
        "{retrieved} Fragen beantworten, die die Wissensbasis brauchen (Begrüßungen und Bitten um einen Menschen ausgenommen). "
        "Beantwortet heißt nicht richtig beantwortet: siehe den Abschnitt zur Schwelle.",
        "missed_title": "Im FAQ, aber verfehlt",
        "missed_intro": "{n} Frage(n) lagen knapp unter der Schwelle, dort, wo der Bot seine nächsten Einträge anbietet: "
        "Das FAQ deckt sie sehr wahrscheinlich ab. Jede als Formulierung ihres Eintrags ergänzen (Notebook 2) statt einen neuen Eintrag zu schreiben.",
        "no_missed": "Keine Frage lag knapp unter der Schwelle.",
        "nearest": "nächster Eintrag",
        "score": "Wert",
        "no_band": "Die Kalibrierung hat keinen Unsicherheitsbereich unter der Schwelle; am Wert einer Frage lässt sich daher nicht "
        "erkennen, ob das FAQ sie abdeckt: Jede unbeantwortete Frage steht unten als „nicht im FAQ“, mit ihrem nächsten Eintrag zum Prüfen.",
        "single_nearest": "nächster Eintrag {entry}, Wert {score}",
        "d_missed": "Die {n} Frage(n), die das FAQ abdeckt, der Bot aber verfehlt hat, als Formulierungen ihrer nächsten Einträge ergänzen (siehe Lücken).",
        "groups": "Gruppen von Fragen, die das FAQ nicht beantwortet",
        "size": "Fragen",
        "candidate": "möglicher Eintrag (zentralste Frage)",
        "also": "auch gefragt als",
        "cohesion": "Zusammenhalt",
        "singles": "{n} einzelne Frage(n) ohne Gruppe:",
        "counts": "Gemessen an {cases} Testfrage(n): {answered} beantwortet ({wrong} davon falsch), {handed} an einen Menschen übergeben, "
        "{clarified} nachgefragt. Treffsicherheit bei Fragen aus dem FAQ: {accuracy}.",
        "held_out": "Die Schwelle wurde an {tuned} anderen Testfragen abgestimmt; diese {cases} wurden zurückgehalten, um sie ehrlich zu messen.",
        "wrong_title": "Bei dieser Schwelle falsch beantwortet",
        "no_wrong": "Bei dieser Schwelle wurde keine Testfrage falsch beantwortet.",
        "question": "Frage",
        "given": "beantwortet aus",
        "right": "richtiger Eintrag",
        "a_person": "ein Mensch sollte antworten",
        "topic": "Thema",
        "status": "Status",
        "version": "Version",
        "title_col": "Titel",
        "marketing": "Marketing-Einträge",
        "wording": "Wortlaut",
        "in_use": "in Gebrauch",
        "proposed": "vorgeschlagen",
        "no_topics": "Keine Einwilligungsthemen: Der Bot versendet keine Werbung.",
        "orphans": "Marketing-Einträge, deren Thema niemand abonnieren kann (werden nie beworben): {topics}",
        "nothing_open": "Nichts offen.",
        "d_problems": "Die {n} Importproblem(e) in {source} beheben (siehe Tabelle).",
        "d_conflict": "Ähnliche Fragen, verschiedene Antworten: Ist eine Antwort falsch, oder sollen {first!r} und {second!r} klarer unterschieden werden?",
        "d_duplicates": "{n} doppelte(s) Eintragspaar(e) zusammenführen.",
        "d_offer_marketing": "Zeile {id} sieht nach einem Angebot aus ({words}): als Marketing markieren oder als Service lassen (Notebook 1).",
        "d_offer_teaser": "Die Service-Antwort von {id} enthält Angebotstext ({words}), der jeden Kunden ohne Einwilligung erreicht: "
        "in einen Teaser verschieben (Notebook 1).",
        "offers_title": "Angebote im Export",
        "suggestion": "Vorschlag",
        "found": "gefunden",
        "state": "Entscheidung",
        "s_marketing": "als Marketing markieren",
        "s_teaser": "Angebot in einen Teaser verschieben",
        "st_open": "offen: nichts angewendet",
        "st_applied": "angewendet",
        "st_kept": "unverändert gelassen",
        "decision": "Entscheidung",
        "open": "offen",
        "d_lint": "{n} Antwort(en) kürzen oder teilen, die eine Plattform-Grenze überschreiten: {ids}.",
        "d_gap": "Neuer Eintrag oder an Menschen übergeben? {n} Fragen wie „{label}“.",
        "d_threshold": "Die Schwelle {threshold} für die Übergabe mit dem Service-Team bestätigen.",
        "d_wrong": "Die {n} Frage(n) prüfen, die aus dem falschen Eintrag beantwortet wurden (siehe Abschnitt zur Schwelle).",
        "d_topic": "Den Wortlaut des vorgeschlagenen Einwilligungsthemas {id!r} (Version {version}) freigeben lassen.",
    },
}


@dataclass(frozen=True)
class ExportCheck:
    """What checking the client's own FAQ export found (notebook 1)."""

    source: str  # file name, e.g. "faq-export.xlsx"
    rows: int
    usable: int  # rows that became valid entries
    problems: tuple[Problem, ...] = ()
    overlaps: tuple[Overlap, ...] = ()
    offers: tuple[OfferFinding, ...] = ()  # rows suggested as marketing, service answers holding an offer
    choices: ImportChoices = field(default_factory=ImportChoices)  # what the consultant decided on both

    @classmethod
    def of(
        cls,
        mapped: MappedKnowledge,
        source: str,
        overlaps: Sequence[Overlap] = (),
        *,
        offers: Sequence[OfferFinding] = (),
        choices: ImportChoices | None = None,
    ) -> ExportCheck:
        """From `apply_mapping`'s result, `find_overlaps` and `find_offers` on its entries, and the saved choices."""
        return cls(source, mapped.rows, len(mapped.entries), mapped.problems, tuple(overlaps), tuple(offers), choices or ImportChoices())


@dataclass(frozen=True)
class GapFindings:
    """Real customer questions run through the bot, and the groups of those not in the FAQ."""

    asked: tuple[AskedQuestion, ...]
    clusters: tuple[Cluster, ...]  # of the holes (`gaps.holes`)
    limits: Thresholds  # the bot's: its threshold and uncertain band tell answered, missed and holes apart

    @property
    def threshold(self) -> float:
        return self.limits.threshold


@dataclass(frozen=True)
class ThresholdFindings:
    """Evaluated cases and the threshold agreed on."""

    results: tuple[CaseResult, ...]  # the held-out check cases, not those the threshold was tuned on
    limits: Thresholds  # the bot's limits; `threshold` replaces theirs
    threshold: float
    tuned_on: int = 0  # cases the threshold was tuned on (kept apart from `results`)


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
    examples: tuple[Example, ...] = ()  # example conversations with the client's bot
    decisions: tuple[str, ...] = ()  # open decisions noted by the consultant
    day: date = field(default_factory=date.today)


def report_language(workshop: Findings) -> str:
    """The language the report is written in: the knowledge base's main language if German or English, else English."""
    lang = main_language(workshop.knowledge)
    return lang if lang in LANGUAGES else "en"


def open_decisions(workshop: Findings, lang: str | None = None) -> list[str]:
    """The consultant's open decisions plus those the findings raise, each once, in report order."""
    w = _words(lang or report_language(workshop))
    found = list(workshop.decisions)
    export = workshop.export
    if export is not None and export.problems:
        found.append(w["d_problems"].format(n=len(export.problems), source=export.source))
    decided = export.choices.overlaps if export is not None else {}
    overlaps = [o for _, o in _overlap_list(workshop) if (o.first, o.second) not in decided]
    conflicts = [o for o in overlaps if o.kind == CONFLICT]
    for o in conflicts:
        found.append(w["d_conflict"].format(first=o.first, second=o.second))
    duplicates = len(overlaps) - len(conflicts)
    if duplicates:
        found.append(w["d_duplicates"].format(n=duplicates))
    open_offers = [o for o in export.offers if o.entry_id not in export.choices.offers] if export is not None else []
    for offer in open_offers:
        key = "d_offer_marketing" if offer.kind == MARKETING else "d_offer_teaser"
        found.append(w[key].format(id=offer.entry_id, words=", ".join(offer.words)))
    hard = {f.entry_id for f in workshop.lint if f.hard}
    if hard:
        found.append(w["d_lint"].format(n=len(hard), ids=", ".join(sorted(hard))))
    if workshop.gaps is not None:
        missed = misses(workshop.gaps.asked, workshop.gaps.limits)
        if missed:
            found.append(w["d_missed"].format(n=len(missed)))
        for cluster in workshop.gaps.clusters:
            if cluster.size >= 2:
                found.append(w["d_gap"].format(n=cluster.size, label=cluster.label))
    if workshop.threshold is not None:
        found.append(w["d_threshold"].format(threshold=_number(workshop.threshold.threshold, lang or report_language(workshop))))
        wrong = wrong_answers(workshop.threshold)
        if wrong:
            found.append(w["d_wrong"].format(n=len(wrong)))
    for topic in workshop.proposed_topics:
        found.append(w["d_topic"].format(id=topic.id, version=topic.version))
    return list(dict.fromkeys(found))


def wrong_answers(findings: ThresholdFindings) -> list[CaseResult]:
    """The cases answered from another entry than the right one (or answered though a person should) at the agreed threshold."""
    limits = replace(findings.limits, threshold=findings.threshold)
    at = [redecide(r, limits) for r in findings.results]
    return [r for r in at if r.decision == Decision.ANSWERED and r.entries and not r.answered_right]


def write_report(workshop: Findings, path: str | Path, *, title: str | None = None, lang: str | None = None) -> Path:
    """Write the workshop report as one HTML file (charts embedded as PNG) and return its path.

    Args:
        lang: "de" or "en"; default: the main language of the knowledge base (English for others).
    """
    lang = lang or report_language(workshop)
    w = _words(lang)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    client = workshop.knowledge.client
    title = title or w["title"].format(client=client.name)
    bodies = {
        "Knowledge base": _overview(workshop, w),
        "Validation problems": _problems(workshop, w),
        "Channel lint": _lint(workshop.lint, w),
        "Coverage": _coverage(workshop, w),
        "Duplicates and conflicts": _overlaps(workshop, w),
        "Gaps": _gaps(workshop.gaps, w, lang, workshop.knowledge.by_id()),
        "Threshold and trade-off": _threshold(workshop, w, lang),
        "Consent topics": _topics(workshop, w, lang),
        "Example conversations": _examples(workshop, w),
        "Open decisions": _decisions(open_decisions(workshop, lang), w),
    }
    nav = "".join(f'<a href="#{_anchor(h)}">{html.escape(w[h])}</a>' for h in SECTIONS)
    sections = "".join(f'<section id="{_anchor(h)}"><h2>{html.escape(w[h])}</h2>{bodies[h]}</section>' for h in SECTIONS)
    subtitle = f"{html.escape(client.name)} · {w['bot']} “{html.escape(client.bot_name)}” · {workshop.day.isoformat()}"
    path.write_text(
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{_STYLE}</style></head><body><header><h1>{html.escape(title)}</h1><p>{subtitle}</p>"
        f"<nav>{nav}</nav></header>{sections}</body></html>\n",
        encoding="utf-8",
    )
    return path


def _words(lang: str) -> dict[str, str]:
    if lang not in _WORDS:
        raise ConfigError(f"no report wording for language {lang!r}; known: {', '.join(_WORDS)}")
    return _WORDS[lang]


def _overview(workshop: Findings, w: dict[str, str]) -> str:
    kb = workshop.knowledge
    scopes = Counter(e.scope for e in kb.entries)
    rows = [
        (w["entries"], len(kb.entries)),
        (w["scopes"], f"{scopes['service']} / {scopes['marketing']}"),
        (w["languages"], ", ".join(kb.languages) or "–"),
        (w["topics"], len({e.topic for e in kb.entries})),
        (w["phrasings"], sum(len(e.phrasings) for e in kb.entries)),
        (w["bare"], sum(not e.paraphrases for e in kb.entries)),
        (w["consent_topics"], len(kb.client.topics)),
    ]
    return _table(["", ""], rows, head=False)


def _problems(workshop: Findings, w: dict[str, str]) -> str:
    export = workshop.export
    if export is None:
        return f"<p>{w['no_export']}</p>"
    intro = f"<p>{html.escape(w['export_rows'].format(source=export.source, usable=export.usable, rows=export.rows))}</p>"
    if not export.problems:
        return intro + f"<p class='ok'>{w['no_problems']}</p>"
    rows = [(p.line if p.line is not None else "", p.field or "", p.message) for p in export.problems]
    return intro + _table([w["row"], w["field"], w["problem"]], rows)


def _lint(findings: Sequence[LintFinding], w: dict[str, str]) -> str:
    if not findings:
        return f"<p class='ok'>{w['lint_ok']}</p>"
    hard = sum(f.hard for f in findings)
    intro = f"<p>{w['lint_intro'].format(n=len(findings), hard=hard)}</p>"
    rows = [
        (f.entry_id, f.channel, f.rule, w["platform"] if f.hard else w["house"], f.measured, f.limit, f.note)
        for f in sorted(findings, key=lambda f: (not f.hard, f.entry_id, f.channel))
    ]
    header = [w["entry"], w["channel"], w["rule"], w["kind"], w["measured"], w["limit"], w["note"]]
    return intro + _img(plot_lint(findings)) + _table(header, rows)


def _coverage(workshop: Findings, w: dict[str, str]) -> str:
    entries = workshop.knowledge.entries
    if not entries:
        return f"<p>{w['empty_kb']}</p>"
    return _img(plot_coverage(entries))


def _overlap_list(workshop: Findings) -> list[tuple[str | None, Overlap]]:
    """Overlaps of the knowledge base and of the export, each pair of entries once (the knowledge base's first)."""
    export = workshop.export
    found: list[tuple[str | None, Overlap]] = [*((None, o) for o in workshop.overlaps), *(((export.source, o) for o in export.overlaps) if export else ())]
    seen: set[frozenset[str]] = set()
    unique = []
    for where, o in found:
        pair = frozenset((o.first, o.second))
        if pair not in seen:
            seen.add(pair)
            unique.append((where, o))
    return unique


def _overlaps(workshop: Findings, w: dict[str, str]) -> str:
    found = _overlap_list(workshop)
    if not found:
        return f"<p class='ok'>{w['no_overlaps']}</p>"
    decided = workshop.export.choices.overlaps if workshop.export is not None else {}
    rows = [
        (
            where or w["in_kb"],
            w[o.kind],
            f"{o.first}\n{o.second}",
            f"{o.first_phrasing}\n{o.second_phrasing}",
            f"{o.similarity:.2f}",
            f"{o.first_answer}\n—\n{o.second_answer}",
            decided.get((o.first, o.second), w["open"]),
        )
        for where, o in found
    ]
    header = [w["where"], w["kind"], w["entries_col"], w["closest"], w["similarity"], w["answers"], w["decision"]]
    return f"<p>{w['overlap_intro']}</p>" + _table(header, rows)


def _gaps(gaps: GapFindings | None, w: dict[str, str], lang: str, entries: dict[str, FaqEntry]) -> str:
    if gaps is None:
        return f"<p>{w['not_looked']}</p>"
    retrieved = [a for a in gaps.asked if a.retrieved]
    share = answerable_share(gaps.asked, gaps.threshold)
    summary = (
        "<p>" + w["gaps_summary"].format(asked=len(gaps.asked), threshold=_number(gaps.threshold, lang), share=_pct(share), retrieved=len(retrieved)) + "</p>"
    )
    groups = [c for c in gaps.clusters if c.size >= 2]
    singles = [c.label for c in gaps.clusters if c.size < 2]
    rows = [(c.size, c.label, "\n".join(c.questions[1:]), f"{c.cohesion:.2f}") for c in groups]
    table = _table([w["size"], w["candidate"], w["also"], w["cohesion"]], rows)
    asked = {a.question: a for a in gaps.asked}

    def single(question: str) -> str:
        a = asked.get(question)
        if a is None or a.nearest is None:
            return html.escape(question)
        nearest = f"{a.nearest}: {entries[a.nearest].question}" if a.nearest in entries else a.nearest
        return f"{html.escape(question)} <i>({html.escape(w['single_nearest'].format(entry=nearest, score=_number(a.confidence, lang)))})</i>"

    rest = f"<p>{w['singles'].format(n=len(singles))}</p><ul>" + "".join(f"<li>{single(s)}</li>" for s in singles) + "</ul>" if singles else ""
    missed = misses(gaps.asked, gaps.limits)
    missed_rows = [
        (a.question, f"{a.nearest}: {entries[a.nearest].question}" if a.nearest in entries else a.nearest or "", _number(a.confidence, lang)) for a in missed
    ]
    missed_part = f"<h3>{w['missed_title']}</h3>" + (
        f"<p>{w['missed_intro'].format(n=len(missed))}</p>" + _table([w["question"], w["nearest"], w["score"]], missed_rows)
        if missed
        else f"<p class='ok'>{w['no_missed']}</p>"
        if has_band(gaps.limits)
        else f"<p class='warn'>{w['no_band']}</p>"
    )
    return summary + _img(plot_answerable(gaps.asked, gaps.threshold)) + missed_part + f"<h3>{w['groups']}</h3>" + table + rest


def _threshold(workshop: Findings, w: dict[str, str], lang: str) -> str:
    findings = workshop.threshold
    if findings is None:
        return f"<p>{w['not_looked']}</p>"
    results = findings.results
    at = tradeoff_at(results, findings.limits, findings.threshold)
    sentence = f"<blockquote>{html.escape(describe(at, lang))}</blockquote>"
    counts = (
        "<p>"
        + html.escape(
            w["counts"].format(
                cases=at.cases,
                answered=at.answered,
                wrong=at.wrong,
                handed=at.handed_over,
                clarified=at.clarified,
                accuracy=_pct(at.in_scope_accuracy),
            )
        )
        + (f" {html.escape(w['held_out'].format(tuned=findings.tuned_on, cases=at.cases))}" if findings.tuned_on else "")
        + "</p>"
    )
    curve = tradeoff_curve(results, findings.limits)
    plots = '<div class="plots">' + _img(plot_tradeoff(curve, findings.threshold)) + _img(plot_reliability(reliability(results))) + "</div>"
    entries = workshop.knowledge.by_id()

    def named(entry_id: str | None) -> str:
        if entry_id is None:
            return w["a_person"]
        entry = entries.get(entry_id)
        return f"{entry_id}: {entry.question}" if entry else entry_id

    wrong = wrong_answers(findings)
    listed = (
        _table([w["question"], w["given"], w["right"]], [(r.question, named(r.entries[0]), named(r.expected_id)) for r in wrong])
        if wrong
        else f"<p class='ok'>{w['no_wrong']}</p>"
    )
    return sentence + counts + plots + f"<h3>{w['wrong_title']}</h3>" + listed


def _topics(workshop: Findings, w: dict[str, str], lang: str) -> str:
    kb = workshop.knowledge
    marketing = Counter(e.topic for e in kb.entries if e.scope == "marketing")
    proposed_ids = {t.id for t in workshop.proposed_topics}
    in_use = [t for t in kb.client.topics if t.id not in proposed_ids]
    rows: list[tuple[Any, ...]] = []
    for topic, status in [*((t, w["in_use"]) for t in in_use), *((t, w["proposed"]) for t in workshop.proposed_topics)]:
        titles = " / ".join(f"{code}: {text}" for code, text in topic.title.items())
        description = topic.description.get(lang) or next(iter(topic.description.values()), "")
        rows.append((topic.id, status, topic.version, titles, marketing.get(topic.id, 0), description))
    offers = _offers(workshop.export, w)
    if not rows:
        return f"<p>{w['no_topics']}</p>" + offers
    orphans = sorted(set(marketing) - {t.id for t in kb.client.topics})
    warning = f"<p class='warn'>{html.escape(w['orphans'].format(topics=', '.join(orphans)))}</p>" if orphans else ""
    header = [w["topic"], w["status"], w["version"], w["title_col"], w["marketing"], f"{w['wording']} ({lang})"]
    return _table(header, rows) + warning + offers


def _offers(export: ExportCheck | None, w: dict[str, str]) -> str:
    if export is None or not export.offers:
        return ""
    states = {None: w["st_open"], True: w["st_applied"], False: w["st_kept"]}
    rows = [
        (
            o.entry_id,
            w["s_marketing"] if o.kind == MARKETING else w["s_teaser"],
            ", ".join(o.words),
            " ".join(o.offer),
            states[export.choices.offers.get(o.entry_id)],
        )
        for o in export.offers
    ]
    return f"<h3>{w['offers_title']}</h3>" + _table([w["entry"], w["suggestion"], w["found"], w["answers"], w["state"]], rows)


def _examples(workshop: Findings, w: dict[str, str]) -> str:
    if not workshop.examples:
        return f"<p>{w['no_examples']}</p>"
    bot = workshop.knowledge.client.bot_name
    parts = []
    for example in workshop.examples:
        rows = "".join(
            f"<div class='turn {who}'><span class='who'>{html.escape(w['customer'] if who == 'user' else bot)}</span>"
            f"{html.escape(text)}{f' <i>· {html.escape(decision)}</i>' if decision else ''}</div>"
            for who, text, decision in example.turns
        )
        parts.append(f"<h3>{html.escape(w['ex_' + example.kind])} ({html.escape(example.channel)})</h3><div class='chat'>{rows}</div>")
    return "".join(parts)


def _decisions(decisions: Sequence[str], w: dict[str, str]) -> str:
    if not decisions:
        return f"<p class='ok'>{w['nothing_open']}</p>"
    return "<ol>" + "".join(f"<li>{html.escape(d)}</li>" for d in decisions) + "</ol>"


def _number(value: float, lang: str) -> str:
    text = f"{value:.2f}"
    return text.replace(".", ",") if lang == "de" else text


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
    ".chat{display:flex;flex-direction:column;gap:4px;max-width:720px}.turn{padding:6px 10px;border-radius:8px;white-space:pre-wrap}"
    ".turn.user{align-self:flex-end;background:#dbeafe}.turn.bot{align-self:flex-start;background:#f3f4f6}"
    ".who{display:block;font-size:.75em;color:#555}"
)
