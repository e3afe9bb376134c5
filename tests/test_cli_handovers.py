"""`botkit handovers list|show|take|reply|release` on a real SQLite database, run with typer's CliRunner."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from botkit.cli import app
from botkit.db import webhook_inbox
from botkit.errors import HandoverError
from botkit.policy import disclosure
from botkit.webhook.outbox import WebhookQueue
from botkit.webhook.parse import parse
from tests.conftest import SAMPLE
from tests.webhook.support import whatsapp_body

USER = "4917612349999"
CONVERSATION = f"whatsapp:{USER}"
ASK_PERSON = "Ich möchte mit einem Mitarbeiter sprechen"


@pytest.fixture
def cli(settings):
    """Run `botkit ...` against the test's database and index."""
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(app, [*args, "--index-dir", str(settings.index_dir)], env={"BOTKIT_DATABASE_URL": settings.database_url, "COLUMNS": "200"})

    return run


@pytest.fixture
def handover(bot) -> int:
    """A WhatsApp user asked for a person just now; the event came in through the webhook inbox as in production."""
    event = parse("whatsapp", whatsapp_body(USER, "wamid.cli1", ASK_PERSON))[0]
    WebhookQueue(bot.store.engine).accept([event], time.time())  # `handovers reply` checks WhatsApp's window on the wall clock
    reply = bot.reply(CONVERSATION, ASK_PERSON, "whatsapp", user_id=USER, message_id=event.message_id)
    assert reply.handover is not None
    return bot.queue()[-1].id


def test_list_shows_the_waiting_handover(cli, handover):
    result = cli("handovers", "list", str(SAMPLE), "--json")
    assert result.exit_code == 0, result.output
    (item,) = json.loads(result.output)
    assert (item["id"], item["conversation_id"], item["channel"], item["status"]) == (handover, CONVERSATION, "whatsapp", "waiting")
    table = cli("handovers", "list", str(SAMPLE))
    assert table.exit_code == 0 and "user_request" in table.output
    assert json.loads(cli("handovers", "list", str(SAMPLE), "--status", "released", "--json").output) == []


def test_show_prints_the_transcript(cli, handover):
    result = cli("handovers", "show", str(SAMPLE), str(handover))
    assert result.exit_code == 0, result.output
    assert f"#{handover} {CONVERSATION}" in result.output and ASK_PERSON in result.output
    missing = cli("handovers", "show", str(SAMPLE), "999")
    assert isinstance(missing.exception, HandoverError)


def test_take_reply_release_round_trip(cli, handover, bot):
    early = cli("handovers", "reply", str(SAMPLE), str(handover), "Hallo")
    assert isinstance(early.exception, HandoverError) and "take it first" in str(early.exception)

    taken = cli("handovers", "take", str(SAMPLE), str(handover), "--person", "Anna")
    assert taken.exit_code == 0, taken.output
    assert "with_person, taken by Anna" in taken.output
    assert bot.reply(CONVERSATION, "Noch da?", "whatsapp", user_id=USER).messages == ()  # the bot is silent now

    text = "Hallo, hier ist Anna vom Kundenservice"
    for _ in range(2):  # the same key twice: one event
        replied = cli("handovers", "reply", str(SAMPLE), str(handover), text, "--key", "anna-1")
        assert replied.exit_code == 0, replied.output
    assert "queued; delivered by the running botkit serve" in cli("handovers", "reply", str(SAMPLE), str(handover), "Noch etwas").output
    with bot.store.engine.connect() as conn:
        rows = conn.execute(select(webhook_inbox).where(webhook_inbox.c.kind == "agent_message")).mappings().all()
    assert [r["text"] for r in rows] == [text, "Noch etwas"]
    assert rows[0]["reply_to"] == USER and rows[0]["account"] == "PNID1"  # addressed like the user's message
    details = json.loads(rows[0]["details"])
    assert details["handover_id"] == handover and details["user_at"] <= details["written_at"] <= time.time()

    released = cli("handovers", "release", str(SAMPLE), str(handover))
    assert released.exit_code == 0 and "released" in released.output
    again = bot.reply(CONVERSATION, "Wie melde ich meinen Zählerstand?", "whatsapp", user_id=USER)
    assert disclosure.disclosure_text(bot.knowledge.client, "de") in "\n".join(m.text for m in again.messages)
    assert isinstance(cli("handovers", "release", str(SAMPLE), str(handover)).exception, HandoverError)


def test_reply_refuses_a_conversation_that_never_came_through_the_webhook(cli, bot):
    bot.reply("web:abc", ASK_PERSON, "web", user_id="abc")
    handover = bot.queue()[-1].id
    assert cli("handovers", "take", str(SAMPLE), str(handover)).exit_code == 0
    result = cli("handovers", "reply", str(SAMPLE), str(handover), "Hallo")
    assert isinstance(result.exception, HandoverError)
    assert "did not come in through a platform webhook" in str(result.exception)


@pytest.mark.parametrize("command", ["list", "show", "take", "reply", "release"])
def test_every_handovers_command_has_help_with_an_example(command):
    result = CliRunner().invoke(app, ["handovers", command, "--help"])
    assert result.exit_code == 0
    assert "Example" in result.output and f"botkit handovers {command}" in result.output
