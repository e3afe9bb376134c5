"""Campaigns reach exactly the consented users their channel allows, rendered and recorded."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace

import pytest
from sqlalchemy import select

from botkit.channels import render
from botkit.consent import ConsentLedger, send_campaign, send_campaign_async
from botkit.db import campaign_deliveries, open_database
from botkit.errors import ConsentError
from botkit.knowledge import load_knowledge
from botkit.privacy import erase_personal_data
from botkit.store import ConversationStore
from botkit.types import Draft, Message
from tests.conftest import SAMPLE

CLIENT = load_knowledge(SAMPLE).client
HOUR = 3600.0
NOTICE_DE = "Sie können der Verwendung Ihrer Daten für Werbung jederzeit widersprechen"


@pytest.fixture
def engine(tmp_path):
    engine = open_database(f"sqlite:///{tmp_path / 'campaign.db'}")
    yield engine
    engine.dispose()


@pytest.fixture
def ledger(engine, clock) -> ConsentLedger:
    return ConsentLedger(engine, CLIENT, clock=clock)


class Outbox:
    """A sender that keeps what it was asked to send (the real senders are the webhook's)."""

    def __init__(self) -> None:
        self.sent: dict[tuple[str, str], list[Message]] = {}

    def __call__(self, user_id: str, channel: str, messages: Sequence[Message]) -> None:
        self.sent.setdefault((user_id, channel), []).extend(messages)


def wrote(engine, clock, user: str, channel: str, hours_ago: float, lang: str = "de") -> None:
    """The user's last message in `channel` was `hours_ago` hours before now."""
    store = ConversationStore(engine, lambda: clock() - hours_ago * HOUR)
    state = store.load(f"{channel}-{user}", user, channel)
    store.save(replace(state, lang=lang), "Hallo", None)


def consented(ledger, engine, clock, user: str, channel: str, hours_ago: float | None = 1.0, lang: str = "de") -> None:
    ledger.grant(user, channel, "angebote-solar")
    if hours_ago is not None:
        wrote(engine, clock, user, channel, hours_ago, lang)


def statuses(report) -> dict[tuple[str, str], str]:
    return {(r.user_id, r.channel): r.status for r in report.results}


def reasons(report) -> dict[tuple[str, str], str]:
    return {(r.user_id, r.channel): r.reason for r in report.results}


def test_only_users_with_standing_consent_receive_the_campaign(ledger, engine, clock):
    consented(ledger, engine, clock, "granted", "whatsapp")
    wrote(engine, clock, "never-asked", "whatsapp", 1)
    consented(ledger, engine, clock, "withdrawn", "whatsapp")
    ledger.withdraw("withdrawn", "whatsapp", "angebote-solar")
    ledger.request("pending", "whatsapp", "angebote-solar", wording="?")
    wrote(engine, clock, "pending", "whatsapp", 1)
    consented(ledger, engine, clock, "erased", "whatsapp")
    erase_personal_data(engine, "erased")
    ledger.grant("other-topic", "whatsapp", "newsletter")
    wrote(engine, clock, "other-topic", "whatsapp", 1)
    outbox = Outbox()
    report = send_campaign(ledger, "angebote-solar", "Neu: 5 % Rabatt.", send=outbox, campaign="c1")
    assert list(outbox.sent) == [("granted", "whatsapp")]
    assert statuses(report) == {("granted", "whatsapp"): "delivered"}
    with engine.connect() as conn:
        rows = conn.execute(select(campaign_deliveries)).mappings().all()
    assert [(r["campaign"], r["user_id"], r["channel"], r["status"]) for r in rows] == [("c1", "granted", "whatsapp", "delivered")]
    assert rows[0]["text"].startswith("Neu: 5 % Rabatt.")


def test_channel_rules_for_business_initiated_messages_decide_who_can_be_reached(ledger, engine, clock):
    consented(ledger, engine, clock, "wa-inside", "whatsapp", hours_ago=23)
    consented(ledger, engine, clock, "wa-outside", "whatsapp", hours_ago=25)
    consented(ledger, engine, clock, "fb-inside", "messenger", hours_ago=2)
    consented(ledger, engine, clock, "fb-outside", "messenger", hours_ago=30)
    consented(ledger, engine, clock, "fb-never", "messenger", hours_ago=None)
    consented(ledger, engine, clock, "tg-old", "telegram", hours_ago=24 * 60)
    consented(ledger, engine, clock, "tg-never", "telegram", hours_ago=None)
    consented(ledger, engine, clock, "sms-never", "sms", hours_ago=None)
    consented(ledger, engine, clock, "web", "web", hours_ago=0.1)
    report = send_campaign(ledger, "angebote-solar", "Neu: 5 % Rabatt.", send=Outbox())
    assert statuses(report) == {
        ("wa-inside", "whatsapp"): "delivered",
        ("wa-outside", "whatsapp"): "skipped",
        ("fb-inside", "messenger"): "delivered",
        ("fb-outside", "messenger"): "skipped",
        ("fb-never", "messenger"): "skipped",
        ("tg-old", "telegram"): "delivered",
        ("tg-never", "telegram"): "skipped",
        ("sms-never", "sms"): "delivered",
        ("web", "web"): "skipped",
    }
    why = reasons(report)
    assert "24-hour customer service window" in why[("wa-outside", "whatsapp")] and "template" in why[("wa-outside", "whatsapp")]
    assert "message tags may not carry promotional content" in why[("fb-outside", "messenger")]
    assert "cannot start a chat" in why[("tg-never", "telegram")]
    assert "web chat" in why[("web", "web")]
    assert len(report.delivered) == 4 and len(report.skipped) == 5


def test_whatsapp_outside_the_window_goes_out_as_the_approved_template(ledger, engine, clock):
    consented(ledger, engine, clock, "wa-outside", "whatsapp", hours_ago=48)
    outbox = Outbox()
    report = send_campaign(ledger, "angebote-solar", "Neu: 5 % Rabatt.", send=outbox, whatsapp_template="solar_offer_1")
    assert statuses(report) == {("wa-outside", "whatsapp"): "delivered"}
    [message] = outbox.sent[("wa-outside", "whatsapp")]
    assert message.payload["type"] == "template"
    assert message.payload["template"] == {"name": "solar_offer_1", "language": {"code": "de"}}
    with engine.connect() as conn:
        assert conn.execute(select(campaign_deliveries.c.detail)).scalar_one() == "template solar_offer_1"


def test_messages_are_rendered_by_the_channel_formatter_with_the_objection_notice_first(ledger, engine, clock):
    consented(ledger, engine, clock, "4917600000009", "sms")
    outbox = Outbox()
    text = "Neu: 5 % Rabatt auf die Montage – nur bis März."
    send_campaign(ledger, "angebote-solar", text, send=outbox, campaign="first")
    first = outbox.sent.pop(("4917600000009", "sms"))
    expected_text = f"{text}\n\nHinweis: {NOTICE_DE} – schreiben Sie einfach STOP."
    assert first == render("sms", Draft(expected_text))
    assert "-" in first[0].text and "–" not in first[0].text  # the SMS formatter keeps it GSM-7
    send_campaign(ledger, "angebote-solar", text, send=outbox, campaign="second")
    second = outbox.sent[("4917600000009", "sms")]
    assert NOTICE_DE not in second[0].text and second[0].text.endswith("Abmelden: STOP")


def test_in_chat_promotion_counts_as_the_first_marketing_message(ledger, engine, clock):
    consented(ledger, engine, clock, "u1", "whatsapp")
    ledger.record_delivery("chat:batteriespeicher", "angebote-solar", "u1", "whatsapp", "…", objection_notice=True)
    outbox = Outbox()
    send_campaign(ledger, "angebote-solar", "Neu.", send=outbox)
    assert NOTICE_DE not in outbox.sent[("u1", "whatsapp")][0].text


def test_each_user_gets_the_campaign_in_their_language(ledger, engine, clock):
    consented(ledger, engine, clock, "de-user", "messenger", lang="de")
    consented(ledger, engine, clock, "en-user", "messenger", lang="en")
    outbox = Outbox()
    send_campaign(ledger, "angebote-solar", {"de": "Neu: Rabatt.", "en": "New: discount."}, send=outbox)
    assert outbox.sent[("de-user", "messenger")][0].text.startswith("Neu: Rabatt.\n\nHinweis:")
    assert outbox.sent[("en-user", "messenger")][0].text.startswith("New: discount.\n\nNote: you can object")


def test_dry_run_reports_who_would_receive_it_and_records_nothing(ledger, engine, clock):
    consented(ledger, engine, clock, "a", "whatsapp")
    consented(ledger, engine, clock, "b", "messenger", hours_ago=100)
    report = send_campaign(ledger, "angebote-solar", "Neu.")
    assert report.dry_run and statuses(report) == {("a", "whatsapp"): "would_deliver", ("b", "messenger"): "skipped"}
    with engine.connect() as conn:
        assert conn.execute(select(campaign_deliveries)).first() is None


def test_a_rerun_of_the_same_campaign_skips_users_already_reached(ledger, engine, clock):
    consented(ledger, engine, clock, "a", "whatsapp")
    outbox = Outbox()
    send_campaign(ledger, "angebote-solar", "Neu.", send=outbox, campaign="c1")
    again = send_campaign(ledger, "angebote-solar", "Neu.", send=outbox, campaign="c1")
    assert statuses(again) == {("a", "whatsapp"): "skipped"} and "already delivered" in reasons(again)[("a", "whatsapp")]
    assert len(outbox.sent[("a", "whatsapp")]) == 1


def test_a_failing_send_is_reported_recorded_and_does_not_stop_the_campaign(ledger, engine, clock):
    consented(ledger, engine, clock, "bad", "whatsapp")
    consented(ledger, engine, clock, "good", "whatsapp")
    outbox = Outbox()

    def send(user_id: str, channel: str, messages: Sequence[Message]) -> None:
        if user_id == "bad":
            raise ConnectionError("graph.facebook.com answered 503")
        outbox(user_id, channel, messages)

    report = send_campaign(ledger, "angebote-solar", "Neu.", send=send)
    assert statuses(report) == {("bad", "whatsapp"): "failed", ("good", "whatsapp"): "delivered"}
    assert "503" in reasons(report)[("bad", "whatsapp")]
    with engine.connect() as conn:
        rows = conn.execute(select(campaign_deliveries.c.user_id, campaign_deliveries.c.status)).all()
    assert sorted(rows) == [("bad", "failed"), ("good", "delivered")]
    assert not ledger.notified("bad", "whatsapp")  # the notice did not reach them


def test_a_withdrawal_during_the_campaign_is_respected(ledger, engine, clock):
    consented(ledger, engine, clock, "first", "whatsapp")
    consented(ledger, engine, clock, "second", "whatsapp")
    outbox = Outbox()

    def send(user_id: str, channel: str, messages: Sequence[Message]) -> None:
        ledger.withdraw("second", "whatsapp", "angebote-solar")  # arrives while the campaign runs
        outbox(user_id, channel, messages)

    report = send_campaign(ledger, "angebote-solar", "Neu.", send=send)
    assert list(outbox.sent) == [("first", "whatsapp")]
    assert reasons(report)[("second", "whatsapp")] == "consent was withdrawn"


def test_consent_for_an_older_wording_version_is_not_enough(engine, clock):
    old = ConsentLedger(engine, CLIENT, clock=clock)
    consented(old, engine, clock, "old", "whatsapp")
    topics = tuple(replace(t, version="2027-01-01") for t in CLIENT.topics)
    newer = ConsentLedger(engine, replace(CLIENT, topics=topics), clock=clock)
    report = send_campaign(newer, "angebote-solar", "Neu.", send=Outbox())
    assert statuses(report) == {("old", "whatsapp"): "skipped"}
    assert "version 2026-11-01" in reasons(report)[("old", "whatsapp")]


def test_an_async_sender_works_with_send_campaign_async(ledger, engine, clock):
    consented(ledger, engine, clock, "a", "telegram")
    sent: list[str] = []

    async def send(user_id: str, channel: str, messages: Sequence[Message]) -> None:
        await asyncio.sleep(0)
        sent.append(user_id)

    report = asyncio.run(send_campaign_async(ledger, "angebote-solar", "Neu.", send=send))
    assert sent == ["a"] and statuses(report) == {("a", "telegram"): "delivered"}


def test_send_campaign_refuses_an_async_sender(ledger, engine, clock):
    consented(ledger, engine, clock, "a", "telegram")

    async def send(user_id: str, channel: str, messages: Sequence[Message]) -> None:
        raise AssertionError("never runs")

    with pytest.raises(ConsentError, match="send_campaign_async"):
        send_campaign(ledger, "angebote-solar", "Neu.", send=send)  # type: ignore[arg-type]
    with engine.connect() as conn:
        assert conn.execute(select(campaign_deliveries)).first() is None


def test_empty_message_and_unknown_topic_are_refused(ledger):
    with pytest.raises(ConsentError, match="empty message"):
        send_campaign(ledger, "angebote-solar", "  ")
    with pytest.raises(ConsentError, match="unknown consent topic 'solar'"):
        send_campaign(ledger, "solar", "Neu.")
