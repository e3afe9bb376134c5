"""The webhook app on uvicorn at 127.0.0.1, driven with httpx; sends go to a recording stand-in."""

from __future__ import annotations

import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import httpx
import pytest
from sqlalchemy import select

from botkit.db import turns, webhook_inbox, webhook_outbox
from botkit.webhook.parse import ANSWERED_KINDS, HANDOVER_KINDS, parse
from tests.webhook.support import (
    MESSENGER_SECRET,
    PAGE_TOKEN,
    TELEGRAM_SECRET,
    TELEGRAM_TOKEN,
    VERIFY_TOKEN,
    WHATSAPP_SECRET,
    WHATSAPP_TOKEN,
    fixture_bodies,
    is_message,
    messenger_body,
    recipient,
    require_payloads,
    signature_vectors,
    signed,
    telegram_body,
    whatsapp_body,
)

SECRETS = {"messenger": MESSENGER_SECRET, "whatsapp": WHATSAPP_SECRET}
QUESTION = "Wie melde ich meinen Zählerstand?"


def post(server, platform: str, body: bytes, **headers: str) -> httpx.Response:
    if platform == "telegram":
        auth = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET, "Content-Type": "application/json"}
    else:
        auth = signed(body, SECRETS[platform])
    return httpx.post(f"{server.url}/webhook/{platform}", content=body, headers={**auth, **headers}, timeout=10)


def rows(server, table):
    with server.bot.store.engine.connect() as conn:
        return conn.execute(select(table)).mappings().all()


def wait_until_idle(server, timeout: float = 20.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pending = httpx.get(f"{server.url}/healthz").json()["pending"]
        if pending == {"inbox": 0, "outbox": 0}:
            return pending
        time.sleep(0.05)
    raise AssertionError(f"still pending after {timeout} s: {pending}")


def messages_to(recorder, user: str):
    return recorder.delivered(lambda r: is_message(r) and recipient(r) == user)


# handshake, health, schema -----------------------------------------------------------


@pytest.mark.parametrize("platform", ["messenger", "whatsapp"])
def test_handshake_echoes_the_challenge_only_with_the_verify_token(server, platform):
    url = f"{server.url}/webhook/{platform}"
    ok = httpx.get(url, params={"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"})
    assert (ok.status_code, ok.text) == (200, "1158201444")
    wrong = httpx.get(url, params={"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1"})
    assert wrong.status_code == 403
    for params in (
        {},
        {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"},
        {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN},
        {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "<script>" * 40},
    ):
        assert httpx.get(url, params=params).status_code == 400


def test_health_and_openapi_describe_the_served_endpoints(server):
    health = httpx.get(f"{server.url}/healthz").json()
    assert health == {"status": "ok", "platforms": ["messenger", "whatsapp", "telegram"], "pending": {"inbox": 0, "outbox": 0}}
    schema = httpx.get(f"{server.url}/openapi.json").json()
    paths = schema["paths"]
    assert set(paths) == {"/webhook/messenger", "/webhook/whatsapp", "/webhook/telegram", "/healthz"}
    assert set(paths["/webhook/messenger"]) == {"get", "post"} and set(paths["/webhook/telegram"]) == {"post"}
    assert {"400", "401", "403", "413"} <= set(paths["/webhook/whatsapp"]["post"]["responses"])


def test_only_configured_platforms_are_served(serve):
    server = serve(messenger_app_secret=None, messenger_page_token=None, whatsapp_app_secret=None, whatsapp_token=None)
    assert httpx.get(f"{server.url}/healthz").json()["platforms"] == ["telegram"]
    assert post(server, "messenger", messenger_body("u", "m", "hi")).status_code == 404


# bad input ------------------------------------------------------------------------------


def test_unsigned_wrongly_signed_truncated_and_malformed_bodies_are_refused(server, recorder):
    body = whatsapp_body("4915100000001", "wamid.bad1", QUESTION)
    url = f"{server.url}/webhook/whatsapp"
    cases = {
        "unsigned": (httpx.post(url, content=body), 401),
        "wrong secret": (httpx.post(url, content=body, headers=signed(body, "not-the-secret")), 403),
        "other platform's secret": (httpx.post(url, content=body, headers=signed(body, MESSENGER_SECRET)), 403),
        "garbage header": (httpx.post(url, content=body, headers={"X-Hub-Signature-256": "sha256=nothex"}), 403),
        "truncated, original signature": (httpx.post(url, content=body[:-7], headers=signed(body, WHATSAPP_SECRET)), 403),
        "truncated, re-signed": (post(server, "whatsapp", body[:-7]), 400),
        "malformed JSON": (post(server, "whatsapp", b'{"object": "whatsapp_business_account", "entry": [}'), 400),
        "empty": (post(server, "whatsapp", b""), 400),
        "not UTF-8": (post(server, "whatsapp", b'{"object": "\xff"}'), 400),
        "messenger body": (post(server, "whatsapp", messenger_body("u", "m", "hi")), 400),
        "telegram unsigned": (httpx.post(f"{server.url}/webhook/telegram", content=telegram_body(1, 2, "hi")), 401),
        "telegram wrong": (post(server, "telegram", telegram_body(1, 2, "hi"), **{"X-Telegram-Bot-Api-Secret-Token": "x"}), 403),
        "telegram not an update": (post(server, "telegram", b'{"message": {"text": "hi"}}'), 400),
    }
    for name, (response, status) in cases.items():
        assert response.status_code == status, name
        assert set(response.json()) == {"detail"} and len(response.json()["detail"]) < 200, name
    # nothing was queued, so nothing can be sent later: no need to wait before checking
    assert rows(server, webhook_inbox) == [] and rows(server, webhook_outbox) == []
    assert recorder.requests == []


def test_bodies_over_the_limit_get_413(serve):
    server = serve(max_body_bytes=2000)
    body = whatsapp_body("4915100000001", "wamid.big", "x" * 3000)
    assert post(server, "whatsapp", body).status_code == 413

    def chunks():
        yield body  # no Content-Length: the limit holds while streaming

    response = httpx.post(f"{server.url}/webhook/whatsapp", content=chunks(), headers=signed(body, WHATSAPP_SECRET))
    assert response.status_code == 413


def test_statuses_media_and_unknown_events_are_acknowledged_and_ignored(server, recorder):
    status = json.loads(whatsapp_body("4915100000002", "wamid.s", "x"))
    value = status["entry"][0]["changes"][0]["value"]
    value["statuses"] = [{"id": "wamid.out1", "status": "delivered", "timestamp": "1", "recipient_id": "4915100000002"}]
    del value["messages"]
    image = json.loads(whatsapp_body("4915100000002", "wamid.img", "x"))
    image["entry"][0]["changes"][0]["value"]["messages"][0] = {"from": "4915100000002", "id": "wamid.img", "type": "image", "image": {"id": "1"}}
    future = {"object": "page", "entry": [{"id": "P", "messaging": [{"sender": {"id": "u"}, "timestamp": 1, "reaction": {"emoji": "x"}}]}]}
    for platform, data in (("whatsapp", status), ("whatsapp", image), ("messenger", future)):
        response = post(server, platform, json.dumps(data).encode())
        assert response.status_code == 200
        assert response.json() == {"accepted": 0, "duplicates": 0, "ignored": 1}
    telegram = post(server, "telegram", json.dumps({"update_id": 77, "my_chat_member": {"chat": {"id": 1}}}).encode())
    assert telegram.json() == {"accepted": 0, "duplicates": 0, "ignored": 1}
    # ignored events are not queued, so nothing can be sent later: no need to wait before checking
    assert rows(server, webhook_inbox) == [] and rows(server, webhook_outbox) == []
    assert recorder.requests == []


# the shared payloads ----------------------------------------------------------------------


@pytest.mark.parametrize("platform", ["messenger", "whatsapp", "telegram"])
def test_every_shared_payload_is_acknowledged_and_answerable_ones_are_answered_once(serve, recorder, platform):
    require_payloads()
    server = serve()
    seen: set[str] = set()
    answered: set[str] = set()
    for name, body in fixture_bodies(platform):
        events = parse(platform, body)
        response = post(server, platform, body)
        assert response.status_code == 200, name
        kept = [e for e in events if e.kind in ANSWERED_KINDS | HANDOVER_KINDS]
        new = {e.key for e in kept} - seen
        assert response.json() == {"accepted": len(new), "duplicates": len(kept) - len(new), "ignored": len(events) - len(kept)}, name
        seen |= new
        answered |= {e.reply_to for e in kept if e.kind in ANSWERED_KINDS and e.key in new}
    wait_until_idle(server)
    inbox = rows(server, webhook_inbox)
    assert {r["key"] for r in inbox} == seen and {r["status"] for r in inbox} <= {"done"}
    assert {recipient(r) for r in recorder.delivered(is_message)} >= answered
    sends = rows(server, webhook_outbox)
    assert len(recorder.delivered()) == len(sends) and {r["status"] for r in sends} == {"sent"}


def test_signed_shared_bodies_are_accepted_with_their_own_secrets(serve, recorder):
    require_payloads()
    vectors = {platform: (body, meta) for platform, body, meta in signature_vectors()}
    server = serve(messenger_app_secret=vectors["messenger"][1]["app_secret"], whatsapp_app_secret=vectors["whatsapp"][1]["app_secret"])
    for platform, (body, meta) in vectors.items():
        url = f"{server.url}/webhook/{platform}"
        good = httpx.post(url, content=body, headers={"X-Hub-Signature-256": meta["x_hub_signature_256_header"]})
        assert good.json() == {"accepted": 1, "duplicates": 0, "ignored": 0}
        assert httpx.post(url, content=body, headers=signed(body, "TestAppSecret-wrong")).status_code == 403
    assert len(recorder.wait_for(2, lambda r: is_message(r) and recipient(r) in {"123123123", "972544401243"})) >= 2


# idempotency and delivery ---------------------------------------------------------------


def test_three_concurrent_deliveries_of_one_message_give_one_reply(server, recorder):
    body = messenger_body("PSID-dup-1", "m_dup_1", QUESTION)
    with ThreadPoolExecutor(3) as pool:
        responses = list(pool.map(lambda _: post(server, "messenger", body), range(3)))
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert sorted(r.json()["accepted"] for r in responses) == [0, 0, 1]
    wait_until_idle(server)
    again = post(server, "messenger", body)  # a late redelivery
    assert again.json() == {"accepted": 0, "duplicates": 1, "ignored": 0}
    wait_until_idle(server)
    sent = messages_to(recorder, "PSID-dup-1")
    bot_turns = [t for t in server.bot.store.transcript("messenger:PSID-dup-1") if t["role"] == "bot"]
    assert len(bot_turns) == 1 and len(sent) == len(rows(server, webhook_outbox)) >= 1
    assert all(r.headers["authorization"] == f"Bearer {PAGE_TOKEN}" and r.path == "/v21.0/me/messages" for r in sent)


def test_replies_reach_each_platforms_send_api_in_its_format(server, recorder):
    post(server, "whatsapp", whatsapp_body("4915100000003", "wamid.fmt", QUESTION))
    post(server, "telegram", telegram_body(4242, 5151, QUESTION))
    wait_until_idle(server)
    wa = messages_to(recorder, "4915100000003")
    assert wa and all(r.path == "/v21.0/PNID1/messages" and r.headers["authorization"] == f"Bearer {WHATSAPP_TOKEN}" for r in wa)
    assert all(r.body["messaging_product"] == "whatsapp" and r.body["recipient_type"] == "individual" for r in wa)
    tg = messages_to(recorder, "5151")
    assert tg and all(r.path == f"/bot{TELEGRAM_TOKEN}/sendMessage" and "method" not in r.body for r in tg)
    assert any("Zählerstand" in r.body["text"] for r in tg)


def test_transient_send_failures_are_retried_and_delivered_once(server, recorder):
    recorder.answer_next(429, 500, 503)
    post(server, "messenger", messenger_body("PSID-retry", "m_retry", QUESTION))
    wait_until_idle(server)
    attempts = [r for r in recorder.requests if recipient(r) == "PSID-retry"]
    assert [r.status for r in attempts[:4]] == [429, 500, 503, 200]
    delivered = messages_to(recorder, "PSID-retry")
    texts = [r.body["message"]["text"] for r in delivered]
    assert len(texts) == len(set(texts)) == len(rows(server, webhook_outbox))
    assert {r["status"] for r in rows(server, webhook_outbox)} == {"sent"}


def test_a_send_api_outage_longer_than_the_retries_is_resumed_later(serve, recorder):
    server = serve(send_attempts=2)
    recorder.answer_next(500, 500, 500, 500)  # two rounds of two tries
    post(server, "telegram", telegram_body(9001, 6161, QUESTION))
    wait_until_idle(server)
    delivered = messages_to(recorder, "6161")
    assert len(delivered) == len(rows(server, webhook_outbox))
    assert [r.status for r in recorder.requests][:5] == [500, 500, 500, 500, 200]
    # the reply's messages keep their order
    assert [r.body["text"] for r in delivered][0].startswith("Hallo")


def test_a_permanent_rejection_is_not_retried(server, recorder, caplog):
    recorder.answer_next(400)
    with caplog.at_level(logging.WARNING, logger="botkit.webhook"):
        post(server, "telegram", telegram_body(9002, 7171, QUESTION))
        wait_until_idle(server)
    statuses = [r["status"] for r in rows(server, webhook_outbox)]
    assert statuses[0] == "failed" and set(statuses[1:]) == {"sent"}
    assert len([r for r in recorder.requests if recipient(r) == "7171"]) == len(statuses)
    assert any("rejected a send to …171" in r.getMessage() for r in caplog.records)


def test_two_app_instances_on_one_database_answer_every_message_once(serve, recorder):
    first, second = serve(), serve()
    users = [f"49151000100{i:02d}" for i in range(12)]
    with ThreadPoolExecutor(6) as pool:
        list(pool.map(lambda i: post((first, second)[i % 2], "whatsapp", whatsapp_body(users[i], f"wamid.multi{i}", QUESTION)), range(12)))
    wait_until_idle(first)
    inbox = rows(first, webhook_inbox)
    assert len(inbox) == 12 and {r["status"] for r in inbox} == {"done"} and {r["attempts"] for r in inbox} == {0}  # no failures
    for user in users:
        assert len([t for t in first.bot.store.transcript(f"whatsapp:{user}") if t["role"] == "bot"]) == 1
    sends = rows(first, webhook_outbox)
    assert len(recorder.delivered()) == len(sends)
    assert len({(recipient(r), json.dumps(r.body, sort_keys=True)) for r in recorder.delivered()}) == len(sends)


def test_a_conversations_messages_are_answered_in_order(server, recorder):
    texts = ["Hallo", "Wie melde ich meinen Zählerstand?", "Wie kann ich kündigen?", "Abschlag ändern"]
    for i, text in enumerate(texts):
        post(server, "telegram", telegram_body(9100 + i, 8181, text))
    wait_until_idle(server)
    users = [t["text"] for t in server.bot.store.transcript("telegram:8181") if t["role"] == "user"]
    assert users == texts
    assert len(messages_to(recorder, "8181")) == len(rows(server, webhook_outbox))


# choices and handover -------------------------------------------------------------------


def test_a_tapped_option_of_a_clarification_is_answered_with_that_entry(server, recorder):
    """The bot asked "which one?" with two entries as buttons; the user taps the second one."""
    user, store = "4915100000005", server.bot.store
    first, second = [e for e in server.bot.knowledge.entries if e.scope == "service"][:2]
    state = store.load(f"whatsapp:{user}", user, "whatsapp")
    store.save(replace(state, pending=(first.id, second.id), needs_disclosure=False), "…", None)
    shown = second.question[:23] + "…"  # WhatsApp shows 24 characters; the id carries the full title
    post(server, "whatsapp", whatsapp_body(user, "wamid.q2", button=(second.question, shown)))
    wait_until_idle(server)
    assert messages_to(recorder, user)
    with store.engine.connect() as conn:
        last = conn.execute(select(turns).where(turns.c.conversation_id == f"whatsapp:{user}").order_by(turns.c.id)).mappings().all()[-2:]
    assert (last[0]["role"], last[0]["text"]) == ("user", second.question)
    assert (last[1]["decision"], json.loads(last[1]["entries"])) == ("answered", [second.id])


def test_telegram_callback_queries_are_acknowledged_and_answered(server, recorder):
    update = {
        "update_id": 9300,
        "callback_query": {
            "id": "cq-9300",
            "from": {"id": 9191, "is_bot": False, "first_name": "T"},
            "chat_instance": "1",
            "data": QUESTION,
            "message": {"message_id": 1, "date": 1, "chat": {"id": 9191, "type": "private"}},
        },
    }
    assert post(server, "telegram", json.dumps(update).encode()).json()["accepted"] == 1
    wait_until_idle(server)
    paths = [r.path.rsplit("/", 1)[1] for r in recorder.delivered(lambda r: recipient(r) in {"9191", "cq-9300"})]
    assert paths[0] == "answerCallbackQuery" and "sendMessage" in paths


def handover_event(user: str, name: str, stamp: int, **fields) -> bytes:
    item = {"sender": {"id": user}, "recipient": {"id": "PAGE1"}, "timestamp": stamp, name: fields}
    return json.dumps({"object": "page", "entry": [{"id": "PAGE1", "time": stamp, "messaging": [item]}]}).encode()


def test_bot_is_silent_while_a_person_owns_the_messenger_thread(server, recorder):
    user = "PSID-handover"
    post(server, "messenger", messenger_body(user, "m_h1", QUESTION))
    wait_until_idle(server)
    first = len(messages_to(recorder, user))
    post(server, "messenger", handover_event(user, "take_thread_control", 2, previous_owner_app_id=1, metadata="agent"))
    post(server, "messenger", messenger_body(user, "m_h2", "Wie kann ich kündigen?"))
    standby = json.dumps(
        {
            "object": "page",
            "entry": [
                {
                    "id": "PAGE1",
                    "time": 3,
                    "standby": [{"sender": {"id": user}, "recipient": {"id": "PAGE1"}, "timestamp": 3, "message": {"mid": "m_h3", "text": "Danke!"}}],
                }
            ],
        }
    ).encode()
    assert post(server, "messenger", standby).json()["accepted"] == 1
    wait_until_idle(server)
    assert len(messages_to(recorder, user)) == first
    assert [t["text"] for t in server.bot.store.transcript(f"messenger:{user}") if t["role"] == "user"][-2:] == ["Wie kann ich kündigen?", "Danke!"]
    post(server, "messenger", handover_event(user, "pass_thread_control", 4, new_owner_app_id=1, metadata="back to bot"))
    post(server, "messenger", messenger_body(user, "m_h4", QUESTION))
    wait_until_idle(server)
    after = messages_to(recorder, user)[first:]
    assert after and "Bot" in after[0].body["message"]["text"]  # discloses again after a person


def test_a_bot_handover_passes_the_messenger_thread_to_the_page_inbox(server, recorder):
    user = "PSID-agent"
    post(server, "messenger", messenger_body(user, "m_a1", "Ich möchte mit einem Mitarbeiter sprechen"))
    wait_until_idle(server)
    passes = recorder.delivered(lambda r: r.path.endswith("/me/pass_thread_control"))
    assert [(p.body["recipient"]["id"], p.body["target_app_id"]) for p in passes] == [(user, "263902037430900")]
    assert [h.conversation_id for h in server.bot.store.queue()] == [f"messenger:{user}"]
    before = len(messages_to(recorder, user))
    # The Page Inbox owns the thread now: Meta delivers the user's messages on the standby channel.
    standby = json.dumps(
        {
            "object": "page",
            "entry": [
                {
                    "id": "PAGE1",
                    "time": 3,
                    "standby": [{"sender": {"id": user}, "recipient": {"id": "PAGE1"}, "timestamp": 3, "message": {"mid": "m_a2", "text": QUESTION}}],
                }
            ],
        }
    ).encode()
    post(server, "messenger", standby)
    wait_until_idle(server)
    assert len(messages_to(recorder, user)) == before


def test_a_thread_control_request_is_granted_and_the_bot_goes_silent(server, recorder):
    user = "PSID-request"
    post(server, "messenger", messenger_body(user, "m_r1", QUESTION))
    wait_until_idle(server)
    before = len(messages_to(recorder, user))
    post(server, "messenger", handover_event(user, "request_thread_control", 5, requested_owner_app_id=555, metadata=None))
    post(server, "messenger", messenger_body(user, "m_r2", "Wie kann ich kündigen?"))
    wait_until_idle(server)
    passes = recorder.delivered(lambda r: r.path.endswith("/me/pass_thread_control"))
    assert [p.body["target_app_id"] for p in passes] == ["555"]
    assert len(messages_to(recorder, user)) == before


def test_whatsapp_handover_waits_in_the_queue_and_the_bot_keeps_answering(server, recorder):
    user = "4915100000009"
    post(server, "whatsapp", whatsapp_body(user, "wamid.h1", "Ich möchte mit einem Mitarbeiter sprechen"))
    wait_until_idle(server)
    before = len(messages_to(recorder, user))
    post(server, "whatsapp", whatsapp_body(user, "wamid.h2", QUESTION))
    wait_until_idle(server)
    assert [h.channel for h in server.bot.queue()] == ["whatsapp"]
    assert len(messages_to(recorder, user)) > before, "a waiting user still gets answers (and a reminder)"
    server.bot.take(server.bot.queue()[0].id, "Anna")
    taken = len(messages_to(recorder, user))
    post(server, "whatsapp", whatsapp_body(user, "wamid.h3", QUESTION))
    wait_until_idle(server)
    assert len(messages_to(recorder, user)) == taken, "silent while a person has it"


# logs -------------------------------------------------------------------------------------


def test_logs_mask_user_ids_and_never_contain_secrets(server, recorder, caplog):
    phone = "4915112345678"
    recorder.answer_next(500, 400)
    with caplog.at_level(logging.DEBUG):
        post(server, "whatsapp", whatsapp_body(phone, "wamid.log1", QUESTION))
        post(server, "telegram", telegram_body(9400, 123456789, QUESTION))
        httpx.get(f"{server.url}/webhook/whatsapp", params={"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "5"})
        httpx.get(f"{server.url}/webhook/whatsapp", params={"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "5"})
        wait_until_idle(server)
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "…678" in text and "…789" in text  # the masked ids are there ...
    for secret in (
        phone,
        "123456789",
        MESSENGER_SECRET,
        WHATSAPP_SECRET,
        VERIFY_TOKEN,
        PAGE_TOKEN,
        WHATSAPP_TOKEN,
        TELEGRAM_TOKEN,
        TELEGRAM_SECRET,
        "test-telegram-bot-token",
    ):
        assert secret not in text  # ... the full ones and every secret are not


def test_the_scrubber_hides_tokens_in_third_party_log_lines(server, caplog):
    with caplog.at_level(logging.INFO):
        logging.getLogger("httpx").info('HTTP Request: POST http://x/bot%s/sendMessage "200"', TELEGRAM_TOKEN)
        logging.getLogger("uvicorn.access").info('"GET /webhook/whatsapp?hub.verify_token=%s&hub.challenge=1"', "anything")
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert TELEGRAM_TOKEN not in text and "anything" not in text and "/bot***/sendMessage" in text


# STOP is always heard (standby, edits) -----------------------------------------------------------


def granted(server, user: str, channel: str) -> bool:
    return server.bot.ledger.is_granted(user, channel, "newsletter")


def test_stop_in_messenger_standby_withdraws_consent_without_a_send(server, recorder):
    # Regression: standby messages (a person owns the thread, also after the bot's own handover)
    # were saved but never checked, so consent stayed granted and campaigns still listed the user.
    user = "PSID-standby-stop"
    server.bot.ledger.import_with_proof(user, "messenger", "newsletter", "signed form")
    post(server, "messenger", messenger_body(user, "m_s1", "Ich möchte mit einem Mitarbeiter sprechen"))
    wait_until_idle(server)
    sent = len(recorder.delivered(lambda r: recipient(r) == user))
    standby = json.dumps(
        {
            "object": "page",
            "entry": [
                {
                    "id": "PAGE1",
                    "time": 3,
                    "standby": [{"sender": {"id": user}, "recipient": {"id": "PAGE1"}, "timestamp": 3, "message": {"mid": "m_s2", "text": "STOP"}}],
                }
            ],
        }
    ).encode()
    assert post(server, "messenger", standby).json()["accepted"] == 1
    wait_until_idle(server)
    assert not granted(server, user, "messenger")
    # The Page Inbox owns the thread: Messenger lets only the owner send, so nothing goes out.
    assert len(recorder.delivered(lambda r: recipient(r) == user)) == sent
    assert [t["text"] for t in server.bot.store.transcript(f"messenger:{user}") if t["role"] == "user"][-1] == "STOP"


def test_a_telegram_message_edited_to_stop_withdraws_consent_and_is_confirmed(server, recorder):
    # Regression: edited_message updates were acknowledged and ignored, so an edit to STOP was lost.
    user = 9500
    server.bot.ledger.import_with_proof(str(user), "telegram", "newsletter", "signed form")
    post(server, "telegram", telegram_body(9501, user, QUESTION))
    wait_until_idle(server)
    sent = len(messages_to(recorder, str(user)))
    edit = json.loads(telegram_body(9502, user, "STOP"))
    edit["edited_message"] = edit.pop("message") | {"edit_date": 1780000100}
    assert post(server, "telegram", json.dumps(edit).encode()).json()["accepted"] == 1
    wait_until_idle(server)
    assert not granted(server, str(user), "telegram")
    assert len(messages_to(recorder, str(user))) == sent + 1  # the confirmation


def test_stop_while_a_person_has_a_telegram_conversation_is_confirmed(server, recorder):
    user = 9600
    server.bot.ledger.import_with_proof(str(user), "telegram", "newsletter", "signed form")
    post(server, "telegram", telegram_body(9601, user, QUESTION))
    wait_until_idle(server)
    sent = len(messages_to(recorder, str(user)))
    server.bot.take_conversation(f"telegram:{user}", str(user), "telegram")  # a person took it (e.g. through the agent API)
    edit = json.loads(telegram_body(9602, user, "STOP"))
    edit["edited_message"] = edit.pop("message")
    post(server, "telegram", json.dumps(edit).encode())
    post(server, "telegram", telegram_body(9603, user, QUESTION))
    wait_until_idle(server)
    assert not granted(server, str(user), "telegram")
    assert len(messages_to(recorder, str(user))) == sent + 1  # the confirmation only; the question waits for the person
