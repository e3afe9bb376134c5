"""The HTML report and CSVs of an evaluation: files, sections, embedded plots."""

from __future__ import annotations

import csv

from botkit.evaluation.cases import Case, load_conversations
from botkit.evaluation.metrics import sweep, threshold_grid
from botkit.evaluation.report import CASE_COLUMNS, TURN_COLUMNS, write_case_report, write_conversation_report
from botkit.evaluation.runner import evaluate_cases, evaluate_conversations
from tests.conftest import ROOT

CASES = [
    Case("Wie melde ich meinen Zählerstand?", "zaehlerstand-melden", "de", "t.csv:2"),
    Case("Zählerstand", "zaehlerwechsel", "de", "t.csv:3"),
    Case("Können Sie mir ein Rezept für Apfelkuchen geben?", None, "de", "t.csv:4"),
    Case("How do I report my meter reading?", "en-meter-reading", "en", "t.csv:5"),
]


def test_case_report_has_csv_metrics_plots_and_confusions(bot, tmp_path):
    results = evaluate_cases(bot, CASES)
    html_path = write_case_report(results, tmp_path / "report", sweep_points=sweep(results, bot.limits, threshold_grid()), threshold=bot.limits.threshold)
    html = html_path.read_text(encoding="utf-8")
    for section in ("Metrics", "Confidence: in scope vs out of scope", "Reliability", "Threshold", "Worst confusions"):
        assert f"<h2>{section}</h2>" in html
    assert html.count('src="data:image/png;base64,') == 3
    assert "in_scope_accuracy" in html and "zaehlerwechsel" in html  # the wrong expectation shows as a confusion
    with (tmp_path / "report" / "cases.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert tuple(rows[0]) == CASE_COLUMNS and len(rows) == 4
    assert rows[0]["question"] == "Wie melde ich meinen Zählerstand?" and rows[0]["correct"] == "True"
    assert rows[1]["correct"] == "False"


def test_conversation_report_shows_failed_checks_and_transcripts(bot, tmp_path):
    scripts = load_conversations(ROOT / "evaluations" / "data" / "conversations.yaml")
    played = evaluate_conversations(bot, scripts)
    html = write_conversation_report(played, tmp_path / "conv").read_text(encoding="utf-8")
    for section in ("Metrics", "Failed checks", "Transcripts"):
        assert f"<h2>{section}</h2>" in html
    assert "expectations_failed" in html and "Lina" in html  # the disclosure is in the transcript
    with (tmp_path / "conv" / "turns.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert tuple(rows[0]) == TURN_COLUMNS
    assert len(rows) == sum(len(s.turns) for s in scripts)
