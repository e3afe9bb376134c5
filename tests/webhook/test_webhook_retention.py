"""The worker's sweep loop purges by the retention policy, at most once an hour."""

from __future__ import annotations

import time

from sqlalchemy import func, insert, select

from botkit import open_bot
from botkit.db import webhook_inbox
from botkit.retention import DAY, RetentionPolicy
from botkit.webhook import create_app
from tests.conftest import SAMPLE
from tests.webhook.conftest import webhook_settings
from tests.webhook.support import ServerThread


def _old_done_event(engine, key: str, at: float) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(webhook_inbox).values(
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
                status="done",
                attempts=1,
                received_at=at,
                done_at=at,
            )
        )


def _events(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(webhook_inbox)).scalar_one()


def _wait_until_empty(engine, seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if _events(engine) == 0:
            return True
        time.sleep(0.05)
    return False


def test_the_sweep_loop_purges_old_events_once_an_hour(recorder, settings, embedder, clock):
    bot = open_bot(SAMPLE, settings, embedder=embedder, clock=clock)
    engine = bot.store.engine
    _old_done_event(engine, "telegram:1", clock.now - 31 * DAY)
    app = create_app(bot, webhook_settings(recorder.url, poll_seconds=0.05), clock=clock, retention=RetentionPolicy(webhook=30))
    server = ServerThread(app).start()
    try:
        assert _wait_until_empty(engine)  # the first sweep purges
        _old_done_event(engine, "telegram:2", clock.now - 31 * DAY)
        time.sleep(0.5)  # ten sweeps, all within the hour
        assert _events(engine) == 1
        clock.advance(3601)
        assert _wait_until_empty(engine)
    finally:
        server.stop()
        engine.dispose()


def test_without_a_policy_nothing_is_purged(recorder, settings, embedder, clock):
    bot = open_bot(SAMPLE, settings, embedder=embedder, clock=clock)
    engine = bot.store.engine
    _old_done_event(engine, "telegram:1", clock.now - 5000 * DAY)
    server = ServerThread(create_app(bot, webhook_settings(recorder.url, poll_seconds=0.05), clock=clock)).start()
    try:
        time.sleep(0.5)
        assert _events(engine) == 1
    finally:
        server.stop()
        engine.dispose()
