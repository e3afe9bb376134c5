"""The background side of the webhook: persisted events -> bot -> send-API calls.

It runs in the web process (`botkit serve`, the default) or in `botkit worker` processes
(`botkit.webhook.runner`), any number of them on one database.
One or more reply loops claim inbox events (a conversation's events strictly in order),
run the synchronous bot in a worker thread so the event loop keeps acknowledging, and
write the rendered sends to the outbox in the same transaction that marks the event
done. Sends of one conversation go out one after another; a sweeper picks up sends and
events left over by failures, restarts or crashed processes. Send results are recorded
through a `GroupWriter`, so that many deliveries share a commit.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import anyio
from sqlalchemy.exc import SQLAlchemyError

from botkit.bot import Bot
from botkit.errors import BotkitError, HandoverError
from botkit.platforms import ANSWERED_KINDS, PERSON_KINDS, Inbound, Outgoing, get_platform
from botkit.retention import RetentionPolicy, purge
from botkit.types import Reply
from botkit.webhook.handover_events import timeout_notice
from botkit.webhook.logs import log, mask
from botkit.webhook.metrics import Metrics
from botkit.webhook.outbox import InboxItem, OutboxItem, WebhookQueue
from botkit.webhook.sender import Sender
from botkit.webhook.settings import WebhookSettings
from botkit.webhook.wakeup import InboxListener
from botkit.webhook.writer import GroupWriter

PURGE_EVERY = 3600.0  # seconds between retention purges of one worker
MAX_ATTEMPTS = 3  # an event whose handling fails this often is marked failed instead of blocking its conversation
CLAIM_BATCH = 4  # events (of different conversations) a reply loop claims at once


class Worker:
    """Processes the inbox of one bot and delivers the outbox; start it inside the app's event loop."""

    def __init__(
        self,
        bot: Bot,
        queue: WebhookQueue,
        writer: GroupWriter,
        sender: Sender,
        settings: WebhookSettings,
        *,
        clock: Callable[[], float],
        owner: str,
        retention: RetentionPolicy | None = None,
        metrics: Metrics | None = None,
        idle_poll: float | None = None,
        reply_loops: int = 1,
    ) -> None:
        """Args:
        clock: time source of leases, retries and timestamps (a `ManualClock` in tests).
        owner: this process's name in leases; unique per process.
        idle_poll: seconds an idle reply loop waits before it looks at the inbox again,
            unless woken (by the web app in the same process, or a PostgreSQL NOTIFY);
            `settings.poll_seconds` by default.
        reply_loops: concurrent reply loops unless `settings.reply_workers` says otherwise.
        """
        self.bot = bot
        self.metrics = metrics
        self.queue = queue
        self.writer = writer
        self.sender = sender
        self.settings = settings
        self.owner = owner
        self._clock = clock
        self._retention = retention if retention is not None and retention.active else None
        self._next_purge = 0.0
        self._idle_poll = settings.poll_seconds if idle_poll is None else idle_poll
        self._reply_loops = reply_loops if settings.reply_workers is None else settings.reply_workers
        self._listener: InboxListener | None = None
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._tails: dict[str, asyncio.Task[Any]] = {}  # last delivery task per conversation
        self._slots = asyncio.Semaphore(64)  # send-API calls in flight
        # Sends stay leased for all their tries, so nobody else sends them meanwhile.
        tries = max(1, settings.send_attempts)
        self._send_lease = tries * (settings.send_timeout + settings.retry_max_wait) + settings.lease_seconds

    def start(self) -> None:
        """Start the reply loops and the sweeper; pending events from before a restart are resumed."""
        for _ in range(max(1, self._reply_loops)):
            self._keep_running(self._reply_loop)
        self._keep_running(self._sweep_loop)
        if self.queue.engine.dialect.name == "postgresql":
            loop = asyncio.get_running_loop()

            def wake_soon() -> None:  # from the listener's thread
                loop.call_soon_threadsafe(self.wake)

            self._listener = InboxListener(self.queue.engine, wake_soon).start()

    def _keep_running(self, loop: Callable[[], Any]) -> None:
        """Run a loop; should it ever die of a bug, log that and start it again."""

        def restart(task: asyncio.Task[Any]) -> None:
            if not task.cancelled() and task.exception() is not None:
                log.error("webhook %s stopped, restarting it", loop.__name__, exc_info=task.exception())
                self._keep_running(loop)

        self._spawn(loop()).add_done_callback(restart)

    def wake(self) -> None:
        """New events were saved: look now instead of at the next poll."""
        self._wake.set()

    async def stop(self) -> None:
        """Cancel the loops and deliveries and give back the leases, so a restart continues at once."""
        if self._listener is not None:
            await anyio.to_thread.run_sync(self._listener.close)
            self._listener = None
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.writer.close()  # writes handed in before the cancellation still commit ...
        await anyio.to_thread.run_sync(self.queue.release, self.owner)  # ... then their leases go

    # processing -------------------------------------------------------------------

    def handle(self, event: Inbound) -> list[Outgoing]:
        """Act on one event (synchronously) and return the send-API calls it needs."""
        cid = event.conversation_id
        platform = get_platform(event.platform)
        channel = platform.channel(event)
        if event.kind in ANSWERED_KINDS:
            reply = self._reply(event, channel)
            return platform.calls(event, reply, self.settings)
        if event.kind == "standby":
            # A person has the conversation: the bot stays silent, but a withdrawal (STOP)
            # is still heard, recorded and, where the platform lets the bot speak, confirmed.
            self.bot.take_conversation(cid, event.user_id, channel)
            reply = self._reply(event, channel)
            return platform.calls(event, reply, self.settings) if platform.speaks_in_standby else []
        if event.kind == "handover_take":
            self.bot.take_conversation(cid, event.user_id, channel)
            return []
        if event.kind == "handover_pass":
            # Meta delivers pass_thread_control to the app that receives control; when our
            # app id is configured, a pass to another app also means a person has it.
            ours = self.settings.messenger_app_id
            new_owner = event.details.get("app_id", "")
            if ours and new_owner and new_owner != ours:
                self.bot.take_conversation(cid, event.user_id, channel)
            else:
                self.bot.release(cid)
            return []
        if event.kind == "handover_request":
            self.bot.take_conversation(cid, event.user_id, channel)
            return platform.yield_control(event, self.settings)
        if event.kind in PERSON_KINDS:
            return self._person_side(event)
        return []

    def _reply(self, event: Inbound, channel: str) -> Reply:
        """The bot's reply to a user's message, timed and counted; logged with the masked conversation id."""
        started = time.perf_counter()
        reply = self.bot.reply(event.conversation_id, event.text, channel, user_id=event.user_id, message_id=event.message_id)
        seconds = time.perf_counter() - started
        if self.metrics is not None:
            self.metrics.observe_reply(reply.decision.value, reply.reason, seconds)
        conversation = mask(event.conversation_id)
        log.info(
            "%s reply to %s: %s (%s) in %.3f s", event.platform, conversation, reply.decision.value, reply.reason, seconds, extra={"conversation": conversation}
        )
        return reply

    def _person_side(self, event: Inbound) -> list[Outgoing]:
        """A person's message (agent API, CLI) or the "nobody came" notice, addressed like bot replies."""
        platform = get_platform(event.platform)
        handover_id = int(event.details["handover_id"])
        if event.kind == "handover_timeout":
            return platform.messages(event, self.bot.nobody_came(handover_id).messages, self.settings)
        try:
            messages = self.bot.person_says(handover_id, event.text, message_id=event.message_id)
        except HandoverError as exc:  # released (or never taken) after the message was queued: not sent
            log.warning("person message for handover %d not sent: %s", handover_id, exc)
            return []
        return platform.messages(event, messages, self.settings)

    def queue_timeouts(self) -> int:
        """Queue one "nobody came" event per overdue handover (idempotent); returns how many are new."""
        saved = 0
        for handover in self.bot.overdue():
            try:
                event = timeout_notice(self.queue.engine, handover)
            except HandoverError:  # not a webhook conversation: whoever serves its channel tells the user
                continue
            saved += self.queue.accept([event], self._clock())[0]
        return saved

    def step(self, backlog: list[InboxItem] | None = None) -> list[OutboxItem] | None:
        """Process one claimed event, in a worker thread; None when there was nothing to do.

        Args:
            backlog: this reply loop's claimed, not yet processed events; when it is empty,
                up to `CLAIM_BATCH` events are claimed into it at once. Without it one is claimed.

        Claims and finishes do not wait for the database's fsync: after a crash of the
        database server the event is merely processed again.
        """
        claimed = backlog if backlog is not None else []
        if not claimed:
            claimed.extend(self.queue.claim_many(self.owner, self._clock(), self.settings.lease_seconds, CLAIM_BATCH if backlog is not None else 1))
        if not claimed:
            return None
        item = claimed.pop(0)
        try:
            with self._renewing([item, *claimed]):
                calls = self.handle(item.event)
        except Exception as exc:  # noqa: BLE001 - any failure must not block the conversation forever
            self._failed(item, exc)
            return []
        sends = self.queue.finish(item, calls, self.owner, self._clock(), self._send_lease)
        if sends is None:
            log.warning("event %s took longer than its lease and was taken over; its result was dropped", mask(item.event.message_id))
            return []
        return sends

    @contextmanager
    def _renewing(self, items: list[InboxItem]) -> Iterator[None]:
        """Keep the claims' leases alive while a slow reply (e.g. an LLM) is being made."""
        lease = self.settings.lease_seconds
        done = threading.Event()

        def beat() -> None:
            held = list(items)
            while held and not done.wait(lease / 3):
                try:  # a claim taken over is no longer renewed; its finish will be fenced off
                    held = [item for item in held if self.queue.renew(item, self._clock(), lease)]
                except SQLAlchemyError as exc:
                    log.warning("renewing the lease of an event failed: %s", type(exc).__name__)

        beater = threading.Thread(target=beat, daemon=True)
        beater.start()
        try:
            yield
        finally:
            done.set()
            beater.join()

    def _failed(self, item: InboxItem, exc: Exception) -> None:
        failures = item.attempts + 1
        final = failures >= MAX_ATTEMPTS
        log.warning(
            "processing %s event %s of %s failed (attempt %d%s): %s",
            item.event.platform,
            mask(item.event.message_id),
            mask(item.event.user_id),
            failures,
            ", giving up" if final else "",
            type(exc).__name__,
            exc_info=not isinstance(exc, BotkitError),
        )
        retry_at = None if final else self._clock() + self.settings.poll_seconds * failures
        self.queue.give_up(item, f"{type(exc).__name__}: {exc}"[:500], retry_at)

    # loops --------------------------------------------------------------------------

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _reply_loop(self) -> None:
        backlog: list[InboxItem] = []  # claimed, not yet processed
        while True:
            self._wake.clear()
            try:
                items = await anyio.to_thread.run_sync(self.step, backlog)
            except SQLAlchemyError as exc:  # e.g. the database is locked or away: try again later
                log.warning("reading the webhook inbox failed: %s", type(exc).__name__)
                items = None
            if items is None:
                with anyio.move_on_after(self._idle_poll):
                    await self._wake.wait()
                continue
            self._wake.set()  # there may be more: let idle loops look too
            if items:
                self._deliver_later(items)

    async def _sweep_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.poll_seconds)
            try:
                items = await anyio.to_thread.run_sync(self.queue.claim_sends, self.owner, self._clock(), self._send_lease)
            except SQLAlchemyError as exc:
                log.warning("reading the webhook outbox failed: %s", type(exc).__name__)
                continue
            for _, group in itertools.groupby(items, key=lambda i: i.inbox_id):
                self._deliver_later(list(group))
            try:
                await anyio.to_thread.run_sync(self.queue_timeouts)
            except SQLAlchemyError as exc:
                log.warning("queueing handover time-outs failed: %s", type(exc).__name__)
            if self._retention is not None and self._clock() >= self._next_purge:
                self._next_purge = self._clock() + PURGE_EVERY
                try:
                    await anyio.to_thread.run_sync(purge, self.queue.engine, self._retention, self._clock())
                except (SQLAlchemyError, BotkitError) as exc:
                    log.warning("the retention purge failed: %s", type(exc).__name__)
            self._wake.set()  # also re-check the inbox for events whose lease ran out

    def _deliver_later(self, items: list[OutboxItem]) -> None:
        cid = items[0].conversation_id
        task = self._spawn(self._deliver(items, self._tails.get(cid)))
        self._tails[cid] = task

        def forget(done: asyncio.Task[Any]) -> None:
            if self._tails.get(cid) is done:
                del self._tails[cid]
            if not done.cancelled() and done.exception() is not None:
                # e.g. the database was away: the sends stay leased and the sweeper retries them
                log.error("delivering to %s failed", mask(items[0].user_id), exc_info=done.exception())

        task.add_done_callback(forget)

    async def _deliver(self, items: list[OutboxItem], before: asyncio.Task[Any] | None) -> None:
        """Send one event's calls in order, after the conversation's previous delivery."""
        if before is not None:
            await asyncio.wait([before])
        for n, item in enumerate(items):
            if not await self.writer.run(lambda c: self.queue.sending(item, self.owner, c)):
                return  # another worker holds these sends now
            if item.maybe_sent:
                log.warning("sending again to %s what a crashed worker may have sent already", mask(item.user_id))
            async with self._slots:
                started = time.perf_counter()
                result = await self.sender.send(item.request)
            if self.metrics is not None:
                self.metrics.observe_send(item.request.platform, result.verdict, time.perf_counter() - started)
            if result.verdict == "sent":
                await self.writer.run(lambda c: self.queue.sent(item, self._clock(), result.attempts, c))
                continue
            if result.verdict == "failed":
                log.warning("%s rejected a send to %s: %s", item.request.platform, mask(item.user_id), result.error)
                await self.writer.run(lambda c: self.queue.failed(item, result.error, result.attempts, c))
                continue
            later = self._clock() + self.settings.retry_later_seconds
            log.warning(
                "%s send to %s still failing after %d tries (%s); retrying in %.0f s",
                item.request.platform,
                mask(item.user_id),
                result.attempts,
                result.error,
                self.settings.retry_later_seconds,
            )
            rest = items[n:]  # keep the order: the rest waits too

            def postpone(c: Any) -> None:
                for other in rest:
                    self.queue.later(other, result.error, result.attempts if other is item else 0, later, c)

            await self.writer.run(postpone)
            return
