"""The workshop report: every section present, findings and open decisions in it, and it renders in a browser."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from matplotlib.image import imread

from botkit.channels import CHANNELS, lint_entries
from botkit.errors import Problem
from botkit.evaluation.metrics import CaseResult
from botkit.types import Decision, FaqEntry, Hit, Retrieval, Topic
from botkit.workbench import charts
from botkit.workbench.columns import MappedKnowledge
from botkit.workbench.gaps import AskedQuestion, Cluster, ask_all, cluster_questions, holes
from botkit.workbench.overlap import Overlap
from botkit.workbench.report import (
    SECTIONS,
    ExportCheck,
    Findings,
    GapFindings,
    ThresholdFindings,
    open_decisions,
    write_report,
)
from botkit.workbench.script import example_conversations

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
QUESTIONS = [
    "Wie melde ich meinen Zählerstand?",
    "Wann hat das Hallenbad geöffnet?",
    "Ist das Schwimmbad am Sonntag offen?",
    "Öffnungszeiten Freibad?",
    "Wo kann ich Sperrmüll anmelden?",
]
CONFLICT = Overlap(
    "conflict", "frist-a", "frist-b", 0.86, "Wie hoch ist die Kündigungsfrist?", "Welche Kündigungsfrist habe ich?", 0.5, "Einen Monat.", "Sechs <Wochen>."
)
HEATING = Topic("angebote-fernwaerme", {"de": "Fernwärme-Angebote"}, {"de": "Angebote zur Fernwärme."}, "2026-12-01")


def case(expected: str | None, top: str, confidence: float) -> CaseResult:
    retrieval = Retrieval("q", (Hit(top, confidence, top),), confidence, confidence)
    return CaseResult("q", "de", expected, Decision.ANSWERED, "confident", (top,), (top,), confidence, confidence, 1.0, "t:1", retrieval)


@pytest.fixture(scope="module")
def workshop(shared_bot, embedder) -> Findings:
    kb = shared_bot.knowledge
    asked = ask_all(shared_bot, QUESTIONS)
    threshold = 0.6
    limits = replace(shared_bot.limits, threshold=threshold)
    mapped = MappedKnowledge((), (Problem("faq.csv", 12, "answer", "is empty"),), ("Zielgruppe",), 16)
    return Findings(
        knowledge=kb,
        export=ExportCheck.of(mapped, "faq.csv", [CONFLICT]),
        lint=tuple(lint_entries(kb.entries, CHANNELS)),
        gaps=GapFindings(tuple(asked), tuple(cluster_questions(holes(asked, limits), embedder)), limits),
        threshold=ThresholdFindings((case("a", "a", 0.9), case("b", "x", 0.7), case(None, "c", 0.3)), shared_bot.limits, threshold),
        proposed_topics=(HEATING,),
        decisions=("Who answers handovers on Saturdays?",),
        day=date(2026, 11, 26),
    )


@pytest.fixture(scope="module")
def report(workshop, tmp_path_factory) -> Path:
    return write_report(workshop, tmp_path_factory.mktemp("report") / "workshop-report.html", lang="en")


def test_every_section_is_there_in_order(report):
    page = report.read_text(encoding="utf-8")
    assert re.findall(r"<h2>(.*?)</h2>", page) == list(SECTIONS)
    assert "Workshop report: Stadtwerke Lindenau" in page and "2026-11-26" in page
    assert len(re.findall(r'<img alt="chart" src="data:image/png;base64,', page)) >= 5  # lint, coverage, gaps, trade-off, reliability


def test_the_findings_are_in_their_sections(report):
    page = report.read_text(encoding="utf-8")
    sections = dict(re.findall(r'<section id="([a-z-]+)">(.*?)</section>', page, re.DOTALL))
    assert "faq.csv: 0 of 16 row(s)" in sections["validation-problems"] and "is empty" in sections["validation-problems"]
    assert "frist-a" in sections["duplicates-and-conflicts"] and "Sechs &lt;Wochen&gt;." in sections["duplicates-and-conflicts"]
    assert "Hallenbad" in sections["gaps"] or "Schwimmbad" in sections["gaps"]
    assert "At this setting (0.60) 1 in 2 answered questions is wrong" in sections["threshold-and-trade-off"]
    assert "Bei dieser Einstellung" not in page  # one language throughout
    assert "angebote-fernwaerme" in sections["consent-topics"] and "proposed" in sections["consent-topics"]
    assert "52" in sections["knowledge-base"]


def test_open_decisions_collect_the_consultants_and_the_findings(workshop):
    decisions = open_decisions(workshop, "en")
    assert decisions[0] == "Who answers handovers on Saturdays?"
    assert any("1 validation problem(s) in faq.csv" in d for d in decisions)
    assert any("'frist-a' and 'frist-b'" in d for d in decisions)
    assert any("threshold 0.60" in d for d in decisions)
    assert any("'angebote-fernwaerme'" in d for d in decisions)
    assert any("1 question(s) answered from the wrong entry" in d for d in decisions)


def test_a_german_client_gets_a_german_report_with_the_wrong_answers_listed(workshop, tmp_path):
    page = write_report(workshop, tmp_path / "bericht.html").read_text(encoding="utf-8")  # the sample is German
    assert '<html lang="de">' in page and "Workshop-Bericht: Stadtwerke Lindenau" in page
    assert re.findall(r"<h2>(.*?)</h2>", page)[:3] == ["Wissensbasis", "Probleme beim Import", "Prüfung je Kanal"]
    assert "Bei dieser Einstellung (0,60) ist 1 von 2 beantworteten Fragen falsch" in page and "At this setting" not in page
    sections = dict(re.findall(r'<section id="([a-z-]+)">(.*?)</section>', page, re.DOTALL))
    wrong = sections["threshold-and-trade-off"].split("Bei dieser Schwelle falsch beantwortet", 1)[1]
    assert "<td>x</td><td>b</td>" in wrong  # question "q": given entry x, right entry b (ids not in the sample)
    assert "Die Schwelle 0,60 für die Übergabe mit dem Service-Team bestätigen." in open_decisions(workshop)


def test_a_conflict_found_in_the_export_and_the_knowledge_base_is_listed_once(workshop, tmp_path):
    both = replace(workshop, overlaps=(CONFLICT,))
    decisions = open_decisions(both, "en")
    assert sum("'frist-a' and 'frist-b'" in d for d in decisions) == 1
    page = write_report(both, tmp_path / "r.html", lang="en").read_text(encoding="utf-8")
    assert page.count("Sechs &lt;Wochen&gt;.") == 1


def test_gaps_list_misses_with_their_entry_and_say_when_no_band_can_tell_them_apart(workshop, tmp_path):
    gaps = workshop.gaps
    miss = AskedQuestion("Zählerstand melden, wie?", Decision.CLARIFY, "uncertain", 0.45, (), True, "zaehlerstand-melden")
    hole = AskedQuestion("Wo ist das Freibad?", Decision.HANDOVER, "low_confidence", 0.1, (), True, "zaehlerstand-melden")
    banded = replace(
        gaps, asked=(miss, hole), clusters=(Cluster(hole.question, (hole.question,), 1.0),), limits=replace(gaps.limits, threshold=0.6, suggest_threshold=0.4)
    )
    page = write_report(replace(workshop, gaps=banded), tmp_path / "r.html", lang="en").read_text(encoding="utf-8")
    section = dict(re.findall(r'<section id="([a-z-]+)">(.*?)</section>', page, re.DOTALL))["gaps"]
    assert "<td>Zählerstand melden, wie?</td><td>zaehlerstand-melden: Wie melde ich meinen Zählerstand?</td><td>0.45</td>" in section
    assert "Wo ist das Freibad? <i>(nearest entry zaehlerstand-melden" in section
    assert any("Add the 1 question(s) the FAQ covers" in d for d in open_decisions(replace(workshop, gaps=banded), "en"))
    no_band = replace(banded, limits=replace(banded.limits, suggest_threshold=0.6))
    page = write_report(replace(workshop, gaps=no_band), tmp_path / "r.html", lang="en").read_text(encoding="utf-8")
    assert "no uncertain band below the threshold" in page


def test_an_empty_workshop_says_what_was_not_looked_at(shared_bot, tmp_path):
    page = write_report(Findings(knowledge=shared_bot.knowledge), tmp_path / "r.html", lang="en").read_text(encoding="utf-8")
    assert re.findall(r"<h2>(.*?)</h2>", page) == list(SECTIONS)
    assert page.count("Not looked at in this workshop.") == 2 and "No client export was checked" in page
    assert "No near-duplicate questions found." in page


def test_coverage_counts_entries_per_topic_and_language():
    entries = [
        FaqEntry(f"e{i}", "q", "a", topic, "service", lang)
        for i, (topic, lang) in enumerate([("zaehler", "de"), ("zaehler", "en"), ("zaehler", "de"), ("vertrag", "de")])
    ]
    table = charts.coverage_table(entries)
    assert list(table.index) == ["zaehler", "vertrag"]
    assert table.loc["zaehler"].to_dict() == {"de": 2, "en": 1, "total": 3}
    assert len(charts.plot_coverage(entries).axes[0].patches) == 4  # a bar per topic and language


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium); CI installs it")
def test_the_report_renders_in_headless_chromium(report, tmp_path):
    shot = tmp_path / "report.png"
    subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}",
            f"--screenshot={shot}",
            "--window-size=1280,2000",
            report.resolve().as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    pixels = imread(shot)[..., :3]
    assert pixels.shape[:2] == (2000, 1280)
    assert pixels.std() > 0.05  # not a blank page
    # The header rule and the links are blue (#2563eb); a page that failed to load has none.
    blue = (np.abs(pixels - np.array([0x25, 0x63, 0xEB]) / 255).max(axis=2) < 0.08).sum()
    assert blue > 1000
    # Text fills the page: most rows of the first screen hold something besides background.
    rows = (pixels.std(axis=(1, 2)) > 0.01).mean()
    assert rows > 0.3


def test_example_conversations_show_disclosure_answer_and_handover_in_the_report(shared_bot, tmp_path):
    examples = example_conversations(shared_bot, ["Wann hat das Hallenbad geöffnet?"], channel="whatsapp")
    assert [e.kind for e in examples] == ["answer", "bot_question", "not_in_faq", "person"]
    greeting, question = examples[0].turns[1], examples[0].turns[3]
    assert "kein Mensch" in greeting[1] and question[2] == "answered (confident)"
    assert examples[3].turns[-1][2].startswith("handover")
    assert examples[2].turns[0][1] == "Wann hat das Hallenbad geöffnet?"  # whatever the bot does with it is shown
    page = write_report(Findings(knowledge=shared_bot.knowledge, examples=examples), tmp_path / "r.html").read_text(encoding="utf-8")
    section = dict(re.findall(r'<section id="([a-z-]+)">(.*?)</section>', page, re.DOTALL))["example-conversations"]
    assert "<h2>Beispielgespräche</h2>" in section and "Bitte um einen Menschen (whatsapp)" in section and "Lina" in section
