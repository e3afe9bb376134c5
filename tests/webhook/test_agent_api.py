"""The agent API on the real app under uvicorn: queue, take, a person's message, release, time-out.

Sends go to the recording Graph/Telegram stand-in of `support.py`; the bot's clock is a
`ManualClock`, so the time-out is reached by moving it, not by sleeping.
"""

from __future__ import annotations

import time

import httpx
import pytest
from sqlalchemy import select, update

from botkit.channels import render
from botkit.db import webhook_inbox
from botkit.policy import disclosure
from botkit.types import Draft
from tests.webhook.support import (
    MESSENGER_SECRET,
    TELEGRAM_SECRET,
    WHATSAPP_SECRET,
    is_message,
    messenger_body,
    recipient,
    signed,
    telegram_body,
    whatsapp_body,
)

TOKEN = "test-agent-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
ASK_PERSON = "Ich möchte mit einem Mitarbeiter sprechen"
QUESTION = "Wie melde ich meinen Zählerstand?"
USERS = {"whatsapp": "4917612340001", "telegram": "5550001", "messenger": "2400000000000001"}
HOUR = 3600.0


class User:
    """A user on one platform, writing to the served bot through its real webhook."""

    def __init__(self, server, platform: str) -> None:
        self.server, self.platform, self.id = server, platform, USERS[platform]
        self.count = 0

    def says(self, text: str) -> None:
        self.count += 1
        if self.platform == "telegram":
            body = telegram_body(900 + self.count, int(self.id), text)
            headers = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET, "Content-Type": "application/json"}
        elif self.platform == "messenger":
            body = messenger_body(self.id, f"m_agent{self.count}", text)
            headers = signed(body, MESSENGER_SECRET)
        else:
            body = whatsapp_body(self.id, f"wamid.agent{self.count}", text)
            headers = signed(body, WHATSAPP_SECRET)
        rsp = httpx.post(f"{self.server.url}/webhook/{self.platform}", content=body, headers=headers, timeout=10)
        assert rsp.status_code == 200 and rsp.json()["accepted"] == 1, rsp.text

    @property
    def conversation(self) -> str:
        return f"{self.platform}:{self.id}"


def shown_text(body: dict) -> str:
    """The visible text of a send-API body: Telegram `text`, WhatsApp `text.body` or `interactive.body.text`."""
    if isinstance(body.get("text"), str):
        return body["text"]
    if isinstance(body.get("text"), dict):
        return body["text"]["body"]
    return body.get("interactive", {}).get("body", {}).get("text", "")


def texts_to(recorder, user: User) -> list[str]:
    """Texts of the user-visible messages the stand-in received for `user`, in order."""
    return [shown_text(r.body) for r in recorder.delivered(lambda r: is_message(r) and recipient(r) == user.id)]


def wait_idle(server, timeout: float = 20.0) -> None:
    """Until the app's inbox and outbox are empty (the worker has sent everything)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if httpx.get(f"{server.url}/healthz").json()["pending"] == {"inbox": 0, "outbox": 0}:
            return
        time.sleep(0.05)
    raise AssertionError("webhook work still pending")


def agent(server, method: str, path: str, **kwargs) -> httpx.Response:
    headers = {**AUTH, **kwargs.pop("headers", {})}
    return httpx.request(method, f"{server.url}/agent{path}", headers=headers, timeout=10, **kwargs)


@pytest.fixture
def agent_server(serve):
    return serve(agent_token=TOKEN)


@pytest.mark.parametrize("platform", ["whatsapp", "telegram"])
def test_a_person_takes_writes_once_and_hands_back(agent_server, recorder, platform):
    server = agent_server
    user = User(server, platform)
    user.says(ASK_PERSON)
    wait_idle(server)
    before = len(texts_to(recorder, user))
    assert before >= 1  # the bot said a person will answer

    queue = agent(server, "GET", "/handovers").json()
    assert len(queue) == 1
    item = queue[0]
    assert (item["conversation_id"], item["channel"], item["status"], item["reason"]) == (user.conversation, platform, "waiting", "user_request")
    assert item["waiting_since"].startswith("2026-")
    handover = item["id"]

    taken = agent(server, "POST", f"/handovers/{handover}/take", json={"person": "Anna"})
    assert taken.status_code == 200, taken.text
    assert (taken.json()["status"], taken.json()["taken_by"]) == ("with_person", "Anna")
    assert agent(server, "GET", "/handovers").json() == []  # no longer waiting
    assert [h["id"] for h in agent(server, "GET", "/handovers", params={"status": "with_person"}).json()] == [handover]

    hello = "Hallo, hier ist Anna vom Kundenservice. Wie kann ich helfen?"
    first = agent(server, "POST", f"/handovers/{handover}/messages", json={"text": hello}, headers={"Idempotency-Key": "k-1"})
    again = agent(server, "POST", f"/handovers/{handover}/messages", json={"text": hello}, headers={"Idempotency-Key": "k-1"})
    assert (first.status_code, again.status_code) == (202, 202)
    assert (first.json()["duplicate"], again.json()["duplicate"]) == (False, True)
    wait_idle(server)
    rules = server.bot.house_rules
    rendered = shown_text(render(platform, Draft(hello), rules)[0].payload)  # Telegram's MarkdownV2 escapes the "."
    assert texts_to(recorder, user)[before:] == [rendered]

    user.says("Danke, mein Zähler ist kaputt")  # while a person has it, the bot stays silent
    wait_idle(server)
    assert texts_to(recorder, user)[before:] == [rendered]

    shown = agent(server, "GET", f"/handovers/{handover}").json()
    roles = [(t["role"], t["text"]) for t in shown["transcript"]]
    assert ("person", hello) in roles
    assert roles.index(("person", hello)) < roles.index(("user", "Danke, mein Zähler ist kaputt"))
    assert [r for r, t in roles if t == hello] == ["person"]  # recorded once

    released = agent(server, "POST", f"/handovers/{handover}/release")
    assert (released.status_code, released.json()["status"]) == (200, "released")
    assert agent(server, "POST", f"/handovers/{handover}/release").status_code == 409

    user.says(QUESTION)
    wait_idle(server)
    after = texts_to(recorder, user)[before + 1 :]
    assert after, "the bot answers again after the release"
    expected = shown_text(render(platform, Draft(disclosure.disclosure_text(server.bot.knowledge.client, "de")), rules)[0].payload)
    assert expected in after, after


def test_a_cli_reply_is_delivered_by_the_running_worker(agent_server, recorder, settings):
    from typer.testing import CliRunner

    from botkit.cli import app
    from tests.conftest import SAMPLE

    server = agent_server
    user = User(server, "whatsapp")
    user.says(ASK_PERSON)
    wait_idle(server)
    handover = agent(server, "GET", "/handovers").json()[0]["id"]
    agent(server, "POST", f"/handovers/{handover}/take", json={"person": "Ben"})
    env = {"BOTKIT_DATABASE_URL": settings.database_url}
    args = ["handovers", "reply", str(SAMPLE), str(handover), "Hier ist Ben.", "--key", "cli-1", "--index-dir", str(settings.index_dir)]
    result = CliRunner().invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    assert "queued; delivered by the running botkit serve" in result.output
    assert CliRunner().invoke(app, args, env=env).exit_code == 0  # the same key again: sent once
    wait_idle(server)
    assert texts_to(recorder, user).count("Hier ist Ben.") == 1


def test_nobody_came_is_sent_once_when_the_clock_passes_the_time_out(agent_server, recorder, clock, settings):
    server = agent_server
    user = User(server, "whatsapp")
    user.says(ASK_PERSON)
    wait_idle(server)
    before = len(texts_to(recorder, user))
    handover = agent(server, "GET", "/handovers").json()[0]["id"]

    assert server.bot.overdue() == []
    clock.advance(settings.handover_timeout_minutes * 60 + 1)  # the bot's clock: no waiting in the test
    recorder.wait_for(before + 1, lambda r: is_message(r) and recipient(r) == user.id)
    wait_idle(server)
    notice = texts_to(recorder, user)[before:]
    assert len(notice) == 1, notice

    # More sweeps find nothing new: one time-out event, one notice.
    recorder.wait_for(before + 2, lambda r: is_message(r) and recipient(r) == user.id, timeout=1.0)
    assert len(texts_to(recorder, user)) == before + 1
    with server.bot.store.engine.connect() as conn:
        kinds = conn.execute(select(webhook_inbox.c.kind).where(webhook_inbox.c.kind == "handover_timeout")).scalars().all()
    assert kinds == ["handover_timeout"]
    item = agent(server, "GET", f"/handovers/{handover}").json()
    assert item["status"] == "waiting" and item["timed_out_at"] is not None  # still in the queue
    assert item["transcript"][-1]["role"] == "bot"


def taken_handover(server, user: User) -> int:
    user.says(ASK_PERSON)
    wait_idle(server)
    handover = agent(server, "GET", "/handovers").json()[0]["id"]
    assert agent(server, "POST", f"/handovers/{handover}/take", json={"person": "Anna"}).status_code == 200
    return handover


def users_messages_age(server, user: User, hours: float) -> None:
    """Move the user's messages `hours` into the past, as if the person answered that much later."""
    with server.bot.store.engine.begin() as conn:
        rows = webhook_inbox.c
        conn.execute(update(webhook_inbox).where(rows.conversation_id == user.conversation).values(received_at=rows.received_at - hours * HOUR))


def test_a_late_answer_on_messenger_goes_out_tagged_human_agent_and_after_seven_days_is_refused(agent_server, recorder):
    server = agent_server
    user = User(server, "messenger")
    handover = taken_handover(server, user)

    def answer(text: str) -> httpx.Response:
        return agent(server, "POST", f"/handovers/{handover}/messages", json={"text": text})

    def last_sent() -> dict:
        wait_idle(server)
        return recorder.delivered(lambda r: is_message(r) and recipient(r) == user.id)[-1].body

    assert answer("Gleich da").status_code == 202
    assert (last_sent()["messaging_type"], "tag" in last_sent()) == ("RESPONSE", False)  # inside the 24-hour window
    users_messages_age(server, user, 30)
    assert answer("Entschuldigung, es hat gedauert").status_code == 202
    assert (last_sent()["messaging_type"], last_sent()["tag"]) == ("MESSAGE_TAG", "HUMAN_AGENT")

    users_messages_age(server, user, 6 * 24)  # now more than 7 days after the user's last message
    refused = answer("Noch da?")
    assert refused.status_code == 409 and "7 days" in refused.json()["detail"], refused.text
    user.says("Ja, noch da")  # the user writes again: the person may answer again, untagged
    assert answer("Schön!").status_code == 202
    assert last_sent()["messaging_type"] == "RESPONSE"


def test_a_person_cannot_write_freely_on_whatsapp_a_day_after_the_users_last_message(agent_server):
    server = agent_server
    user = User(server, "whatsapp")
    handover = taken_handover(server, user)
    users_messages_age(server, user, 25)
    refused = agent(server, "POST", f"/handovers/{handover}/messages", json={"text": "Hallo?"})
    assert refused.status_code == 409 and "24 hours" in refused.json()["detail"] and "template" in refused.json()["detail"], refused.text


def test_agent_routes_need_the_bearer_token(agent_server):
    url = f"{agent_server.url}/agent/handovers"
    assert httpx.get(url).status_code == 401
    assert httpx.get(url, headers={"Authorization": "Bearer wrong-token"}).status_code == 401
    assert httpx.get(url, headers={"Authorization": f"Basic {TOKEN}"}).status_code == 401
    assert httpx.post(f"{url}/1/take").status_code == 401
    missing = httpx.get(url)
    assert missing.headers["www-authenticate"] == "Bearer"
    assert httpx.get(url, headers=AUTH).status_code == 200


def test_without_the_token_setting_there_are_no_agent_routes(server):
    assert httpx.get(f"{server.url}/agent/handovers", headers=AUTH).status_code == 404
    paths = httpx.get(f"{server.url}/openapi.json").json()["paths"]
    assert not [p for p in paths if p.startswith("/agent")]


def test_the_agent_routes_are_in_the_openapi_schema(agent_server):
    schema = httpx.get(f"{agent_server.url}/openapi.json").json()
    assert {
        "/agent/handovers",
        "/agent/handovers/{handover_id}",
        "/agent/handovers/{handover_id}/take",
        "/agent/handovers/{handover_id}/messages",
        "/agent/handovers/{handover_id}/release",
        "/agent/handovers/{handover_id}/wrong-answer",
    } <= set(schema["paths"])
    assert {"QueueItem", "HandoverDetail", "PersonMessage", "MessageQueued"} <= set(schema["components"]["schemas"])
    assert any(s.get("scheme") == "bearer" for s in schema["components"]["securitySchemes"].values())


def test_unknown_ids_wrong_states_and_bad_bodies_are_refused(agent_server):
    server = agent_server
    assert agent(server, "GET", "/handovers/999").status_code == 404
    assert agent(server, "POST", "/handovers/999/take").status_code == 404
    assert agent(server, "POST", "/handovers/999/messages", json={"text": "Hallo"}).status_code == 404
    user = User(server, "whatsapp")
    user.says(ASK_PERSON)
    wait_idle(server)
    handover = agent(server, "GET", "/handovers").json()[0]["id"]
    before_take = agent(server, "POST", f"/handovers/{handover}/messages", json={"text": "Hallo"})
    assert before_take.status_code == 409 and "take it first" in before_take.json()["detail"]
    assert agent(server, "POST", f"/handovers/{handover}/take").status_code == 200  # no body: nobody named
    for bad in ({}, {"text": ""}, {"text": "  \n "}, {"text": 5}, {"text": "x" * 5000}, {"message": "Hallo"}):
        assert agent(server, "POST", f"/handovers/{handover}/messages", json=bad).status_code == 422, bad
    assert agent(server, "POST", f"/handovers/{handover}/messages", content=b"not json", headers={"Content-Type": "application/json"}).status_code == 422
    assert agent(server, "POST", "/handovers/abc/take").status_code == 422
    assert agent(server, "POST", f"/handovers/{handover}/release").status_code == 200
    assert agent(server, "POST", f"/handovers/{handover}/take").status_code == 409  # released: the bot has it
    late = agent(server, "POST", f"/handovers/{handover}/messages", json={"text": "Noch da?"})
    assert late.status_code == 409 and "released" in late.json()["detail"]


def test_a_person_marks_the_bots_wrong_answer_and_review_lists_it(agent_server):
    from botkit.review import find_messages

    server = agent_server
    user = User(server, "whatsapp")
    user.says(QUESTION)
    user.says(ASK_PERSON)
    wait_idle(server)
    handover = agent(server, "GET", "/handovers").json()[0]["id"]
    assert agent(server, "POST", f"/handovers/{handover}/wrong-answer", json={"text": "Wie spät ist es?"}).status_code == 404

    flagged = agent(server, "POST", f"/handovers/{handover}/wrong-answer")
    assert flagged.status_code == 200, flagged.text
    body = flagged.json()
    assert body["text"] == QUESTION and body["entries"], body
    again = agent(server, "POST", f"/handovers/{handover}/wrong-answer", json={"text": f"  {QUESTION.lower()} "})
    assert again.json()["message_id"] == body["message_id"]  # the same message, named by its text

    listed = {m.id: m for m in find_messages(server.bot.store.engine)}
    assert listed[body["message_id"]].why == "wrong_answer"
    assert listed[body["message_id"]].entries == tuple(body["entries"])
    assert agent(server, "POST", "/handovers/999/wrong-answer").status_code == 404
