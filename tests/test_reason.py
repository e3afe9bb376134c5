"""`Reply.reason` is a `Reason`: typed for code, its plain value in JSON, the database and string comparisons."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from botkit import Decision, Reason, Settings, open_bot
from botkit.db import handovers, turns
from tests.conftest import SAMPLE

MESSAGES = [
    ("Hallo", Reason.GREETING),
    ("Wie melde ich meinen Zählerstand?", Reason.CONFIDENT),
    ("Wie melde ich meinen Zählerstand?", Reason.REPEATED_QUESTION),
    ("Bist du ein Bot?", Reason.BOT_QUESTION),
    ("Ich möchte mit einem Mitarbeiter sprechen", Reason.USER_REQUEST),
    ("Ich möchte mit einem Mitarbeiter sprechen", Reason.WAITING),
]


def test_a_reason_is_its_value_as_a_string():
    assert Reason.LOW_CONFIDENCE == "low_confidence" and f"{Reason.LOW_CONFIDENCE}" == "low_confidence"
    assert json.dumps({"reason": Reason.USER_REQUEST}) == '{"reason": "user_request"}'
    assert Reason("nobody_came") is Reason.NOBODY_CAME
    with pytest.raises(ValueError):
        Reason("clarify")  # a decision, not a reason


@pytest.fixture
def pg_or_sqlite_bot(tmp_path, sample_index_dir, embedder, database_url, clock):
    bot = open_bot(SAMPLE, Settings(index_dir=sample_index_dir, database_url=database_url), embedder=embedder, clock=clock)
    yield bot
    bot.close()


def test_every_reply_carries_a_reason_stored_and_replayed_by_its_value(pg_or_sqlite_bot):
    bot = pg_or_sqlite_bot
    for n, (text, reason) in enumerate(MESSAGES):
        reply = bot.reply("c1", text, message_id=f"m{n}")
        assert type(reply.reason) is Reason and reply.reason is reason, (text, reply.reason)
        assert reply.to_dict()["reason"] == reason.value and type(reply.to_dict()["reason"]) is str
    replayed = bot.reply("c1", MESSAGES[4][0], message_id="m4")  # a redelivery: the stored reply, read back
    assert replayed.decision == Decision.HANDOVER and replayed.reason is Reason.USER_REQUEST
    with bot.store.engine.connect() as conn:
        stored = conn.execute(select(turns.c.reason).where(turns.c.role == "bot").order_by(turns.c.id)).scalars().all()
        queued = conn.execute(select(handovers.c.reason)).scalars().all()
    assert stored == [reason.value for _, reason in MESSAGES] and queued == ["user_request"]  # values, never enum names
