"""The `botkit` command line, run as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SAMPLE

BOTKIT = [sys.executable, "-m", "botkit"]


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*BOTKIT, *args], capture_output=True, text=True, timeout=300, cwd=cwd)


def test_ask_json_has_the_documented_keys(sample_index_dir):
    result = run("ask", str(SAMPLE), "Wie melde ich meinen Zählerstand?", "--json", "--index-dir", str(sample_index_dir))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert {"decision", "reason", "confidence", "entries", "messages"} <= set(data)
    assert data["decision"] == "answered" and data["entries"] == ["zaehlerstand-melden"]
    assert 0.0 <= data["confidence"] <= 1.0


def test_demo_shows_disclosure_answer_clarification_and_handover():
    result = run("demo")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for marker in ("Bot, kein Mensch", "answered (confident)", "clarify", "handover (user_request)", "handover queue"):
        assert marker in out


def test_malformed_knowledge_exits_nonzero_naming_file_line_and_field(tmp_path):
    (tmp_path / "faq.yaml").write_text("- id: a\n  question: Frage?\n  topic: t\n  scope: service\n  lang: de\n")
    result = run("build", str(tmp_path))
    assert result.returncode == 1
    assert "faq.yaml:1: 'answer' is missing" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("command", ["build", "ask", "chat", "handovers", "demo", "lint"])
def test_every_command_help_teaches_with_an_example(command):
    result = run(command, "--help")
    assert result.returncode == 0
    assert "Example" in result.stdout


def test_lint_lists_findings_as_json_and_fails_on_hard_limits(tmp_path):
    ok = run("lint", str(SAMPLE), "--channel", "sms", "--json")
    assert ok.returncode == 0, ok.stderr
    findings = json.loads(ok.stdout)
    assert all({"entry_id", "channel", "rule", "measured", "limit", "hard"} <= set(f) for f in findings)
    long_answer = " ".join(["Dies ist ein sehr langer Satz über Abschläge."] * 120)
    (tmp_path / "faq.yaml").write_text(
        f"- id: lang\n  question: Frage?\n  answer: {long_answer}\n  topic: t\n  scope: service\n  lang: de\n", encoding="utf-8"
    )
    bad = run("lint", str(tmp_path), "--channel", "whatsapp", "--json")
    assert bad.returncode == 1
    assert any(f["hard"] and f["entry_id"] == "lang" for f in json.loads(bad.stdout))
