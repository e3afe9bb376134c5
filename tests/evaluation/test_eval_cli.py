"""`botkit eval` and `botkit tune` as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from botkit.calibration import Calibration, read_calibration, write_calibration
from botkit.cli import app
from botkit.errors import ConfigError, IndexMismatchError
from tests.conftest import ROOT, SAMPLE

DATA = ROOT / "evaluations" / "data"
CASE_KEYS = {
    "n_cases",
    "in_scope_accuracy",
    "oos_recall",
    "handover_precision",
    "hit_at_1",
    "hit_at_3",
    "mrr",
    "oos_auroc",
    "latency_ms_p50",
    "latency_ms_p99",
    "resolved_rate",
    "wrong_answer_rate",
    "suggest_rate",
}
CONVERSATION_KEYS = {"turns", "expectations_failed", "disclosure_rate", "consent_violations", "format_violations"}


def botkit(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "botkit", *args], capture_output=True, text=True, timeout=300)


def test_eval_json_prints_exactly_one_object_with_the_documented_keys(sample_index_dir):
    result = botkit("eval", str(SAMPLE), str(DATA / "cases.csv"), "--json", "--index-dir", str(sample_index_dir))
    assert result.returncode == 0, result.stderr
    metrics = json.loads(result.stdout)  # raises if anything else is on stdout
    assert CASE_KEYS <= set(metrics) and metrics["n_cases"] == 86
    assert all(0.0 <= metrics[k] <= 1.0 for k in CASE_KEYS - {"n_cases", "latency_ms_p50", "latency_ms_p99"})


def test_malformed_cases_exit_nonzero_naming_file_line_and_field(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("question,expected_id,lang\nWo?,x,de\nWann?,y,deutsch\n", encoding="utf-8")
    result = botkit("eval", str(SAMPLE), str(bad), "--json")
    assert result.returncode == 1 and result.stdout == ""
    assert "bad.csv:3: 'lang' 'deutsch' is not an ISO language code" in result.stderr
    assert "Traceback" not in result.stderr


runner = CliRunner()


def invoke(*args: str):
    result = runner.invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def test_tune_writes_a_calibration_that_eval_uses(tmp_path, sample_index_dir, embedder):
    path = tmp_path / "calibration.json"
    tuned = invoke("tune", str(SAMPLE), str(DATA / "tune-cases.csv"), "--write", str(path), "--json", "--index-dir", str(sample_index_dir))
    assert tuned.exit_code == 0, tuned.output
    reported = json.loads(tuned.stdout)
    calibration = read_calibration(path, embedder)
    assert reported["threshold"] == calibration.threshold and calibration.objective == "balanced"
    assert (calibration.embedder_id, calibration.embedder_version) == (embedder.model_id, embedder.version)
    evaluated = invoke(
        "eval",
        str(SAMPLE),
        str(DATA / "conversations.yaml"),
        "--calibration",
        str(path),
        "--json",
        "--index-dir",
        str(sample_index_dir),
        "--report",
        str(tmp_path / "report"),
    )
    assert evaluated.exit_code == 0, evaluated.output
    metrics = json.loads(evaluated.stdout)
    assert CASE_KEYS | CONVERSATION_KEYS <= set(metrics)
    assert (metrics["threshold"], metrics["clarify_margin"]) == (calibration.threshold, calibration.clarify_margin)
    assert (tmp_path / "report" / "report.html").exists() and (tmp_path / "report" / "turns.csv").exists()


def test_tune_few_wrong_keeps_wrong_answers_within_the_bound_on_the_tune_cases(tmp_path, sample_index_dir):
    path = tmp_path / "calibration.json"
    tuned = invoke(
        "tune",
        str(SAMPLE),
        str(DATA / "tune-cases.csv"),
        "--write",
        str(path),
        "--json",
        "--index-dir",
        str(sample_index_dir),
        "--objective",
        "few-wrong",
        "--max-wrong-answers",
        "0.1",
    )
    assert tuned.exit_code == 0, tuned.output
    reported = json.loads(tuned.stdout)
    assert reported["objective"] == "few-wrong (wrong_answer_rate<=0.1)" and reported["metrics"]["wrong_answer_rate"] <= 0.1
    assert reported["suggest_threshold"] <= reported["threshold"]


def test_eval_refuses_a_calibration_for_another_embedder(tmp_path, sample_index_dir):
    path = write_calibration(Calibration(0.5, 0.04, "openai:text-embedding-3-small", "1", "balanced"), tmp_path / "c.json")
    with pytest.raises(IndexMismatchError, match="tuned for embedder openai:text-embedding-3-small"):
        invoke("eval", str(SAMPLE), str(DATA / "cases.csv"), "--calibration", str(path), "--index-dir", str(sample_index_dir))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["eval", "--calibration", "c.json", "--threshold", "0.5"], "give --calibration or --threshold, not both"),
        (["tune", "--write", "c.json", "--objective", "recall"], "unknown objective 'recall'"),
        (["tune", "--write", "c.json", "--objective", "balanced", "--min-in-scope-accuracy", "0.9"], "not both"),
        (["tune", "--write", "c.json", "--objective", "balanced", "--max-wrong-answers", "0.1"], "belongs to --objective few-wrong"),
        (["tune", "--write", "c.json", "--max-wrong-answers", "1.5"], "must be between 0 and 1"),
    ],
)
def test_contradicting_options_are_refused(args, message):
    command, *options = args
    with pytest.raises(ConfigError, match=message):
        invoke(command, str(SAMPLE), str(DATA / "cases.csv"), *options)


def test_report_of_cases_has_csv_and_html(tmp_path: Path, sample_index_dir):
    result = invoke("eval", str(SAMPLE), str(DATA / "cases.csv"), "--threshold", "0.4", "--report", str(tmp_path / "r"), "--index-dir", str(sample_index_dir))
    assert result.exit_code == 0, result.output
    assert "in_scope_accuracy" in result.stdout and "0.400" in result.stdout
    assert (tmp_path / "r" / "cases.csv").read_text(encoding="utf-8").startswith("source,lang,question")


def test_eval_report_csv_does_not_carry_spreadsheet_formulas(tmp_path: Path, sample_index_dir):
    import csv

    cases = tmp_path / "cases.csv"
    attacks = ['=HYPERLINK("http://evil.example","Zähler")', "@SUM(1+1)", "+49 151 0000", "-2+3", "\tx=1"]
    with cases.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["question", "expected_id", "lang"])
        writer.writerows([q, "", "de"] for q in attacks)
    result = invoke("eval", str(SAMPLE), str(cases), "--report", str(tmp_path / "r"), "--index-dir", str(sample_index_dir))
    assert result.exit_code == 0, result.output
    text = (tmp_path / "r" / "cases.csv").read_text(encoding="utf-8")
    cells = [cell for row in csv.reader(text.splitlines()) for cell in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert all(f"'{q}" in cells for q in attacks[:4])  # (the cases loader strips the tab of the last)
