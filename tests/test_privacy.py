"""GDPR export (Art. 15) and erasure (Art. 17) over every personal-data table, on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Float, Integer, String, Table, Text, func, insert, select

from botkit.consent import ConsentLedger
from botkit.db import erasures, metadata, open_database
from botkit.errors import ConfigError
from botkit.privacy import erase_personal_data, export_personal_data, personal_tables
from botkit.store import ConversationStore
from botkit.types import Client, Handover, Topic
from botkit.webhook.outbox import WebhookQueue
from botkit.webhook.parse import parse
from tests.webhook.support import whatsapp_body

SOLAR = Topic("angebote-solar", {"de": "Solar-Angebote", "en": "Solar offers"}, {"de": "Solar.", "en": "Solar."}, "v1")
CLIENT = Client(name="Stadtwerke Test", contact="0800 1", topics=(SOLAR,))
FLOWS = {"conversations": 1, "turns": 2, "handovers": 1, "consent_events": 2, "campaign_deliveries": 1, "webhook_inbox": 1}


@pytest.fixture
def engine(database_url):
    engine = open_database(database_url)  # every test runs on SQLite and on PostgreSQL (see conftest.py)
    yield engine
    engine.dispose()


@pytest.fixture
def ledger(engine, clock) -> ConsentLedger:
    return ConsentLedger(engine, CLIENT, clock=clock)


def _fill(engine, ledger, clock, user: str) -> None:
    """Data about `user` as botkit's flows write it, then one more row in every personal-data table.

    The generic row covers tables added later (and the outbox, which needs a processed event): a new
    table with a `user_id` column is exported and erased without this test knowing its name.
    """
    store = ConversationStore(engine, clock)
    state = store.load(f"conv-{user}", user, "whatsapp")
    store.save(state, "Hallo", {"text": "Hallo!", "decision": "answered"})
    store.open(Handover(f"conv-{user}", "user_request", {}, ({"role": "user", "text": "Mitarbeiter"},)), user, "whatsapp")
    ledger.request(user, "whatsapp", "angebote-solar", wording="?")
    ledger.grant(user, "whatsapp", "angebote-solar")
    ledger.record_delivery("c1", "angebote-solar", user, "whatsapp", "Angebot", objection_notice=True)
    WebhookQueue(engine).accept(parse("whatsapp", whatsapp_body(user, f"wamid.{user}", "Wie melde ich meinen Zählerstand?")), clock())
    with engine.begin() as conn:
        for table in personal_tables():
            conn.execute(insert(table).values(**_row(table, user)))


def _row(table: Table, user: str) -> dict[str, object]:
    values: dict[str, object] = {}
    for column in table.columns:
        if column.primary_key and isinstance(column.type, Integer):
            continue  # autoincrement
        if isinstance(column.type, (String, Text)):
            values[column.name] = user if column.name == "user_id" else f"{column.name}-{user}"
        elif isinstance(column.type, Integer):
            values[column.name] = 0
        elif isinstance(column.type, Float):
            values[column.name] = 1.0
    return values


def _cells_mentioning(engine, needle: str) -> list[str]:
    """Every (table.column) of every table in the schema whose text holds `needle`."""
    found = []
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            for column in table.columns:
                if isinstance(column.type, (String, Text)):
                    hits = conn.execute(select(func.count()).select_from(table).where(column.contains(needle))).scalar_one()
                    if hits:
                        found.append(f"{table.name}.{column.name}")
    return found


def test_personal_tables_are_every_table_with_a_user_id_and_no_other_table_names_a_person():
    names = {t.name for t in personal_tables()}
    assert names >= {"conversations", "turns", "handovers", "consent_events", "campaign_deliveries", "webhook_inbox", "webhook_outbox"}
    others = [t for t in metadata.sorted_tables if t.name not in names]
    assert {"erasures", "erased_messages"} <= {t.name for t in others}
    # a table that points at a person or a conversation without a user_id column would escape export and erasure
    for table in others:
        assert not {"conversation_id", "recipient", "phone", "psid", "sender"} & set(table.c.keys()), table.name


def test_export_holds_every_row_about_the_user_and_nothing_about_others(engine, ledger, clock):
    _fill(engine, ledger, clock, "4917600000001")
    _fill(engine, ledger, clock, "someone-else")
    data = json.loads(json.dumps(export_personal_data(engine, "4917600000001", CLIENT, now=clock())))
    counts = {name: len(rows) for name, rows in data["tables"].items()}
    assert counts == {t.name: FLOWS.get(t.name, 0) + 1 for t in personal_tables()}
    assert "someone-else" not in json.dumps(data)
    user = "4917600000001"
    assert data["consents"] == [  # the latest event per channel and topic; the second is the generic row
        {"channel": "whatsapp", "topic": "angebote-solar", "state": "granted", "version": "v1", "since": "2026-05-28T20:26:40Z"},
        {"channel": f"channel-{user}", "topic": f"topic-{user}", "state": f"state-{user}", "version": f"version-{user}", "since": "1970-01-01T00:00:01Z"},
    ]
    assert data["controller"]["name"] == "Stadtwerke Test" and data["exported_at"] == "2026-05-28T20:26:40Z"


def test_erase_removes_the_user_from_every_table_and_keeps_everyone_else(engine, ledger, clock):
    user = "4917600000001"
    _fill(engine, ledger, clock, user)
    _fill(engine, ledger, clock, "someone-else")
    assert len(_cells_mentioning(engine, user)) >= 20  # the test can fail: the user is everywhere before
    removed = erase_personal_data(engine, user, now=clock())
    assert removed == {t.name: FLOWS.get(t.name, 0) + 1 for t in personal_tables()}
    assert _cells_mentioning(engine, user) == []
    assert [e.user_id for e in ledger.granted_users("angebote-solar")] == ["someone-else"]
    others = export_personal_data(engine, "someone-else", CLIENT)["tables"]
    assert {name: len(rows) for name, rows in others.items()} == removed


def test_erasure_is_recorded_with_counts_but_without_the_user_id(engine, ledger, clock):
    _fill(engine, ledger, clock, "u-erased")
    removed = erase_personal_data(engine, "u-erased", now=clock())
    with engine.connect() as conn:
        rows = conn.execute(select(erasures)).mappings().all()
    assert len(rows) == 1 and json.loads(rows[0]["removed"]) == removed
    assert "u-erased" not in json.dumps([dict(r) for r in rows])
    for refuse in (erase_personal_data, lambda e, u: export_personal_data(e, u, CLIENT)):
        with pytest.raises(ConfigError, match="needs a user id"):
            refuse(engine, "")
