"""Retention: what `purge` deletes and what it must keep, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import func, insert, select, update
from typer.testing import CliRunner

from botkit.cli import app
from botkit.config import Settings
from botkit.db import (
    campaign_deliveries,
    campaign_recipients,
    consent_events,
    conversations,
    handovers,
    open_database,
    turns,
    webhook_inbox,
    webhook_outbox,
)
from botkit.errors import ConfigError
from botkit.retention import DAY, RetentionPolicy, purge
from botkit.testing import ManualClock

POLICY = RetentionPolicy(webhook=30, transcripts=180, handovers=365, deliveries=365, consent_after_withdrawal=1095)


def _inbox(conn, key: str, status: str, at: float) -> int:
    row = dict(
        key=key,
        platform="telegram",
        kind="message",
        user_id="u1",
        conversation_id="telegram:u1",
        text="Hallo",
        payload="{}",
        reply_to="u1",
        account="bot",
        details="{}",
        status=status,
        attempts=1,
        received_at=at,
        done_at=None if status == "pending" else at,
    )
    return conn.execute(insert(webhook_inbox).values(**row)).inserted_primary_key[0]


def _outbox(conn, inbox_id: int, status: str, at: float) -> None:
    conn.execute(
        insert(webhook_outbox).values(
            inbox_id=inbox_id,
            seq=0,
            platform="telegram",
            user_id="u1",
            conversation_id="telegram:u1",
            path="sendMessage",
            body="{}",
            status=status,
            attempts=1,
            next_at=at,
            created_at=at,
            sent_at=at if status == "sent" else None,
        )
    )


def _conversation(conn, cid: str, at: float, **extra: object) -> None:
    conn.execute(insert(conversations).values(id=cid, user_id=cid, channel="telegram", created_at=at, last_user_at=at, **extra))
    for role in ("user", "bot"):
        conn.execute(insert(turns).values(conversation_id=cid, user_id=cid, role=role, text="Zählerstand?", at=at))


def _handover(conn, cid: str, status: str, at: float) -> None:
    conn.execute(
        insert(handovers).values(
            conversation_id=cid,
            user_id=cid,
            channel="telegram",
            reason="user_request",
            details="{}",
            transcript="[]",
            status=status,
            created_at=at,
            released_at=at if status == "released" else None,
        )
    )


def _consent(conn, user: str, topic: str, state: str, at: float) -> None:
    conn.execute(insert(consent_events).values(user_id=user, channel="whatsapp", topic=topic, state=state, version="1", method="chat", at=at))


def _count(engine, table, *where) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


@pytest.fixture
def engine(database_url):
    engine = open_database(database_url)
    yield engine
    engine.dispose()


def test_old_finished_webhook_rows_go_and_pending_work_stays(engine, clock: ManualClock):
    old, recent = clock.now - 31 * DAY, clock.now - 29 * DAY
    with engine.begin() as conn:
        done_old = _inbox(conn, "a", "done", old)
        _outbox(conn, done_old, "sent", old)
        failed_old = _inbox(conn, "b", "failed", old)
        _outbox(conn, failed_old, "failed", old)
        _inbox(conn, "c", "pending", old)  # never handled yet: work, not history
        waiting_send = _inbox(conn, "d", "done", old)
        _outbox(conn, waiting_send, "pending", old)  # its reply is still to be sent
        recent_done = _inbox(conn, "e", "done", recent)
        _outbox(conn, recent_done, "sent", recent)

    report = purge(engine, RetentionPolicy(webhook=30), clock.now)

    assert report.counts == {"webhook_inbox": 2, "webhook_outbox": 2}
    with engine.connect() as conn:
        assert sorted(conn.execute(select(webhook_inbox.c.key)).scalars()) == ["c", "d", "e"]
        assert sorted(conn.execute(select(webhook_outbox.c.status)).scalars()) == ["pending", "sent"]


def test_transcripts_go_except_where_a_person_is_waited_for_or_talking(engine, clock: ManualClock):
    old = clock.now - 181 * DAY
    with engine.begin() as conn:
        _conversation(conn, "old", old)
        _conversation(conn, "recent", clock.now - 10 * DAY)
        _conversation(conn, "waiting", old)
        _handover(conn, "waiting", "waiting", old)
        _conversation(conn, "talking", old, with_human=1)
        _handover(conn, "talking", "with_person", old)
        _conversation(conn, "released", old)
        _handover(conn, "released", "released", old)

    report = purge(engine, RetentionPolicy(transcripts=180), clock.now)

    assert report.counts == {"turns": 4, "conversations": 2}  # "old" and "released", two turns each
    with engine.connect() as conn:
        assert sorted(conn.execute(select(conversations.c.id)).scalars()) == ["recent", "talking", "waiting"]
        assert sorted(set(conn.execute(select(turns.c.conversation_id)).scalars())) == ["recent", "talking", "waiting"]
    assert _count(engine, handovers) == 3  # handovers follow their own period


def test_released_handovers_and_deliveries_go_after_their_period(engine, clock: ManualClock):
    with engine.begin() as conn:
        _handover(conn, "a", "released", clock.now - 366 * DAY)
        _handover(conn, "b", "released", clock.now - 364 * DAY)
        _handover(conn, "c", "waiting", clock.now - 400 * DAY)
        for days in (366, 364):
            conn.execute(
                insert(campaign_deliveries).values(
                    campaign="c1", topic="angebote", user_id="u1", channel="sms", status="delivered", text="Neu", at=clock.now - days * DAY
                )
            )

    report = purge(engine, RetentionPolicy(handovers=365, deliveries=365), clock.now)

    assert report.counts == {"handovers": 1, "campaign_deliveries": 1, "campaign_recipients": 0}
    with engine.connect() as conn:
        assert sorted(conn.execute(select(handovers.c.conversation_id)).scalars()) == ["b", "c"]


def test_a_withdrawn_consents_events_go_only_after_the_extra_period(engine, clock: ManualClock):
    start = clock.now
    with engine.begin() as conn:
        _consent(conn, "u1", "solar", "pending", start)
        _consent(conn, "u1", "solar", "granted", start)
        _consent(conn, "u1", "strom", "granted", start)  # stands: kept however old
        _consent(conn, "u2", "solar", "pending", start)  # asked, never answered: stands too
        _consent(conn, "u3", "solar", "granted", start)
        _consent(conn, "u3", "solar", "withdrawn", start)
        _consent(conn, "u3", "solar", "granted", start)  # granted again: stands
    clock.advance(10 * DAY)
    with engine.begin() as conn:
        _consent(conn, "u1", "solar", "withdrawn", clock.now)
    policy = RetentionPolicy(consent_after_withdrawal=1095)

    clock.advance(1094 * DAY)
    assert purge(engine, policy, clock.now).counts == {"consent_events": 0}
    assert _count(engine, consent_events) == 8

    clock.advance(2 * DAY)
    assert purge(engine, policy, clock.now).counts == {"consent_events": 3}  # all of u1's solar events
    with engine.connect() as conn:
        left = sorted(conn.execute(select(consent_events.c.user_id, consent_events.c.topic, consent_events.c.state)).all())
    assert left == [("u1", "strom", "granted"), ("u2", "solar", "pending")] + [("u3", "solar", s) for s in ("granted", "granted", "withdrawn")]


def test_a_dry_run_deletes_nothing_and_counts_what_a_purge_deletes(engine, clock: ManualClock):
    old = clock.now - 2000 * DAY
    with engine.begin() as conn:
        _outbox(conn, _inbox(conn, "a", "done", old), "sent", old)
        _conversation(conn, "old", old)
        _handover(conn, "old", "released", old)
        _consent(conn, "u1", "solar", "withdrawn", old)

    dry = purge(engine, POLICY, clock.now, dry_run=True)
    tables = (webhook_inbox, webhook_outbox, turns, conversations, handovers, consent_events)
    assert [_count(engine, t) for t in tables] == [1, 1, 2, 1, 1, 1]
    real = purge(engine, POLICY, clock.now)

    assert dry.dry_run and not real.dry_run
    assert dry.counts == real.counts and real.total == 7
    assert [_count(engine, t) for t in tables] == [0] * 6


def test_kinds_left_out_are_kept(engine, clock: ManualClock):
    old = clock.now - 5000 * DAY
    with engine.begin() as conn:
        _inbox(conn, "a", "done", old)
        _conversation(conn, "old", old)
    assert purge(engine, RetentionPolicy(deliveries=1), clock.now).counts == {"campaign_deliveries": 0, "campaign_recipients": 0}
    assert _count(engine, webhook_inbox) == 1 and _count(engine, turns) == 2


def test_the_spec_is_read_from_the_environment():
    settings = Settings.from_env({"BOTKIT_RETENTION_DAYS": "webhook=30, transcripts=180,consent_after_withdrawal=1095"})
    policy = RetentionPolicy.parse(settings.retention_days)
    assert policy == RetentionPolicy(webhook=30, transcripts=180, consent_after_withdrawal=1095) and policy.active
    assert not RetentionPolicy.parse(None).active and not RetentionPolicy.parse("").active


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("webhooks=30", "'webhooks=30' is not <kind>=<days>"),
        ("webhook 30", "is not <kind>=<days>"),
        ("webhook=thirty", "webhook='thirty' is not a number of days"),
        ("webhook=0", "must be more than 0 days"),
        ("webhook=nan", "must be more than 0 days"),
        ("webhook=30,webhook=60", "webhook is given twice"),
    ],
)
def test_a_bad_spec_is_a_config_error_naming_the_part(spec, message):
    with pytest.raises(ConfigError, match="BOTKIT_RETENTION_DAYS") as caught:
        RetentionPolicy.parse(spec)
    assert message in str(caught.value)


def test_the_command_reports_then_purges(tmp_path):
    url = f"sqlite:///{tmp_path / 'botkit.db'}"
    engine = open_database(url)
    old = time.time() - 100 * DAY
    with engine.begin() as conn:
        _outbox(conn, _inbox(conn, "a", "done", old), "sent", old)
        _inbox(conn, "b", "pending", old)
    env = {"BOTKIT_DATABASE_URL": url, "BOTKIT_RETENTION_DAYS": "webhook=30", "COLUMNS": "200"}
    runner, args = CliRunner(), ["purge", str(tmp_path / "knowledge"), "--index-dir", str(tmp_path)]

    dry = runner.invoke(app, [*args, "--dry-run", "--json"], env=env)
    assert dry.exit_code == 0, dry.output
    assert json.loads(dry.stdout) == {"dry_run": True, "counts": {"webhook_inbox": 1, "webhook_outbox": 1}}
    assert _count(engine, webhook_inbox) == 2

    real = runner.invoke(app, args, env=env)
    assert real.exit_code == 0, real.output
    assert "webhook_inbox" in real.stdout and "deleted" in real.stdout
    assert _count(engine, webhook_inbox) == 1 and _count(engine, webhook_outbox) == 0

    unset = runner.invoke(app, args, env={**env, "BOTKIT_RETENTION_DAYS": ""})
    assert unset.exit_code == 1 and "BOTKIT_RETENTION_DAYS is not set" in str(unset.exception)
    engine.dispose()


def test_settled_campaign_recipients_go_after_the_delivery_period_and_the_job_is_not_sent_again(engine, clock: ManualClock):
    from botkit.campaigns import CampaignJobs

    jobs = CampaignJobs(engine, clock=clock)
    jobs.create("spring", "angebote", {"": "Neu"}, None, [("u1", "sms", "de"), ("u2", "sms", "de"), ("u3", "sms", "de")])
    r = campaign_recipients.c
    with engine.begin() as conn:
        conn.execute(update(campaign_recipients).where(r.user_id == "u1").values(status="sent", done_at=clock.now - 366 * DAY))
        conn.execute(update(campaign_recipients).where(r.user_id == "u2").values(status="sent", done_at=clock.now - 364 * DAY))
        conn.execute(update(campaign_recipients).where(r.user_id == "u3").values(status="sending", done_at=None))  # in flight: kept

    assert purge(engine, RetentionPolicy(deliveries=365), clock.now).counts == {"campaign_deliveries": 0, "campaign_recipients": 1}
    with engine.connect() as conn:
        assert sorted(conn.execute(select(r.user_id)).scalars()) == ["u2", "u3"]
    jobs.create("spring", "angebote", {"": "Neu"}, None, [("u1", "sms", "de")])  # resuming the job adds nobody back
    with engine.connect() as conn:
        assert sorted(conn.execute(select(r.user_id)).scalars()) == ["u2", "u3"]
