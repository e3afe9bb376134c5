"""The `botkit` command line: as a user runs it (a process), and in-process with typer's CliRunner."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from botkit.cli import app
from tests.conftest import SAMPLE

BOTKIT = [sys.executable, "-m", "botkit"]
WIDE = {"COLUMNS": "300"}  # rich wraps help text to the terminal width


def _commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """The path of every runnable command, e.g. ("consent", "export"); groups are walked, not listed."""
    if hasattr(command, "commands"):
        for name, sub in command.commands.items():
            yield from _commands(sub, (*path, name))
    else:
        yield path


COMMANDS = sorted(_commands(typer.main.get_command(app)))


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*BOTKIT, *args], capture_output=True, text=True, timeout=300)


def test_ask_json_has_the_documented_keys(sample_index_dir, embedder):
    # in-process, so the session's embedder (already loaded by `embedder`) is reused
    args = ["ask", str(SAMPLE), "Wie melde ich meinen Zählerstand?", "--json", "--index-dir", str(sample_index_dir)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {"decision", "reason", "confidence", "entries", "messages"} <= set(data)
    assert data["decision"] == "answered" and data["entries"] == ["zaehlerstand-melden"]
    assert 0.0 <= data["confidence"] <= 1.0


def test_demo_shows_disclosure_answer_clarification_and_handover(settings, embedder):
    # in-process with the session's embedder; BOTKIT_INDEX_DIR: a copy of the sample index, so the demo
    # neither embeds nor writes into the source tree
    result = CliRunner().invoke(app, ["demo"], env={"BOTKIT_INDEX_DIR": str(settings.index_dir)})
    assert result.exit_code == 0, result.output
    out = result.stdout
    for marker in ("Bot, kein Mensch", "answered (confident)", "clarify", "handover (user_request)", "handover queue"):
        assert marker in out


def test_malformed_knowledge_exits_nonzero_naming_file_line_and_field(tmp_path):
    (tmp_path / "faq.yaml").write_text("- id: a\n  question: Frage?\n  topic: t\n  scope: service\n  lang: de\n")
    result = run("build", str(tmp_path))
    assert result.returncode == 1
    assert "faq.yaml:1: 'answer' is missing" in result.stderr
    assert "Traceback" not in result.stderr


def test_every_command_is_found():
    assert len(COMMANDS) >= 19 and ("consent", "export") in COMMANDS and ("llm", "serve") in COMMANDS and ("worker",) in COMMANDS


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_every_command_help_teaches_with_an_example_of_itself(path):
    result = CliRunner().invoke(app, [*path, "--help"], env=WIDE)
    assert result.exit_code == 0, result.output
    assert "Example" in result.stdout
    assert f"botkit {' '.join(path)}" in result.stdout  # the example shows this very command


def test_the_overview_lists_every_command():
    result = CliRunner().invoke(app, ["--help"], env=WIDE)
    assert result.exit_code == 0
    assert {path[0] for path in COMMANDS} <= set(result.stdout.split())


def test_lint_lists_findings_as_json_and_fails_on_hard_limits(tmp_path):
    ok = CliRunner().invoke(app, ["lint", str(SAMPLE), "--channel", "sms", "--json"])
    assert ok.exit_code == 0, ok.output
    findings = json.loads(ok.stdout)
    assert all({"entry_id", "channel", "rule", "measured", "limit", "hard"} <= set(f) for f in findings)
    long_answer = " ".join(["Dies ist ein sehr langer Satz über Abschläge."] * 120)
    (tmp_path / "faq.yaml").write_text(f"- id: lang\n  question: Frage?\n  answer: {long_answer}\n  topic: t\n  scope: service\n  lang: de\n", encoding="utf-8")
    bad = CliRunner().invoke(app, ["lint", str(tmp_path), "--channel", "whatsapp", "--json"])
    assert bad.exit_code == 1
    assert any(f["hard"] and f["entry_id"] == "lang" for f in json.loads(bad.stdout))
