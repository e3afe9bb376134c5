"""The webhook when things go wrong: its database away (503), an event that fails every time, several reply loops."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import httpx
from sqlalchemy import create_engine, make_url, text

from botkit import open_bot
from botkit.db import webhook_inbox, webhook_outbox
from botkit.platforms import Inbound
from botkit.webhook import create_app
from botkit.webhook.outbox import WebhookQueue
from botkit.webhook.worker import MAX_ATTEMPTS
from tests.conftest import SAMPLE, new_postgres_database
from tests.webhook.conftest import webhook_settings
from tests.webhook.support import ServerThread, is_message, recipient, telegram_body, whatsapp_body
from tests.webhook.test_webhook_http import QUESTION, post, rows, wait_until_idle


def _connections(base: str, database: str, allow: bool) -> None:
    """Let clients into `database` or lock them out, closing its open connections (as a database restart would)."""
    admin = create_engine(base.format(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"ALTER DATABASE {database} ALLOW_CONNECTIONS {'true' if allow else 'false'}"))
        if not allow:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"), {"name": database})
    admin.dispose()


def test_while_the_database_is_away_the_webhook_answers_503_and_a_redelivery_is_answered_later(postgres_server, settings, embedder, recorder):
    url = new_postgres_database(postgres_server, "away")
    database = make_url(url).database
    bot = open_bot(SAMPLE, replace(settings, database_url=url), embedder=embedder)
    server = ServerThread(create_app(bot, webhook_settings(recorder.url))).start()
    server.bot = bot  # type: ignore[attr-defined]
    user = "4915100000503"
    try:
        _connections(postgres_server, database, allow=False)
        body = whatsapp_body(user, "wamid.away", QUESTION)
        refused = post(server, "whatsapp", body)
        assert refused.status_code == 503, refused.text  # not 500: the platform keeps the event and redelivers it
        assert refused.headers["Retry-After"] == "5"
        assert refused.json() == {"detail": "database unavailable, retry later"}
        health = httpx.get(f"{server.url}/healthz", timeout=10)
        assert health.status_code == 503  # a load balancer sees that this instance cannot take events

        _connections(postgres_server, database, allow=True)
        redelivered = post(server, "whatsapp", body)
        assert redelivered.json() == {"accepted": 1, "duplicates": 0, "ignored": 0}
        wait_until_idle(server)
        assert recorder.delivered(lambda r: is_message(r) and recipient(r) == user)
    finally:
        _connections(postgres_server, database, allow=True)
        server.stop()
        bot.close()


def test_an_event_that_fails_every_time_is_given_up_and_its_conversation_goes_on(server, recorder):
    user = "4915100000666"
    post(server, "whatsapp", whatsapp_body(user, "wamid.first", QUESTION))
    wait_until_idle(server)
    # A "nobody came" notice for a handover that no longer exists (e.g. purged meanwhile): handling it
    # raises every time. It is queued between two messages of the same conversation.
    poison = Inbound("whatsapp", "handover_timeout", user, "timeout:424242", "", "", user, "PNID1", {"handover_id": 424242})
    assert WebhookQueue(server.bot.store.engine).accept([poison], time.time()) == (1, 0)
    post(server, "whatsapp", whatsapp_body(user, "wamid.after", "Wie kann ich kündigen?"))
    wait_until_idle(server)
    inbox = {r["key"]: r for r in rows(server, webhook_inbox)}
    failed = inbox[poison.key]
    assert (failed["status"], failed["attempts"]) == ("failed", MAX_ATTEMPTS)
    assert failed["error"].startswith("HandoverError: there is no handover 424242")
    assert inbox["whatsapp:wamid.after"]["status"] == "done"  # the conversation was not blocked behind it
    users = [t["text"] for t in server.bot.store.transcript(f"whatsapp:{user}") if t["role"] == "user"]
    assert users == [QUESTION, "Wie kann ich kündigen?"]
    assert not [r for r in rows(server, webhook_outbox) if r["inbox_id"] == failed["id"]]  # it sent nothing


def test_several_reply_loops_answer_every_message_once_and_each_conversation_in_order(serve, recorder):
    server = serve(reply_workers=3)
    texts = ["Hallo", QUESTION, "Wie kann ich kündigen?", "Abschlag ändern"]
    users = [8300 + n for n in range(4)]

    def converse(n: int) -> None:
        for m, words in enumerate(texts):
            assert post(server, "telegram", telegram_body(10_000 * (n + 1) + m, users[n], words)).status_code == 200

    with ThreadPoolExecutor(len(users)) as pool:
        list(pool.map(converse, range(len(users))))
    wait_until_idle(server)
    inbox = rows(server, webhook_inbox)
    assert len(inbox) == len(users) * len(texts)
    assert {r["status"] for r in inbox} == {"done"} and {r["attempts"] for r in inbox} == {0}
    for user in users:
        transcript = server.bot.store.transcript(f"telegram:{user}")
        assert [t["text"] for t in transcript if t["role"] == "user"] == texts
        assert len([t for t in transcript if t["role"] == "bot"]) == len(texts)  # one reply per message
    sends = rows(server, webhook_outbox)
    assert {r["status"] for r in sends} == {"sent"}
    assert len(recorder.delivered()) == len(sends)  # each send delivered once
