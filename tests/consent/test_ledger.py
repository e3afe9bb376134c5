"""The consent ledger on real databases (SQLite, PostgreSQL): append-only events, derived state, proof.

Export and erasure of everything about a person: tests/test_privacy.py.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from botkit.consent import GRANTED, PENDING, WITHDRAWN, ConsentLedger
from botkit.db import consent_events, open_database
from botkit.errors import ConsentError
from botkit.types import Client, Topic

SOLAR = Topic("angebote-solar", {"de": "Solar-Angebote", "en": "Solar offers"}, {"de": "Solar.", "en": "Solar."}, "v1")
NEWS = Topic("newsletter", {"de": "Newsletter", "en": "Newsletter"}, {"de": "News.", "en": "News."}, "v1")
CLIENT = Client(name="Stadtwerke Test", contact="0800 1", topics=(SOLAR, NEWS))


@pytest.fixture
def engine(database_url):
    engine = open_database(database_url)  # every test runs on SQLite and on PostgreSQL (see conftest.py)
    yield engine
    engine.dispose()


@pytest.fixture
def ledger(engine, clock) -> ConsentLedger:
    return ConsentLedger(engine, CLIENT, clock=clock)


def _rows(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(consent_events)).scalar_one()


def test_double_opt_in_grants_the_version_and_wording_that_were_shown(ledger):
    request = ledger.request("u1", "whatsapp", "angebote-solar", wording="Bitte bestätigen: Solar.", lang="de", message_id="m1")
    assert ledger.state("u1", "whatsapp", "angebote-solar").state == PENDING
    assert not ledger.is_granted("u1", "whatsapp", "angebote-solar")
    grant = ledger.grant("u1", "whatsapp", "angebote-solar", confirms=request, message_id="m2", evidence="JA")
    assert (grant.state, grant.ref, grant.version, grant.wording, grant.lang) == (GRANTED, request.id, "v1", "Bitte bestätigen: Solar.", "de")
    assert ledger.is_granted("u1", "whatsapp", "angebote-solar")


def test_consent_is_per_channel_and_per_topic(ledger):
    ledger.grant("u1", "whatsapp", "angebote-solar")
    assert ledger.is_granted("u1", "whatsapp", "angebote-solar")
    assert not ledger.is_granted("u1", "telegram", "angebote-solar")
    assert not ledger.is_granted("u1", "whatsapp", "newsletter")


def test_events_are_appended_never_overwritten(ledger, engine, clock):
    for _ in range(3):
        ledger.grant("u1", "sms", "newsletter")
        clock.advance(1)
        ledger.withdraw("u1", "sms", "newsletter")
        clock.advance(1)
    history = ledger.history("u1")
    assert [e.state for e in history] == [GRANTED, WITHDRAWN] * 3
    assert [e.at for e in history] == sorted(e.at for e in history)
    assert _rows(engine) == 6
    assert ledger.state("u1", "sms", "newsletter").state == WITHDRAWN


def test_a_new_wording_version_needs_consent_again(ledger, engine, clock):
    ledger.grant("u1", "whatsapp", "angebote-solar")
    newer = ConsentLedger(engine, Client(topics=(Topic(SOLAR.id, SOLAR.title, SOLAR.description, "v2"),)), clock=clock)
    assert not newer.is_granted("u1", "whatsapp", "angebote-solar")
    assert [e.version for e in newer.granted_users("angebote-solar")] == ["v1"]


def test_granted_users_lists_only_standing_grants(ledger):
    ledger.grant("a", "whatsapp", "angebote-solar")
    ledger.grant("b", "whatsapp", "angebote-solar")
    ledger.withdraw("b", "whatsapp", "angebote-solar")
    ledger.request("c", "whatsapp", "angebote-solar", wording="?")
    ledger.grant("d", "telegram", "newsletter")
    ledger.grant("e", "sms", "angebote-solar", method="import", evidence="Formular 4711")
    assert [(e.user_id, e.channel) for e in ledger.granted_users("angebote-solar")] == [("a", "whatsapp"), ("e", "sms")]


def test_unknown_topic_and_missing_proof_are_refused(ledger):
    with pytest.raises(ConsentError, match="unknown consent topic 'solar'.*angebote-solar, newsletter"):
        ledger.grant("u1", "whatsapp", "solar")
    with pytest.raises(ConsentError, match="needs a proof"):
        ledger.import_with_proof("u1", "whatsapp", "newsletter", "  ")
    other = ledger.request("u2", "whatsapp", "newsletter", wording="?")
    with pytest.raises(ConsentError, match="not a pending request of u1"):
        ledger.grant("u1", "whatsapp", "newsletter", confirms=other)


def test_a_topic_removed_from_the_config_can_still_be_withdrawn(engine, clock):
    ConsentLedger(engine, CLIENT, clock=clock).grant("u1", "web", "newsletter")
    without = ConsentLedger(engine, Client(topics=(SOLAR,)), clock=clock)
    assert without.withdraw("u1", "web", "newsletter").state == WITHDRAWN


def test_proof_prints_every_event_with_wording_message_ids_and_import_proof(ledger, clock):
    request = ledger.request(
        "u1",
        "whatsapp",
        "angebote-solar",
        wording="Bitte bestätigen Sie: Solar-Angebote.\n\nAntworten Sie JA.",
        lang="de",
        message_id="wamid.1",
        evidence="Solar abonnieren",
    )
    clock.advance(30)
    ledger.grant("u1", "whatsapp", "angebote-solar", confirms=request, message_id="wamid.2", evidence="JA")
    ledger.import_with_proof("u1", "sms", "angebote-solar", "Formular vom 03.11.2026, Scan 4711")
    ledger.grant("u1", "whatsapp", "newsletter")  # another topic: not part of this proof
    text = ledger.proof("u1", "angebote-solar")
    for expected in (
        "Controller:   Stadtwerke Test (0800 1)",
        "User:         u1",
        "angebote-solar (Solar-Angebote / Solar offers)",
        "Channel sms: granted",
        "Channel whatsapp: granted",
        "wamid.1",
        "wamid.2",
        "user wrote: JA",
        "double opt-in: the user confirmed request #1",
        "Bitte bestätigen Sie: Solar-Angebote.",
        "Antworten Sie JA.",
        "proof: Formular vom 03.11.2026, Scan 4711",
        "2026-05-28T",
    ):
        assert expected in text
    assert "newsletter" not in text.lower()


def test_proof_without_events_says_there_is_nothing_to_prove(ledger):
    with pytest.raises(ConsentError, match="no consent events for user 'nobody'"):
        ledger.proof("nobody", "angebote-solar")
