"""The campaign's send path at scale: its HTTP sender's outcomes, slot blocks without gaps, marks in batches, consent read right before the slot.

The sender talks real HTTP: to the send-API stand-ins (tests/consent/campaign_api.py, the
platforms' wire formats and "too fast" answers), to a closed port, and to a socket server that
reads a request and hangs up without answering.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import pytest
from sqlalchemy import select

from botkit.campaigns import CampaignJobs, CampaignRunner, RunnerOptions, start_campaign
from botkit.campaigns.marking import Marks
from botkit.campaigns.pacing import SharedSlots, SlotBook
from botkit.campaigns.sender import NOT_SENT, CampaignSender, campaign_session
from botkit.db import campaign_recipients, open_database
from botkit.platforms import Outgoing
from botkit.webhook.logs import SecretScrubber
from tests.consent.campaign_api import Limits
from tests.consent.campaign_worker import settings as api_settings
from tests.consent.test_campaign_jobs import TOPIC, engine, ledger, opted_in, serve_api  # noqa: F401 - fixtures

__all__ = ["engine", "ledger", "serve_api"]

TELEGRAM = Outgoing("telegram", "sendMessage", {"chat_id": 7001, "text": "Neu."})
MESSENGER = Outgoing("messenger", "me/messages", {"recipient": {"id": "psid1"}, "message": {"text": "Neu."}})


def send_all(url: str, calls: list[Outgoing]) -> list:
    settings = api_settings(url)
    scrubber = SecretScrubber()
    scrubber.add(settings.secrets())

    async def main() -> list:
        async with campaign_session(4) as session:
            sender = CampaignSender(session, settings, scrubber)
            return [await sender.send(call) for call in calls]

    return asyncio.run(main())


def test_the_sender_reads_sent_too_fast_and_rejected_from_the_wire_formats(serve_api):
    api, url = serve_api({"telegram": Limits(1, retry_after=3), "messenger": Limits(1)})
    first, second = send_all(url, [TELEGRAM, TELEGRAM])
    assert (first.verdict, first.status) == ("sent", 200)
    assert (second.verdict, second.status, second.retry_after) == ("retry", 429, 3.0)  # Telegram's parameters.retry_after
    sent, refused = send_all(url, [MESSENGER, MESSENGER])
    assert (sent.verdict, refused.verdict, refused.status) == ("sent", "failed", 400)  # the Graph API's errors are 400s
    assert "613" in refused.error  # whose code the platform module reads as "too fast"
    assert (api.stats()["telegram"]["accepted"], api.stats()["messenger"]["accepted"]) == (1, 1)


def test_a_send_to_a_closed_port_surely_did_not_arrive():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again when the block ends: nothing listens there
    (result,) = send_all(f"http://127.0.0.1:{port}", [MESSENGER])
    assert (result.verdict, result.status) == ("retry", None)
    assert result.error.startswith(NOT_SENT)  # the runner may send it again


def test_a_connection_dropped_after_the_request_went_out_is_in_doubt():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    received: list[bytes] = []

    def hang_up() -> None:
        conn, _ = server.accept()
        received.append(conn.recv(65536))  # the request arrived: it may have been delivered
        conn.close()

    thread = threading.Thread(target=hang_up, daemon=True)
    thread.start()
    (result,) = send_all(f"http://127.0.0.1:{server.getsockname()[1]}", [MESSENGER])
    thread.join(timeout=10)
    server.close()
    assert received and b"POST" in received[0]
    assert (result.verdict, result.status) == ("retry", None)
    assert not result.error.startswith(NOT_SENT)  # never sent again: at most once


class FakeTime:
    """A clock that `sleep` moves on (the slot book reads the same clock)."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.0)
        await asyncio.sleep(0)


class RecordingBook(SlotBook):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.blocks: list[tuple[float, float]] = []  # (start, spacing * count)

    def reserve(self, sender: str, spacing: float, count: int, lead: float = 0.0) -> float:
        start = super().reserve(sender, spacing, count, lead)
        self.blocks.append((start, spacing * count))
        return start


def test_one_process_reserves_its_next_block_before_the_current_one_ends_so_blocks_follow_without_a_gap(database_url):
    book = RecordingBook(open_database(database_url))
    # Real time, with room for a slow reservation on a busy machine (`lead`) and for a late wake-up (`late`).
    slots = SharedSlots(book, block=0.5, lead=0.2, late=0.2)
    slots.configure("messenger:page", 20)  # 10 slots per block

    async def main() -> list[float]:
        times = []
        for _ in range(25):
            await slots.acquire("messenger:page")
            times.append(time.time())
        return times

    times = asyncio.run(main())
    assert len(book.blocks) >= 3
    for (start, span), (following, _) in zip(book.blocks, book.blocks[1:]):
        assert following == pytest.approx(start + span, abs=1e-6)  # contiguous: reserved ahead, not when the block ran out
    assert slots.given_up("messenger:page") == 0
    assert times[-1] - times[0] < 24 / 20 + 0.2  # 25 sends at the rate: no block started late
    book.engine.dispose()


def test_after_a_pause_no_slot_inside_it_is_used_even_from_a_block_reserved_before_it(database_url):
    fake = FakeTime()
    book = SlotBook(open_database(database_url), clock=fake.clock)
    slots = SharedSlots(book, block=0.1, clock=fake.clock, sleep=fake.sleep)
    slots.configure("telegram:bot", 100)

    async def main() -> tuple[float, float]:
        for _ in range(8):  # the next block is reserved ahead by now
            await slots.acquire("telegram:bot")
        until = fake.now + 2.0
        await slots.pause("telegram:bot", 2.0)
        await slots.acquire("telegram:bot")
        return until, fake.now

    until, sent_at = asyncio.run(main())
    assert sent_at >= until
    book.engine.dispose()


def test_marks_that_come_due_together_are_checked_and_written_in_one_statement(ledger, engine):
    for n in range(30):
        opted_in(ledger, f"49160{n:02d}", "whatsapp")
    jobs = CountingJobs(engine)
    start_campaign(ledger, CampaignJobs(engine), "m", TOPIC, "Neu.")
    ledger.withdraw("4916003", "whatsapp", TOPIC)  # STOP after the job was made: not marked, so never sent
    rows = jobs.claim("m", "whatsapp", "me", 100, 30.0)
    marks = Marks(jobs, "me", ledger.topic(TOPIC), gather=0.05)

    async def main() -> list[bool]:
        async def one(row: int, after: float) -> bool:
            await asyncio.sleep(after)
            return await marks.mark(row)

        return await asyncio.gather(*(one(r.row, n * 0.001) for n, r in enumerate(rows)))  # arriving over 30 ms

    began = time.monotonic()
    marked = asyncio.run(main())
    assert jobs.statements <= 3  # one in an idle moment; a loaded machine may split the arrivals
    assert [r.user_id for r, ok in zip(rows, marked) if not ok] == ["4916003"]
    assert time.monotonic() - began < 5


class CountingJobs(CampaignJobs):
    statements = 0

    def start_sending(self, rows, owner, topic, version):  # type: ignore[no-untyped-def]
        self.statements += 1
        return super().start_sending(rows, owner, topic, version)


class WithdrawingJobs(CampaignJobs):
    """Records when each mark statement read the consents; withdraws one user right after the read that marked them.

    The withdrawal commits between the consent's read and the send: the worst moment. With
    `stall`, the statement returns that much later (a stalled database or process), so the send
    misses its slot.
    """

    def __init__(self, engine, ledger, victim: str, stall: float) -> None:  # type: ignore[no-untyped-def]
        super().__init__(engine)
        self.ledger, self.victim, self.stall = ledger, victim, stall
        self.victim_row: int | None = None
        self.reads: dict[int, list[float]] = {}  # row -> when each statement that marked it began

    def start_sending(self, rows, owner, topic, version):  # type: ignore[no-untyped-def]
        began = time.time()
        marked = super().start_sending(rows, owner, topic, version)
        for row in marked:
            self.reads.setdefault(row, []).append(began)
        if self.victim_row in marked and len(self.reads[self.victim_row]) == 1:
            self.ledger.withdraw(self.victim, "telegram", TOPIC)  # STOP, committed after the read
            time.sleep(self.stall)
        return marked


class RecordingSender:
    """The runner's sender, noting when each call is handed to the HTTP client."""

    def __init__(self, sender: CampaignSender) -> None:
        self.sender = sender
        self.sent_at: dict[str, float] = {}

    async def send(self, call: Outgoing):  # type: ignore[no-untyped-def]
        self.sent_at[str(call.body["chat_id"])] = time.time()
        return await self.sender.send(call)


@pytest.mark.parametrize("stall", [0.0, 0.3], ids=["on time", "slot missed"])
def test_a_send_leaves_within_mark_ahead_of_its_consent_read_and_a_missed_slot_reads_it_again(ledger, engine, serve_api, stall):
    users = [f"{7100 + n}" for n in range(40)]
    for user in users:
        opted_in(ledger, user, "telegram")
    api, url = serve_api({"telegram": Limits(1000)})
    jobs = WithdrawingJobs(engine, ledger, victim=users[20], stall=stall)
    start_campaign(ledger, jobs, "late", TOPIC, "Neu.")
    with engine.connect() as conn:
        ids = dict(conn.execute(select(campaign_recipients.c.user_id, campaign_recipients.c.id)).all())
    jobs.victim_row = ids[users[20]]
    options = RunnerOptions(rates={"telegram": 50})

    async def main() -> tuple[dict, RecordingSender]:
        async with campaign_session(8) as client:
            runner = CampaignRunner(ledger, jobs, client, api_settings(url), options=options)
            recorder = runner.sender = RecordingSender(runner.sender)  # type: ignore[assignment]
            return (await runner.run("late")).to_dict(), recorder

    status, recorder = asyncio.run(main())
    received = api.stats()["telegram"]["recipients"]
    if stall:  # the slot was missed after the read: the next slot's read sees the withdrawal
        assert users[20] not in received
        assert (status["sent"], status["skipped"]) == (39, {"withdrawn": 1})
    assert set(received) == {u for u in recorder.sent_at}
    # Every send was handed to the HTTP client at most mark_ahead (plus the slot's 15 ms and a scheduling margin)
    # after the statement that last read its consent; slots are 20 ms apart, the runner takes them 0.1 s ahead.
    for user, at in recorder.sent_at.items():
        read = max(t for t in jobs.reads[ids[user]] if t <= at)
        assert at - read <= options.mark_ahead + 0.015 + 0.05, (user, at - read)


def test_a_claim_says_whose_consent_no_longer_stands_so_no_slot_is_taken_for_them(ledger, engine):
    users = [f"49170{n:02d}" for n in range(6)]
    for user in users:
        opted_in(ledger, user, "whatsapp")
    start_campaign(ledger, CampaignJobs(engine), "c", TOPIC, "Neu.")
    ledger.withdraw(users[2], "whatsapp", TOPIC)
    ledger.withdraw(users[4], "whatsapp", TOPIC)
    ledger.grant(users[4], "whatsapp", TOPIC)  # and given again: stands
    topic = ledger.topic(TOPIC)
    rows = CampaignJobs(engine).claim("c", "whatsapp", "me", 10, 30.0, (topic.id, topic.version))
    assert [r.user_id for r in rows if not r.standing] == [users[2]]
