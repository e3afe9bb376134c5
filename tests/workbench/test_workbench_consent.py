"""Consent in the workshop: topic wording previews, campaign previews, proposed topics on file."""

from __future__ import annotations

import pytest

from botkit.consent import ConsentLedger
from botkit.db import open_database
from botkit.errors import ConsentError, KnowledgeError
from botkit.knowledge import load_knowledge
from botkit.types import Topic
from botkit.workbench.consent import consent_rows, preview_campaign, preview_opt_in, read_topics, topic_rows, write_topics
from tests.conftest import SAMPLE

HEATING = Topic(
    "angebote-fernwaerme",
    {"de": "Fernwärme-Angebote", "en": "District heating offers"},
    {"de": "Angebote zur Fernwärme, höchstens 1 Nachricht im Monat.", "en": "District heating offers, at most 1 message a month."},
    "2026-12-01",
)


def test_the_opt_in_preview_asks_to_confirm_the_exact_wording_per_channel():
    client = load_knowledge(SAMPLE).client
    [message] = preview_opt_in(client, HEATING, "whatsapp", "de")
    assert "„Fernwärme-Angebote“" in message.text and "höchstens 1 Nachricht im Monat" in message.text
    assert message.quick_replies == ("JA", "Nein")
    english = preview_opt_in(client, HEATING, "sms", "en")
    assert "District heating offers, at most 1 message a month." in english[0].text
    assert "1. YES" in english[-1].text  # no buttons on SMS
    assert [t.id for t in client.topics] == ["angebote-solar", "angebote-emobilitaet", "newsletter"]  # unchanged


def test_a_title_that_reads_as_a_withdrawal_is_refused():
    client = load_knowledge(SAMPLE).client
    confusing = Topic("spartipps", {"de": "Keine Werbung, nur Spartipps"}, {"de": "Tipps."}, "1")
    with pytest.raises(ConsentError, match="choose another title"):
        preview_opt_in(client, confusing, "web", "de")


def test_the_campaign_preview_carries_the_objection_notice_or_the_stop_hint():
    first = preview_campaign("Neu: 5 % Rabatt.", "de")
    assert set(first) == {"whatsapp", "messenger", "telegram", "sms", "web"}
    assert all("widersprechen" in "".join(m.text for m in messages) for messages in first.values())
    later = preview_campaign("New: 5% off.", "en", channels=["web"], first=False)
    assert later["web"][0].text.endswith("Unsubscribe: STOP")
    with pytest.raises(ConsentError, match="needs a text"):
        preview_campaign("  ")


def test_proposed_topics_are_written_in_botkit_yaml_format_and_read_back(tmp_path):
    path = write_topics([HEATING], tmp_path / "proposed-topics.yaml")
    assert read_topics(path) == (HEATING,)
    assert len(read_topics(SAMPLE / "botkit.yaml")) == 3
    broken = tmp_path / "broken.yaml"
    broken.write_text("topics:\n  - id: x\n", encoding="utf-8")
    with pytest.raises(KnowledgeError, match=r"topics\[0\]"):
        read_topics(broken)


def test_topic_and_consent_rows_for_tables(tmp_path):
    client = load_knowledge(SAMPLE).client
    rows = topic_rows(client.topics)
    assert rows[0]["topic"] == "angebote-solar" and rows[0]["title (de)"] == "Solar-Angebote" and "wording (en)" in rows[0]
    engine = open_database(f"sqlite:///{tmp_path / 'c.db'}")
    ledger = ConsentLedger(engine, client)
    ledger.grant("anna", "whatsapp", "angebote-solar", method="operator")
    ledger.grant("cem", "messenger", "newsletter", method="operator")
    ledger.withdraw("cem", "messenger", "newsletter")
    assert [(r["user"], r["topic"], r["state"], r["granted now"]) for r in consent_rows(ledger, ["anna", "cem", "nobody"])] == [
        ("anna", "angebote-solar", "granted", True),
        ("cem", "newsletter", "withdrawn", False),
    ]
    engine.dispose()
