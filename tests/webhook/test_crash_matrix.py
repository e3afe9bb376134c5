"""The crash matrix: a process dies at each point of handling a message, a new one takes over.

Four points (right after the bot's reply committed; after the event was marked done with
its outbox rows; after a send's HTTP call, before it is marked sent; after that mark) ×
three messages (a new user's first question, "JA" confirming a pending consent request,
a request for a person). The dying process is the real `Worker` on the real `WebhookQueue`
and SQLite file, stopped at the point by raising `Crash` (a BaseException, so nothing
catches it and nothing is released); the restart is a new bot opened on the same database
and a new worker with another owner, once the leases ran out. What the user receives is
what the send-API stand-in (tests/webhook/support.py) recorded over real HTTP; it must
equal a crash-free run of the same scenario on a fresh database.

A fifth point lies inside the bot's reply: the consent ledger commits its event before the
conversation's state and turns are saved; a crash in between must not change the answer
(opt-in request, "JA", STOP).
"""

from __future__ import annotations

import asyncio
import itertools
import json
from dataclasses import dataclass, replace
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from botkit import open_bot
from botkit.db import consent_events, handovers, turns, webhook_inbox, webhook_outbox
from botkit.platforms import Inbound, Outgoing, get_platform
from botkit.policy.disclosure import disclosure_text
from botkit.webhook.logs import SecretScrubber
from botkit.webhook.outbox import WebhookQueue
from botkit.webhook.sender import Sender, SendResult
from botkit.webhook.worker import Worker
from botkit.webhook.writer import GroupWriter
from tests.conftest import SAMPLE
from tests.webhook.conftest import webhook_settings
from tests.webhook.support import is_message, recipient, whatsapp_body

USER = "4915177777777"
SEND_LEASE = 60.0


class Crash(BaseException):
    """The process dies here: not an Exception, so no handler of the worker catches it."""


@dataclass(frozen=True)
class Scenario:
    before: tuple[str, ...]  # sent crash-free first
    message: str  # the one during which the process dies


SCENARIOS = {
    "first_message": Scenario((), "Wie melde ich meinen Zählerstand?"),
    "consent_ja": Scenario(("Ich möchte Solar-Angebote erhalten",), "JA"),
    "person_request": Scenario((), "Ich möchte mit einem Mitarbeiter sprechen"),
}
INSIDE = {  # the other consent messages, for the crash inside the reply
    "opt_in": Scenario((), "Ich möchte Solar-Angebote erhalten"),
    "stop": Scenario(("Ich möchte Solar-Angebote erhalten", "JA"), "STOP"),
}


def inbound(n: int, text: str) -> Inbound:
    """The event of the user's n-th message, parsed from a WhatsApp webhook body."""
    [event] = get_platform("whatsapp").parse(whatsapp_body(USER, f"wamid.crash.{n}", text), {})
    return event


class HttpSender:
    """The real `Sender` over HTTP to the stand-in; optionally the process dies right after the HTTP call returned."""

    def __init__(self, settings: Any, *, die_after_send: bool = False) -> None:
        self.settings = settings
        self.die_after_send = die_after_send
        self.calls = 0

    async def send(self, request: Outgoing) -> SendResult:
        async with httpx.AsyncClient() as http:  # one client per call: every delivery runs in its own event loop
            result = await Sender(http, self.settings, SecretScrubber()).send(request)
        self.calls += 1
        if self.die_after_send:
            raise Crash("after_send")
        return result


class DyingWriter(GroupWriter):
    """Commits like the real writer; dies right after the first commit that follows a send (its `sent` mark)."""

    def __init__(self, engine: Any, sender: HttpSender) -> None:
        super().__init__(engine)
        self.sender = sender

    async def run(self, op: Any) -> Any:
        result = await super().run(op)
        if self.sender.calls:
            raise Crash("after_send_commit")
        return result


class DyingQueue(WebhookQueue):
    """The real queue; dies right after `finish` committed the event as done with its outbox rows."""

    def finish(self, *args: Any, **kwargs: Any) -> Any:
        super().finish(*args, **kwargs)
        raise Crash("after_outbox_insert")


class DyingStore:
    """The bot's conversation store; the process dies when the reply is about to be saved (after consent events)."""

    def __init__(self, store: Any) -> None:
        self._store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def save(self, *args: Any, **kwargs: Any) -> Any:
        raise Crash("before_save")


class DyingWorker(Worker):
    """The real worker; dies right after the bot's reply was committed, before `finish`."""

    def handle(self, event: Inbound) -> list[Outgoing]:
        super().handle(event)
        raise Crash("after_reply")


def worker(bot: Any, owner: str, clock: Any, hook: Any, point: str | None = None) -> Worker:
    """A worker on `bot`'s database as the app builds one; with `point`, one that dies there."""
    settings = webhook_settings(hook.url)
    sender = HttpSender(settings, die_after_send=point == "after_send")
    queue_type = DyingQueue if point == "after_outbox_insert" else WebhookQueue
    writer = DyingWriter(bot.store.engine, sender) if point == "after_send_commit" else GroupWriter(bot.store.engine)
    worker_type = DyingWorker if point == "after_reply" else Worker
    if point == "before_save":
        bot.store = DyingStore(bot.store)
    return worker_type(bot, queue_type(bot.store.engine), writer, sender, settings, clock=clock, owner=owner)  # type: ignore[arg-type]


def drain(w: Worker) -> None:
    """What a running worker's loops do, one step at a time: leftover sends (the sweeper), then the next event."""
    while True:
        leftover = w.queue.claim_sends(w.owner, w._clock(), SEND_LEASE)
        for _, group in itertools.groupby(leftover, key=lambda i: i.inbox_id):
            asyncio.run(w._deliver(list(group), None))
        sends = w.step()
        if sends:
            asyncio.run(w._deliver(sends, None))
        if sends is None and not leftover:
            return


def records(engine: Any) -> dict[str, list]:
    """What the database says happened, without ids and times."""
    with engine.connect() as conn:
        return {
            "turns": [
                tuple(r) for r in conn.execute(select(turns.c.role, turns.c.text, turns.c.message_id, turns.c.decision, turns.c.reason).order_by(turns.c.id))
            ],
            "consent": [
                tuple(r)
                for r in conn.execute(select(consent_events.c.topic, consent_events.c.state, consent_events.c.message_id).order_by(consent_events.c.id))
            ],
            "handovers": [tuple(r) for r in conn.execute(select(handovers.c.reason, handovers.c.status).order_by(handovers.c.id))],
            "inbox": sorted(conn.execute(select(webhook_inbox.c.status)).scalars()),
            "outbox": sorted(conn.execute(select(webhook_outbox.c.status)).scalars()),
        }


@dataclass
class Outcome:
    sent: list[str]  # the user-visible messages the user got, in order, as canonical JSON
    records: dict[str, list]
    disclosure: str  # the bot's disclosure text
    before_crash: int = 0  # messages the user had got before the message during which the process died


def bodies(recorder: Any) -> list[str]:
    return [json.dumps(r.body, sort_keys=True, ensure_ascii=False) for r in recorder.delivered(lambda r: is_message(r) and recipient(r) == USER)]


def shown(body: str) -> str:
    """The visible text of a WhatsApp send: `text.body` or `interactive.body.text`."""
    data = json.loads(body)
    return data["text"]["body"] if "text" in data else data["interactive"]["body"]["text"]


def play(scenario: Scenario, settings: Any, embedder: Any, clock: Any, recorder: Any, point: str | None) -> Outcome:
    """Play the scenario on `settings`' database; with `point`, the process dies there and a new one takes over."""
    recorder.clear()
    bot = open_bot(SAMPLE, settings, embedder=embedder, clock=clock)
    healthy = worker(bot, "proc-a", clock, recorder)
    for n, text in enumerate(scenario.before):
        healthy.queue.accept([inbound(n, text)], clock())
        drain(healthy)
    before_crash = len(bodies(recorder))
    healthy.queue.accept([inbound(len(scenario.before), scenario.message)], clock())
    if point is None:
        drain(healthy)
        outcome = Outcome(bodies(recorder), records(bot.store.engine), disclosure_text(bot.knowledge.client, "de"))
        bot.close()
        return outcome
    with pytest.raises(Crash) as died:
        drain(worker(bot, "proc-a", clock, recorder, point))  # nothing is finished, marked or released after the point
    assert died.value.args == (point,)
    clock.advance(SEND_LEASE + 1)  # every lease of the dead process has run out
    restarted = open_bot(SAMPLE, settings, embedder=embedder, clock=clock)
    drain(worker(restarted, "proc-b", clock, recorder))
    outcome = Outcome(bodies(recorder), records(restarted.store.engine), disclosure_text(restarted.knowledge.client, "de"), before_crash)
    restarted.close()
    bot.close()
    return outcome


@pytest.fixture(scope="module")
def crash_free_runs() -> dict[str, Outcome]:
    """Each scenario's crash-free outcome, played once for the module and compared with every crash point's."""
    return {}


@pytest.fixture
def crash_matrix(settings, embedder, clock, recorder, tmp_path, crash_free_runs):
    """Play a scenario crash-free on a fresh database (same index copy), then with a crash at `point`; returns both."""

    def both(name: str, point: str) -> tuple[Outcome, Outcome]:
        start = clock.now
        if name not in crash_free_runs:
            crash_free_runs[name] = play(
                {**SCENARIOS, **INSIDE}[name], replace(settings, database_url=f"sqlite:///{tmp_path / 'crash-free.db'}"), embedder, clock, recorder, None
            )
        clock.now = start
        return crash_free_runs[name], play({**SCENARIOS, **INSIDE}[name], settings, embedder, clock, recorder, point)

    return both


def assert_same_conversation(name: str, crash_free: Outcome, crashed: Outcome) -> None:
    """The database holds what a crash-free run holds, and what the issue names holds in particular."""
    found = crashed.records
    assert found == crash_free.records
    assert found["inbox"] == ["done"] * len(found["inbox"]) and set(found["outbox"]) == {"sent"}
    scenario = {**SCENARIOS, **INSIDE}[name]
    last = f"wamid.crash.{len(scenario.before)}"
    assert [t for t in found["turns"] if t[2] == last] == [("user", scenario.message, last, None, None)]  # stored once
    for outcome in (crash_free, crashed):
        sent = [body for n, body in enumerate(outcome.sent) if n == 0 or body != outcome.sent[n - 1]]  # a send repeated after a crash once
        assert [n for n, body in enumerate(sent) if shown(body) == outcome.disclosure] == [0], "the disclosure comes once, first"
    if name == "consent_ja":
        assert [(c[1], c[2]) for c in found["consent"]] == [("pending", "wamid.crash.0"), ("granted", last)]
        assert "bestätigt" in shown(crashed.sent[-1])  # the confirmation was sent
    if name == "opt_in":
        assert [(c[1], c[2]) for c in found["consent"]] == [("pending", last)]
    if name == "stop":
        assert [(c[1], c[2]) for c in found["consent"]][-1] == ("withdrawn", last)
    if name == "person_request":
        assert [h[0] for h in found["handovers"]] == ["user_request"]


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_a_crash_after_the_bot_committed_replays_the_same_reply(name, crash_matrix):
    crash_free, crashed = crash_matrix(name, "after_reply")
    assert crashed.sent == crash_free.sent
    assert_same_conversation(name, crash_free, crashed)


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_a_crash_after_the_outbox_insert_sends_the_queued_reply_once(name, crash_matrix):
    crash_free, crashed = crash_matrix(name, "after_outbox_insert")
    assert crashed.sent == crash_free.sent
    assert_same_conversation(name, crash_free, crashed)


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_a_crash_during_a_send_sends_that_message_again_and_nothing_else(name, crash_matrix):
    """At-least-once for the message in flight: it arrives twice, every other message once."""
    crash_free, crashed = crash_matrix(name, "after_send")
    n = crashed.before_crash  # the first message of the crashed reply was in flight
    assert crashed.sent == crash_free.sent[: n + 1] + crash_free.sent[n:]
    assert_same_conversation(name, crash_free, crashed)


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_a_crash_after_a_send_was_committed_sends_only_the_rest(name, crash_matrix):
    crash_free, crashed = crash_matrix(name, "after_send_commit")
    assert crashed.sent == crash_free.sent
    assert_same_conversation(name, crash_free, crashed)


@pytest.mark.parametrize("name", [*SCENARIOS, *INSIDE])
def test_a_crash_after_the_consent_was_recorded_but_before_the_reply_was_saved_gives_the_same_reply(name, crash_matrix):
    """Inside the bot's reply the consent ledger commits first; a retried "JA" must still get its confirmation."""
    crash_free, crashed = crash_matrix(name, "before_save")
    assert crashed.sent == crash_free.sent
    assert_same_conversation(name, crash_free, crashed)
