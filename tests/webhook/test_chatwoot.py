"""Chatwoot as a platform: signed Agent Bot events through the real app on uvicorn, replies to a
local stand-in of Chatwoot's Application API."""

from __future__ import annotations

import copy
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from botkit.channels import render
from botkit.errors import PayloadError, SignatureError, StaleRequestError
from botkit.platforms import get_platform
from botkit.platforms.chatwoot import sign, verify_chatwoot_signature
from botkit.types import Decision, Draft, Handover, Reply
from botkit.webhook.parse import parse
from tests.webhook.chatwoot_api import ChatwootApi
from tests.webhook.conftest import webhook_settings
from tests.webhook.support import ServerThread

FIXTURES = Path(__file__).parent / "fixtures" / "chatwoot"
TOKEN = "test-chatwoot-agent-bot-token"
SECRET = "test-chatwoot-webhook-secret"
QUESTION = "Wie melde ich meinen Zählerstand?"
PERSON = "Ich möchte mit einem Mitarbeiter sprechen"


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def message(mid: int, text: str, *, conversation: int, contact: int = 4711, status: str = "pending", channel: str = "Channel::WebWidget") -> dict[str, Any]:
    """The web-widget `message_created` fixture with another id, text, conversation, contact or status."""
    data = copy.deepcopy(fixture("message_created_web_widget"))
    data.update(id=mid, content=text)
    data["sender"]["id"] = contact
    data["conversation"].update(id=conversation, status=status, channel=channel)
    data["conversation"]["meta"]["sender"]["id"] = contact
    return data


def status_event(name: str, *, conversation: int, contact: int = 4711, status: str | None = None) -> dict[str, Any]:
    data = copy.deepcopy(fixture(name))
    data["id"] = conversation
    data["meta"]["sender"]["id"] = contact
    if status is not None:
        data["status"] = status
        data["changed_attributes"] = [{"status": {"previous_value": "open", "current_value": status}}]
    return data


def headers_for(body: bytes, *, stamp: int | None = None, secret: str = SECRET) -> dict[str, str]:
    when = str(int(time.time()) if stamp is None else stamp)
    return {
        "Content-Type": "application/json; charset=utf-8",
        "X-Chatwoot-Timestamp": when,
        "X-Chatwoot-Signature": sign(when, body, secret),
        "X-Chatwoot-Delivery": str(uuid.uuid4()),
    }


def send(server: ServerThread, data: dict[str, Any], **signing: Any) -> httpx.Response:
    body = json.dumps(data, ensure_ascii=False).encode()
    return httpx.post(f"{server.url}/webhook/chatwoot", content=body, headers=headers_for(body, **signing), timeout=10)


def idle(server: ServerThread, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if httpx.get(f"{server.url}/healthz").json()["pending"] == {"inbox": 0, "outbox": 0}:
            return
        time.sleep(0.02)
    raise AssertionError("the webhook did not become idle")


def public(calls):
    return [c for c in calls if c.path.endswith("/messages") and not c.body.get("private")]


@pytest.fixture(scope="module")
def chatwoot_api() -> Iterator[ChatwootApi]:
    api = ChatwootApi(TOKEN)
    server = ServerThread(api.app).start()
    api.url = server.url
    yield api
    server.stop()


@pytest.fixture
def chatwoot(chatwoot_api: ChatwootApi, serve) -> ServerThread:
    chatwoot_api.clear()
    return serve(chatwoot_url=chatwoot_api.url, chatwoot_token=TOKEN, chatwoot_webhook_secret=SECRET)


# parsing the documented shapes ---------------------------------------------------------------


def test_an_incoming_web_widget_message_in_a_pending_conversation_is_a_question_for_the_bot():
    body = json.dumps(fixture("message_created_web_widget")).encode()
    [event] = parse("chatwoot", body)
    assert (event.kind, event.user_id, event.text, event.reply_to, event.account) == ("text", "4711", QUESTION, "3/42", "3")
    assert event.conversation_id == "chatwoot:42" and event.message_id == "message:1001"
    assert get_platform("chatwoot").channel(event) == "web"


def test_the_inbox_channel_decides_the_rendering_profile():
    [event] = parse("chatwoot", json.dumps(fixture("message_created_whatsapp")).encode())
    assert get_platform("chatwoot").channel(event) == "whatsapp"
    for channel, profile in [("Channel::Telegram", "telegram"), ("Channel::Sms", "sms"), ("Channel::Api", "web"), ("Channel::Email", "web")]:
        [event] = parse("chatwoot", json.dumps(message(1, QUESTION, conversation=1, channel=channel)).encode())
        assert get_platform("chatwoot").channel(event) == profile, channel


def test_outgoing_messages_private_notes_and_unknown_events_are_ignored():
    outgoing = fixture("message_created_outgoing")
    note = message(7, "interne Notiz", conversation=1) | {"private": True}
    for data in (outgoing, note, {"event": "webwidget_triggered", "id": 9}, {"event": "conversation_created", "id": 3}):
        assert [e.kind for e in parse("chatwoot", json.dumps(data).encode())] == ["other"]


def test_a_message_in_a_conversation_a_person_has_is_standby():
    [event] = parse("chatwoot", json.dumps(message(1, "STOP", conversation=5, status="open")).encode())
    assert event.kind == "standby"


def test_a_tapped_input_select_option_is_a_quick_reply_with_the_full_title():
    [event] = parse("chatwoot", json.dumps(fixture("message_updated_input_select")).encode())
    assert (event.kind, event.user_id, event.text, event.message_id) == ("quick_reply", "4711", QUESTION, "choice:1004")


def test_status_changes_hand_the_conversation_to_a_person_and_back():
    delivery = {"x-chatwoot-delivery": "a6e9c1de-0000-4000-8000-000000000001"}  # as Starlette hands them over
    [opened] = parse("chatwoot", json.dumps(fixture("conversation_status_changed_open")).encode(), delivery)
    [resolved] = parse("chatwoot", json.dumps(fixture("conversation_resolved")).encode())
    assert (opened.kind, opened.user_id, opened.conversation_id) == ("handover_take", "4711", "chatwoot:42")
    assert opened.message_id == "status:42:open:a6e9c1de-0000-4000-8000-000000000001"
    assert (resolved.kind, resolved.conversation_id) == ("handover_pass", "chatwoot:42")
    snoozed = status_event("conversation_status_changed_open", conversation=42, status="snoozed")
    assert [e.kind for e in parse("chatwoot", json.dumps(snoozed).encode())] == ["other"]


@pytest.mark.parametrize(
    "data, reason",
    [
        ({"id": 1}, "'event'|event"),
        ({"event": "message_created", "id": 1, "message_type": "incoming", "sender": {"id": 1, "type": "contact"}, "content": "hi"}, "conversation"),
        ({"event": "conversation_status_changed", "id": 4, "status": "open"}, "meta.sender.id"),
        ([1, 2], "body must be an object"),
    ],
)
def test_malformed_chatwoot_bodies_raise_payload_error(data, reason):
    with pytest.raises(PayloadError, match=reason):
        parse("chatwoot", json.dumps(data).encode())


# signature ----------------------------------------------------------------------------------


def test_the_signature_covers_timestamp_and_body_and_expires_after_five_minutes():
    body, now = b'{"event": "message_created"}', 1_800_000_000
    verify_chatwoot_signature(body, sign(str(now), body, SECRET), str(now), SECRET, now + 299)
    with pytest.raises(SignatureError, match="missing"):
        verify_chatwoot_signature(body, None, str(now), SECRET, now)
    with pytest.raises(SignatureError, match="does not match"):
        verify_chatwoot_signature(body + b" ", sign(str(now), body, SECRET), str(now), SECRET, now)
    with pytest.raises(SignatureError, match="does not match"):  # the timestamp is signed too
        verify_chatwoot_signature(body, sign(str(now), body, SECRET), str(now - 1), SECRET, now)
    for stamp, at in ((str(now), now + 301), (str(now), now - 301), ("", now), ("9" * 5000, now)):
        with pytest.raises(StaleRequestError):
            verify_chatwoot_signature(body, sign(stamp, body, SECRET), stamp, SECRET, at)


# through the app ------------------------------------------------------------------------------


def test_unsigned_wrongly_signed_and_stale_events_are_refused(chatwoot, chatwoot_api):
    data = message(2001, QUESTION, conversation=101)
    body = json.dumps(data).encode()
    url = f"{chatwoot.url}/webhook/chatwoot"
    assert httpx.post(url, content=body).status_code == 401
    assert httpx.post(url, content=body, headers={"X-Chatwoot-Timestamp": str(int(time.time()))}).status_code == 401
    assert send(chatwoot, data, secret="not-the-secret").status_code == 403
    stale = send(chatwoot, data, stamp=int(time.time()) - 301)
    assert stale.status_code == 401 and "X-Chatwoot-Timestamp" in stale.json()["detail"]
    assert send(chatwoot, data, stamp=int(time.time()) + 3600).status_code == 401
    idle(chatwoot)
    assert chatwoot_api.to(101) == []


def test_a_question_in_a_pending_conversation_is_answered_through_the_api(chatwoot, chatwoot_api):
    assert send(chatwoot, message(2101, QUESTION, conversation=102)).json() == {"accepted": 1, "duplicates": 0, "ignored": 0}
    idle(chatwoot)
    calls = chatwoot_api.to(102)
    assert calls and all(c.path == "/api/v1/accounts/3/conversations/102/messages" for c in calls)
    assert all(c.body["message_type"] == "outgoing" and c.body["private"] is False for c in calls)
    text = "\n".join(c.body["content"] for c in calls)
    assert "Bot" in text and "Zählerstand" in text  # disclosed, and answered


def test_a_redelivered_message_gets_one_reply(chatwoot, chatwoot_api):
    data = message(2201, QUESTION, conversation=103)
    assert send(chatwoot, data).json()["accepted"] == 1
    idle(chatwoot)
    replies = len(public(chatwoot_api.to(103)))
    assert any("Zählerstand online" in c.body["content"] for c in public(chatwoot_api.to(103)))
    assert send(chatwoot, data).json()["duplicates"] == 1  # Chatwoot's retry: same message id, a new delivery id
    send(chatwoot, message(2202, "Wie kann ich kündigen?", conversation=103))
    idle(chatwoot)
    later = public(chatwoot_api.to(103))[replies:]
    assert later and all("Zählerstand online" not in c.body["content"] for c in later)  # only the new question was answered


def test_a_handover_posts_the_reply_a_private_note_and_opens_the_conversation(chatwoot, chatwoot_api):
    send(chatwoot, message(2301, PERSON, conversation=104))
    idle(chatwoot)
    calls = chatwoot_api.to(104)
    kinds = ["toggle" if c.path.endswith("/toggle_status") else "note" if c.body.get("private") else "reply" for c in calls]
    assert kinds[-2:] == ["note", "toggle"] and set(kinds[:-2]) == {"reply"}
    assert calls[-1].body == {"status": "open"}
    note = calls[-2].body["content"]
    assert "user_request" in note and "Confidence: 1.00" in note and PERSON in note and "Cited entries" in note
    assert [(h.conversation_id, h.reason) for h in chatwoot.bot.queue()] == [("chatwoot:104", "user_request")]


def test_status_open_silences_the_bot_and_resolved_brings_it_back_with_disclosure(chatwoot, chatwoot_api):
    send(chatwoot, message(2401, QUESTION, conversation=105))
    idle(chatwoot)
    before = len(public(chatwoot_api.to(105)))
    send(chatwoot, status_event("conversation_status_changed_open", conversation=105))
    send(chatwoot, message(2402, "Wie kann ich kündigen?", conversation=105, status="open"))
    send(chatwoot, message(2403, "Und wann wird abgelesen?", conversation=105, status="pending"))  # a person has it
    idle(chatwoot)
    assert len(public(chatwoot_api.to(105))) == before
    send(chatwoot, status_event("conversation_resolved", conversation=105))
    send(chatwoot, message(2404, QUESTION, conversation=105))
    idle(chatwoot)
    after = public(chatwoot_api.to(105))[before:]
    assert after and "Bot" in after[0].body["content"]  # the bot is back and discloses itself again


def test_stop_while_a_person_has_the_conversation_withdraws_and_is_confirmed(chatwoot, chatwoot_api):
    ledger = chatwoot.bot.ledger
    ledger.import_with_proof("4712", "web", "newsletter", "signed form 2026-11-01")
    send(chatwoot, status_event("conversation_status_changed_open", conversation=106, contact=4712))
    send(chatwoot, message(2501, "STOP", conversation=106, contact=4712, status="open"))
    idle(chatwoot)
    assert not ledger.is_granted("4712", "web", "newsletter")
    [confirmation] = public(chatwoot_api.to(106))
    assert confirmation.body["content"]


def test_quick_replies_are_input_select_in_the_web_widget_and_numbered_text_elsewhere():
    chatwoot = get_platform("chatwoot")
    settings = webhook_settings("http://127.0.0.1:9", chatwoot_url="http://127.0.0.1:9", chatwoot_token=TOKEN, chatwoot_webhook_secret=SECRET)
    draft = Draft("Meinten Sie eines davon?", quick_replies=("Zählerstand melden", "Abschlag ändern"))
    (web_event,) = parse("chatwoot", json.dumps(message(1, QUESTION, conversation=7)).encode())
    (sms_event,) = parse("chatwoot", json.dumps(message(2, QUESTION, conversation=8, channel="Channel::Sms")).encode())
    for event, profile in ((web_event, "web"), (sms_event, "whatsapp")):
        reply = Reply(event.conversation_id, Decision.CLARIFY, "clarify", 0.5, (), tuple(render(profile, draft)))
        [call] = chatwoot.calls(event, reply, settings)
        assert call.path == f"api/v1/accounts/3/conversations/{event.details['thread']}/messages"
        if profile == "web":
            assert call.body["content_type"] == "input_select"
            assert call.body["content_attributes"]["items"] == [
                {"title": "Zählerstand melden", "value": "Zählerstand melden"},
                {"title": "Abschlag ändern", "value": "Abschlag ändern"},
            ]
        else:
            assert "content_type" not in call.body and call.body["content"].endswith("1. Zählerstand melden\n2. Abschlag ändern")
    handover = Handover("chatwoot:7", "low_confidence", {"confidence": 0.31, "threshold": 0.55, "top_hits": [{"entry": "zaehler-1", "score": 0.31}]}, ())
    reply = Reply("chatwoot:7", Decision.HANDOVER, "low_confidence", 0.31, (), tuple(render("web", Draft("Ein Mensch meldet sich."))), handover=handover)
    *_, note, toggle = chatwoot.calls(web_event, reply, settings)
    assert note.body["private"] is True and "zaehler-1 (0.31)" in note.body["content"] and "threshold 0.55" in note.body["content"]
    assert (toggle.path, toggle.body) == ("api/v1/accounts/3/conversations/7/toggle_status", {"status": "open"})


def test_a_persons_message_from_the_agent_api_reaches_the_chatwoot_conversation(chatwoot_api, serve):
    chatwoot_api.clear()
    server = serve(chatwoot_url=chatwoot_api.url, chatwoot_token=TOKEN, chatwoot_webhook_secret=SECRET, agent_token="agent-token")
    auth = {"Authorization": "Bearer agent-token"}
    send(server, message(2601, PERSON, conversation=107))
    idle(server)
    [handover] = server.bot.queue()
    assert httpx.post(f"{server.url}/agent/handovers/{handover.id}/take", headers=auth, json={"person": "Anna"}).status_code == 200
    sent = httpx.post(f"{server.url}/agent/handovers/{handover.id}/messages", headers=auth, json={"text": "Hallo, hier ist Anna."})
    assert sent.status_code == 202
    idle(server)
    last = chatwoot_api.to(107)[-1]
    assert (last.path, last.body["content"], last.body["private"]) == ("/api/v1/accounts/3/conversations/107/messages", "Hallo, hier ist Anna.", False)
