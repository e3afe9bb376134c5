"""Run a campaign job: send through the platforms' send APIs, within their rate limits, each user at most once.

Per recipient: claim its row -> check how the platform can reach the user -> wait for the
platform's per-user pace -> take a send slot of the business sender (shared with every other
process through the database, `botkit.campaigns.pacing`) -> `mark_ahead` seconds before the
slot, in one committed statement with the other rows that come due within `mark_every`
seconds, read the consent again and mark the row `sending` -> send at the slot (over aiohttp,
`botkit.campaigns.sender`; a slot missed by more than its `late` is given up, and the next one
gets a fresh read) -> settle the row with its delivery record (group commit every
`flush_every` seconds). So a send leaves at most `mark_ahead` plus the slot's `late` after its
consent was read, however long the platform takes to answer: a send waiting for its answer
holds no slot and no place in the queue. Any number of runners may send one job, or
several jobs from one sender: together they keep to the sender's limit.
A rejection the platform marks as "too fast" (HTTP 429 or its rate-limit error codes) pauses
that sender or user for the Retry-After or an exponential backoff and is tried again: such a
send was not accepted, so repeating it cannot deliver twice. Every other failure after the
row was marked is final: at most once, never at least once. Running the job again resumes it.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import anyio

from botkit.campaigns.jobs import FAIL_REASONS, SKIP_REASONS, CampaignJobs, CampaignStatus, Job, Outcome, Recipient
from botkit.campaigns.limiter import Pacer
from botkit.campaigns.marking import Marks
from botkit.campaigns.pacing import SharedSlots, SlotBook
from botkit.campaigns.sender import NOT_SENT, CampaignSender, campaign_session
from botkit.channels import HouseRules
from botkit.consent.campaign import compose, consent_problem, pick_text, reach_of
from botkit.consent.ledger import ConsentLedger
from botkit.errors import ConfigError, ConsentError
from botkit.platforms import Inbound, Outgoing, Platform, get_platform
from botkit.platforms.outreach import Scope, limit
from botkit.types import Message, Topic
from botkit.webhook.logs import SecretScrubber, log, mask
from botkit.webhook.sender import SendResult
from botkit.webhook.settings import WebhookSettings

HEADROOM = 0.95  # pace at 95 % of a documented limit: network jitter must not push arrivals over it
# Send-API connections per runner: more than the calls under way at the documented limits (285 + 76 + 28 sends/s) with
# the APIs answering in up to a second. A call that waited for a connection after its slot would arrive late.
MAX_CONNECTIONS = 512
SLACK = 2.0  # and at least 2 messages/s below a sender's limit: a one-second window may hold one slot more than the rate, and a late send


def paced(limit: float) -> float:
    """The rate a runner sends at from one business sender with this limit per second."""
    return min(limit * HEADROOM, max(limit - SLACK, limit / 2))


@dataclass(frozen=True)
class RunnerOptions:
    """How a runner paces and retries.

    Args:
        rates: messages per second per business sender, by platform, instead of the documented
            default (e.g. {"whatsapp": 1000} after Meta's throughput upgrade).
        batch: rows claimed at once, and at most this many per platform waiting for their slots.
        mark_ahead: seconds before its slot a row's consent is read again and the row marked
            (`mark_every` of them gathered into one statement): the statement must be done by
            then. A killed runner leaves the rows marked and the sends under way in doubt.
        tries: tries of one throttled send before its row is put back for `retry_later` seconds.
        rounds: times a row is put back before it fails as `rate_limited`.
    """

    rates: Mapping[str, float] | None = None
    batch: int = 100
    lease: float = 30.0
    tries: int = 6
    rounds: int = 5
    backoff: float = 0.5  # first pause after a rate-limit error without Retry-After; doubles, capped at max_backoff
    max_backoff: float = 30.0
    retry_later: float = 60.0
    flush_every: float = 0.2
    mark_every: float = 0.05  # consent re-checks and marks gathered into one statement
    mark_ahead: float = 0.1


class CampaignRunner:
    """Sends one campaign job; any number of runners (processes) may work on the same job."""

    def __init__(
        self,
        ledger: ConsentLedger,
        jobs: CampaignJobs,
        client: aiohttp.ClientSession,
        settings: WebhookSettings,
        *,
        rules: HouseRules | None = None,
        options: RunnerOptions | None = None,
        owner: str | None = None,
    ) -> None:
        self.ledger = ledger
        self.jobs = jobs
        self.options = options or RunnerOptions()
        self.owner = owner or f"campaign-{uuid.uuid4().hex[:12]}"
        self.rules = rules
        scrubber = SecretScrubber()
        scrubber.add(settings.secrets())
        self.settings = settings
        # One try per call: here only "too fast" is repeated (see the module docstring).
        self.sender = CampaignSender(client, settings, scrubber)
        self.pacer = Pacer()  # per user, in this process
        # Reservations touch only `campaign_pacing`: on PostgreSQL they need not wait for this process's other writes.
        book = SlotBook(jobs.engine, writing=jobs.writing if jobs.engine.dialect.name == "sqlite" else None)
        # Per business sender, shared by all processes; slots reserved far enough ahead to be marked before them.
        self.slots = SharedSlots(book, lead=self.options.mark_ahead + 0.02)
        self._throttles: dict[str, int] = {}  # rate-limit errors in a row, per pacer key
        self._sender_rates: dict[str, float] = {}  # paced messages/s per business sender, by platform
        self._configured: set[str] = set()
        self._marks: dict[str, Marks] = {}  # by topic
        self._inflight: set[int] = set()  # rows claimed and not yet settled by this runner
        self._queues: dict[str, _Queue] = {}  # by channel: rows claimed and not yet past their slot
        self._outcomes: list[Outcome] = []
        self._composed: dict[tuple[str, str, bool, str | None], tuple[str, tuple[Message, ...]]] = {}

    async def run(self, job_id: str) -> CampaignStatus:
        """Send the job until every row is settled; returns its counts."""
        job = self.jobs.get(job_id)
        if job is None:
            raise ConsentError(f"no campaign job {job_id!r}")
        topic = self.ledger.topic(job.topic)
        flusher = asyncio.create_task(self._flush_loop(job))
        renewer = asyncio.create_task(self._renew_loop())
        try:
            channels = await anyio.to_thread.run_sync(self.jobs.channels, job_id)
            await asyncio.gather(*(self._channel(job, topic, c) for c in channels))
        finally:
            renewer.cancel()
            flusher.cancel()
            await asyncio.gather(renewer, flusher, return_exceptions=True)
            await anyio.to_thread.run_sync(self._flush, job)
            await anyio.to_thread.run_sync(self.jobs.release, self.owner)
            for key in sorted(self._configured):
                if self.slots.given_up(key):
                    log.info("campaign %s: %d reserved slots of %s given up (this process was too busy to use them)", job_id, self.slots.given_up(key), key)
        return await anyio.to_thread.run_sync(self.jobs.status, job_id)

    # one channel ---------------------------------------------------------------------

    async def _channel(self, job: Job, topic: Topic, channel: str) -> None:
        """Claim and send this channel's rows until none is open."""
        platform = _platform(channel)
        if platform is not None:
            self._configure(platform)
        queue = self._queues[channel] = _Queue()
        tasks: set[asyncio.Task[None]] = set()

        def done(task: asyncio.Task[None]) -> None:
            tasks.discard(task)
            queue.changed.set()

        while True:
            if len(queue.rows) < self.options.batch:
                claimed = await anyio.to_thread.run_sync(
                    self.jobs.claim, job.id, channel, self.owner, self.options.batch, self.options.lease, (topic.id, topic.version)
                )
                for rec in claimed:
                    if rec.row in self._inflight:
                        continue  # its lease lapsed while this runner still works on it (a slow database): now renewed
                    self._inflight.add(rec.row)
                    queue.rows.add(rec.row)
                    task = asyncio.create_task(self._guarded(job, topic, platform, rec))
                    tasks.add(task)
                    task.add_done_callback(done)
                if claimed:
                    continue
            if tasks:
                queue.changed.clear()
                await queue.changed.wait()  # a row passed its slot or a task ended (cheaper than asyncio.wait on all)
                continue
            await anyio.to_thread.run_sync(self.jobs.settle_in_doubt, job.id, channel)
            due = await anyio.to_thread.run_sync(self.jobs.next_due, job.id, channel)
            if due is None:
                return
            await asyncio.sleep(min(max(0.05, due - time.time()), 1.0))

    def _configure(self, platform: Platform) -> None:
        documented = limit(platform.rate_limits, "sender")
        rate = (self.options.rates or {}).get(platform.name, documented.per_second if documented else None)
        if rate is not None:
            self._sender_rates[platform.name] = paced(rate)

    async def _guarded(self, job: Job, topic: Topic, platform: Platform | None, rec: Recipient) -> None:
        try:
            outcome = await self._send(job, topic, platform, rec)
        except Exception as exc:  # noqa: BLE001 - one recipient's bug must not stop the campaign; its row stays leased
            log.error("campaign %s: sending to %s failed unexpectedly", job.id, mask(rec.user_id), exc_info=exc)
            return
        finally:
            self._queues[rec.channel].leave(rec.row)
        if outcome.status == "lost":
            self._inflight.discard(rec.row)
        else:
            self._outcomes.append(outcome)

    async def _send(self, job: Job, topic: Topic, platform: Platform | None, rec: Recipient) -> Outcome:
        if platform is None:
            return _skipped(rec, "unreachable", f"unknown channel {rec.channel!r}")
        reach = reach_of(rec.channel, rec.last_user_at, self.ledger.now(), job.template)
        if reach.mode is None:
            return _skipped(rec, reach.why or "unreachable", reach.reason)
        if not platform.needs:
            return _skipped(rec, "no_sender", SKIP_REASONS["no_sender"])
        if not rec.standing:  # withdrawn before the claim: no send slot taken for nothing
            problem = await anyio.to_thread.run_sync(consent_problem, self.ledger, rec.user_id, rec.channel, topic)
            if problem is not None:
                return _skipped(rec, problem[0], problem[1])
        lang = rec.lang or next(iter(topic.title), "en")
        key = (rec.channel, lang, not rec.notified, reach.template if reach.mode == "template" else None)
        if key not in self._composed:
            self._composed[key] = compose(rec.channel, pick_text(job.texts, lang), lang, not rec.notified, reach, self.rules)
        text, messages = self._composed[key]
        event = Inbound(rec.channel, "other", rec.user_id, f"campaign:{job.id}", reply_to=rec.user_id)
        calls = platform.messages(event, messages, self.settings)
        user_key = self._user_key(platform, rec)
        try:
            for n, call in enumerate(calls):
                result = await self._deliver(platform, call, user_key, rec, topic if n == 0 else None)
                if isinstance(result, Outcome):
                    return result
                if result.verdict != "sent":
                    return self._failed(platform, rec, result, n, len(calls))
        finally:
            self.pacer.forget(user_key)
        detail = f"template {reach.template}" if reach.mode == "template" else None
        delivery = {
            "user_id": rec.user_id,
            "channel": rec.channel,
            "status": "delivered",
            "text": text,
            "objection_notice": int(not rec.notified),
            "detail": detail,
        }
        return Outcome(rec.row, "sent", detail=detail, delivery=delivery)

    async def _deliver(self, platform: Platform, call: Outgoing, user_key: str, rec: Recipient, topic: Topic | None) -> SendResult | Outcome:
        """Send one call, repeating it while the platform says "too fast"; with `topic` (the first call) each try re-reads the consent."""
        sender_key = self._sender_key(platform, call)
        for _ in range(self.options.tries):
            await self.pacer.acquire(user_key)
            if topic is not None:
                stop = await self._checked_slot(sender_key, rec, topic)
                if stop is not None:
                    return stop
            else:
                await self.slots.acquire(sender_key)
            self._queues[rec.channel].leave(rec.row)  # past its slot: the answer's wait keeps no other row back
            result = await self.sender.send(call)
            if result.verdict == "sent":
                self._throttles.pop(sender_key, None)
                return result
            scope = platform.throttle(result.status, result.error) or _unsent(result)
            if scope is None:
                return result
            if scope == "sender":  # the user got nothing: their own pace is not used up
                self.pacer.refund(user_key)
            await self._hold(sender_key if scope == "sender" else user_key, scope, result.retry_after)
        if topic is not None:  # never accepted: safe to put back and try in a later round
            return self._put_back(rec, result)
        return result

    async def _checked_slot(self, sender_key: str, rec: Recipient, topic: Topic) -> Outcome | None:
        """Take a slot, re-read the consent and mark the row `mark_ahead` before it, and wait for it; None when it is time to send.

        A slot missed (the statement or this process too slow) is given up, and the next one gets a new read.
        """
        ahead = self.options.mark_ahead
        while True:
            at = await self.slots.take(sender_key, ahead)
            delay = at - ahead - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            stop = await self._check_and_mark(rec, topic)
            if stop is not None:
                return stop
            if await self.slots.wait(sender_key, at):
                return None

    async def _check_and_mark(self, rec: Recipient, topic: Topic) -> Outcome | None:
        """Right before the first send: mark the row as being sent if the consent still stands (one statement per batch)."""
        if topic.id not in self._marks:
            self._marks[topic.id] = Marks(self.jobs, self.owner, topic, gather=self.options.mark_every)
        if await self._marks[topic.id].mark(rec.row):
            return None
        problem = await anyio.to_thread.run_sync(consent_problem, self.ledger, rec.user_id, rec.channel, topic)
        if problem is not None:
            return _skipped(rec, problem[0], problem[1])
        return Outcome(rec.row, "lost")  # taken over after a lapsed lease, or erased: not ours to settle

    async def _hold(self, key: str, scope: Scope, retry_after: float | None) -> None:
        count = self._throttles.get(key, 0) + 1
        self._throttles[key] = count
        backoff = min(self.options.max_backoff, self.options.backoff * 2 ** (count - 1))
        wait = retry_after if retry_after is not None else backoff * (0.5 + random.random() / 2)  # noqa: S311 - jitter
        if scope == "sender":
            await self.slots.pause(key, wait)
        else:
            self.pacer.pause(key, wait)

    def _put_back(self, rec: Recipient, result: SendResult) -> Outcome:
        if rec.attempts + 1 >= self.options.rounds:
            return Outcome(rec.row, "failed", "rate_limited", f"{FAIL_REASONS['rate_limited']}: {result.error}")
        return Outcome(rec.row, "pending", detail=result.error, next_at=time.time() + self.options.retry_later)

    def _failed(self, platform: Platform, rec: Recipient, result: SendResult, n: int, total: int) -> Outcome:
        why = "rejected" if result.status is not None and result.status < 500 else "in_doubt"
        part = f" (after {n} of {total} messages)" if n else ""
        return Outcome(rec.row, "failed", why, f"{FAIL_REASONS[why]}{part}: {result.error}")

    def _sender_key(self, platform: Platform, call: Outgoing) -> str:
        key = f"{platform.name}:{platform.sender(call)}"
        rate = self._sender_rates.get(platform.name)
        if rate is not None and key not in self._configured:
            self.slots.configure(key, rate)
            self._configured.add(key)
        return key

    def _user_key(self, platform: Platform, rec: Recipient) -> str:
        key = f"{platform.name}:user:{rec.user_id}"
        per_user = limit(platform.rate_limits, "recipient")
        if per_user is not None:
            self.pacer.configure(key, per_user.per_second * HEADROOM)
        return key

    # bookkeeping ----------------------------------------------------------------------

    def _flush(self, job: Job) -> None:
        outcomes, self._outcomes = self._outcomes, []
        try:
            self.jobs.settle(outcomes, self.owner, job.topic, job.id)
        except Exception:
            self._outcomes = outcomes + self._outcomes  # kept for the next flush
            raise
        self._inflight.difference_update(o.row for o in outcomes)

    async def _flush_loop(self, job: Job) -> None:
        while True:
            await asyncio.sleep(self.options.flush_every)
            try:
                await anyio.to_thread.run_sync(self._flush, job)
            except Exception as exc:  # noqa: BLE001 - the database may be away for a moment; retried next time
                log.warning("campaign %s: recording outcomes failed: %s", job.id, type(exc).__name__)

    async def _renew_loop(self) -> None:
        while True:
            await asyncio.sleep(self.options.lease / 3)
            try:
                await anyio.to_thread.run_sync(self.jobs.renew, self.owner, self.options.lease)
            except Exception as exc:  # noqa: BLE001 - retried at the next beat, well within the lease
                log.warning("campaign: renewing leases failed: %s", type(exc).__name__)


class _Queue:
    """One channel's rows claimed by this runner and not yet past their slot."""

    def __init__(self) -> None:
        self.rows: set[int] = set()
        self.changed = asyncio.Event()

    def leave(self, row: int) -> None:
        if row in self.rows:
            self.rows.discard(row)
            self.changed.set()


def _platform(channel: str) -> Platform | None:
    try:
        return get_platform(channel)
    except ConfigError:
        return None


def _skipped(rec: Recipient, why: str, reason: str) -> Outcome:
    return Outcome(rec.row, "skipped", why, reason)


def _unsent(result: SendResult) -> Scope | None:
    """A connection that was never made delivered nothing: as safe to repeat as a 429."""
    return "sender" if result.status is None and result.error.startswith(NOT_SENT) else None


def parse_rates(values: list[str]) -> dict[str, float]:
    """`["whatsapp=1000", ...]` as {platform: messages per second}.

    Raises:
        ConfigError: not `platform=number`, an unknown platform, or a rate that is not positive.
    """
    rates: dict[str, float] = {}
    for value in values:
        name, _, number = value.partition("=")
        get_platform(name.strip())  # an unknown name raises ConfigError listing the known ones
        try:
            rate = float(number)
        except ValueError:
            rate = 0.0
        if rate <= 0:
            raise ConfigError(f"--rate {value!r}: give platform=messages per second, e.g. whatsapp=1000")
        rates[name.strip()] = rate
    return rates


def run_campaign(ledger: ConsentLedger, jobs: CampaignJobs, job_id: str, settings: WebhookSettings, **kwargs: Any) -> CampaignStatus:
    """`CampaignRunner.run` in a new event loop with its own HTTP client (for the CLI)."""

    async def main() -> CampaignStatus:
        # More connections than sends under way (MAX_CONNECTIONS); aiohttp's pool does not slow down with its size
        # (httpx's checked every idle connection per request).
        async with campaign_session(MAX_CONNECTIONS) as client:
            return await CampaignRunner(ledger, jobs, client, settings, **kwargs).run(job_id)

    return asyncio.run(main())
