"""Erasure while the server runs: nothing left in the database, its WAL or journal; redeliveries dropped."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
from sqlalchemy import select

from botkit.db import open_database, webhook_inbox
from botkit.privacy import erase_personal_data
from botkit.webhook.outbox import WebhookQueue
from botkit.webhook.parse import parse
from tests.webhook.support import WHATSAPP_SECRET, is_message, recipient, signed, whatsapp_body

PHONE = "4915123456789"
QUESTIONS = ["Wie melde ich meinen Zählerstand?", "Was kostet der Strom?", "Ich bin umgezogen", "Hallo, meine Nummer ist 4915123456789"]


def on_disk(database: Path) -> dict[str, int]:
    """Copies of the phone number in the database file, its write-ahead log and its rollback journal."""
    files = [database, Path(f"{database}-wal"), Path(f"{database}-journal")]
    return {f.name: f.read_bytes().count(PHONE.encode()) for f in files if f.exists()}


def test_erasure_leaves_no_copy_of_the_phone_number_on_disk_and_drops_redeliveries(serve, recorder):
    server = serve()
    bodies = [whatsapp_body(PHONE, f"wamid.erase{i}", q) for i, q in enumerate(QUESTIONS)]
    for body in bodies:
        assert httpx.post(f"{server.url}/webhook/whatsapp", content=body, headers=signed(body, WHATSAPP_SECRET)).json()["accepted"] == 1
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and httpx.get(f"{server.url}/healthz").json()["pending"] != {"inbox": 0, "outbox": 0}:
        time.sleep(0.05)
    answered = len(recorder.delivered(lambda r: is_message(r) and recipient(r) == PHONE))
    assert answered >= len(QUESTIONS)
    database = Path(str(server.bot.store.engine.url.database))
    assert sum(on_disk(database).values()) > 0  # the test can fail: the number is there before

    removed = erase_personal_data(server.bot.store.engine, PHONE)  # while the server runs
    assert removed["webhook_inbox"] == len(QUESTIONS)
    assert on_disk(database) == {name: 0 for name in on_disk(database)}

    # the platform redelivers a message of the erased user: dropped, not answered again
    again = httpx.post(f"{server.url}/webhook/whatsapp", content=bodies[0], headers=signed(bodies[0], WHATSAPP_SECRET)).json()
    assert again == {"accepted": 0, "duplicates": 1, "ignored": 0}
    # a duplicate is not queued, so no reply can follow: the queue shows it without waiting
    assert httpx.get(f"{server.url}/healthz").json()["pending"] == {"inbox": 0, "outbox": 0}
    assert len(recorder.delivered(lambda r: is_message(r) and recipient(r) == PHONE)) == answered
    with server.bot.store.engine.connect() as conn:
        assert conn.execute(select(webhook_inbox.c.id).where(webhook_inbox.c.user_id == PHONE)).first() is None


def test_erased_message_ids_are_dropped_at_intake_but_new_messages_are_not(database_url, clock):
    engine = open_database(database_url)
    try:
        queue = WebhookQueue(engine)
        first = parse("whatsapp", whatsapp_body(PHONE, "wamid.tomb1", "Hallo"))
        assert queue.accept(first, 1.0) == (1, 0)
        erase_personal_data(engine, PHONE, now=clock())
        assert queue.accept(first, 2.0) == (0, 1)  # the late redelivery
        later = parse("whatsapp", whatsapp_body(PHONE, "wamid.tomb2", "Ich bin wieder da"))
        assert queue.accept(later, 3.0) == (1, 0)  # the person may write again
    finally:
        engine.dispose()
