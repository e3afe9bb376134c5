"""`botkit consent ...` and `botkit campaign`: export, erase, proof, import, dry-run campaigns."""

from __future__ import annotations

import json
import os

import pytest
from typer.testing import CliRunner

from botkit.cli import app
from botkit.config import Settings
from botkit.consent import ConsentLedger
from botkit.errors import ConfigError
from botkit.knowledge import load_knowledge
from botkit.store import ConversationStore
from botkit.wiring import open_engine
from tests.cli_main import run_main
from tests.conftest import SAMPLE

USER = "4917612345678"


@pytest.fixture
def index_dir(tmp_path, monkeypatch):
    # The commands read BOTKIT_* settings; keep a developer's environment out of the test.
    for name in list(os.environ):
        if name.startswith("BOTKIT_"):
            monkeypatch.delenv(name)
    return tmp_path / "data"


@pytest.fixture
def ledger(index_dir, clock):
    engine = open_engine(SAMPLE, Settings(index_dir=index_dir))
    yield ConsentLedger(engine, load_knowledge(SAMPLE).client, clock=clock)
    engine.dispose()


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(app, list(args), input=input, catch_exceptions=False)


def test_import_then_proof_prints_the_imported_consent(index_dir, ledger):
    result = run(
        "consent",
        "import",
        str(SAMPLE),
        USER,
        "angebote-solar",
        "--channel",
        "whatsapp",
        "--proof",
        "Formular 03.11.2026, Scan 4711",
        "--index-dir",
        str(index_dir),
    )
    assert result.exit_code == 0, result.output
    assert ledger.is_granted(USER, "whatsapp", "angebote-solar")
    proof = run("consent", "proof", str(SAMPLE), USER, "angebote-solar", "--index-dir", str(index_dir))
    assert proof.exit_code == 0
    assert "imported with proof" in proof.output and "proof: Formular 03.11.2026, Scan 4711" in proof.output


def test_export_prints_json_with_every_table(index_dir, ledger, clock):
    ledger.grant(USER, "sms", "newsletter")
    store = ConversationStore(ledger.engine, clock)
    store.save(store.load("c1", USER, "sms"), "Hallo", None)
    result = run("consent", "export", str(SAMPLE), USER, "--index-dir", str(index_dir))
    data = json.loads(result.output)
    assert data["user_id"] == USER and len(data["tables"]["consent_events"]) == 1
    assert data["tables"]["turns"][0]["text"] == "Hallo"


def test_erase_asks_first_and_lists_what_it_removed(index_dir, ledger):
    ledger.grant(USER, "sms", "newsletter")
    declined = run("consent", "erase", str(SAMPLE), USER, "--index-dir", str(index_dir), input="n\n")
    assert declined.exit_code == 1 and ledger.history(USER)
    result = run("consent", "erase", str(SAMPLE), USER, "--yes", "--index-dir", str(index_dir))
    assert result.exit_code == 0
    assert "consent_events" in result.output and f"1 rows about {USER} removed" in result.output
    assert ledger.history(USER) == []


def test_campaign_dry_run_lists_who_would_receive_it_and_who_cannot_be_reached(index_dir, ledger, clock):
    ledger.grant("reachable", "sms", "angebote-solar")
    ledger.grant("web-user", "web", "angebote-solar")
    result = run("campaign", str(SAMPLE), "angebote-solar", "Neu: 5 % Rabatt.", "--json", "--index-dir", str(index_dir))
    report = json.loads(result.output)
    assert report["dry_run"] is True
    assert [(r["user_id"], r["status"]) for r in report["results"]] == [("reachable", "would_deliver"), ("web-user", "skipped")]


def test_bad_channel_and_sending_without_a_sender_are_refused(index_dir):
    with pytest.raises(ConfigError, match="unknown channel 'fax'"):
        run("consent", "import", str(SAMPLE), USER, "newsletter", "--channel", "fax", "--proof", "x", "--index-dir", str(index_dir))
    with pytest.raises(ConfigError, match="no platform is configured"):
        run("campaign", str(SAMPLE), "newsletter", "Hallo", "--send", "--index-dir", str(index_dir), "--env-file", str(index_dir / "none.env"))


def test_an_unknown_topic_exits_1_with_the_known_topics(index_dir):
    # Through the real entry point, which maps botkit errors to exit status 1.
    result = run_main("consent", "proof", str(SAMPLE), USER, "solar", "--index-dir", str(index_dir))
    assert result.returncode == 1
    assert "unknown consent topic 'solar'; known topics: angebote-solar" in " ".join(result.stderr.split())
