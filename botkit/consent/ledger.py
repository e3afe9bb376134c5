"""The consent ledger: append-only consent events per user, channel and topic (GDPR Art. 7).

Nothing is ever updated or deleted except by the erasure in `botkit.privacy` (Art. 17) and the
retention purge: every request, grant and withdrawal is a new row, and a consent's current
state is its latest event. Consent is kept per channel *and* per topic, because a confirmation in one channel does not prove consent
for another (BGH, 10.02.2011, I ZR 164/09).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Literal

from sqlalchemy import Engine, func, insert, select

from botkit.db import campaign_deliveries, consent_events
from botkit.errors import ConsentError
from botkit.types import Client, Topic

State = Literal["pending", "granted", "withdrawn"]
Method = Literal["chat", "import", "operator"]
PENDING: State = "pending"
GRANTED: State = "granted"
WITHDRAWN: State = "withdrawn"


@dataclass(frozen=True)
class ConsentEvent:
    """One row of the ledger: what happened to one user's consent for one topic in one channel."""

    id: int
    user_id: str
    channel: str
    topic: str
    state: State
    version: str  # wording version of the topic that was shown
    method: Method  # chat (in-chat dialogue), import (with proof) or operator (CLI/API)
    at: float
    wording: str | None = None  # the exact text the user saw
    message_id: str | None = None
    ref: int | None = None  # the event this one answers: a grant names the request it confirms
    evidence: str | None = None  # what the user wrote, or the proof of an imported consent
    lang: str | None = None


class ConsentLedger:
    """Records and answers consent for a client's topics, on any SQLAlchemy engine.

    Every write is one short transaction of one INSERT, so concurrent writers in several
    processes never lose an event. Export and erasure of everything about a person (GDPR
    Art. 15 and 17) are `botkit.privacy`'s.
    """

    def __init__(self, engine: Engine, client: Client, *, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.client = client
        self.topics: dict[str, Topic] = {t.id: t for t in client.topics}
        self._clock = clock

    def now(self) -> float:
        """The ledger's clock (injected, so tests and the bot agree on time)."""
        return self._clock()

    def topic(self, topic_id: str) -> Topic:
        """The topic with this id; an unknown id raises `ConsentError` listing the known ones."""
        try:
            return self.topics[topic_id]
        except KeyError:
            known = ", ".join(self.topics) or "none (add `topics:` to botkit.yaml)"
            raise ConsentError(f"unknown consent topic {topic_id!r}; known topics: {known}") from None

    def request(
        self,
        user_id: str,
        channel: str,
        topic_id: str,
        *,
        wording: str,
        lang: str | None = None,
        message_id: str | None = None,
        evidence: str | None = None,
        at: float | None = None,
    ) -> ConsentEvent:
        """Record that the user asked to opt in and was shown `wording` to confirm."""
        topic = self.topic(topic_id)
        return self._append(
            user_id,
            channel,
            topic.id,
            PENDING,
            topic.version,
            "chat",
            wording=wording,
            lang=lang,
            message_id=message_id,
            evidence=evidence,
            at=at,
        )

    def grant(
        self,
        user_id: str,
        channel: str,
        topic_id: str,
        *,
        confirms: ConsentEvent | None = None,
        method: Method = "chat",
        message_id: str | None = None,
        evidence: str | None = None,
        wording: str | None = None,
        lang: str | None = None,
    ) -> ConsentEvent:
        """Record a granted consent; `confirms` is the pending request the user confirmed.

        The granted version and wording are those of the confirmed request (what the user
        actually saw), else the topic's current ones.
        """
        topic = self.topic(topic_id)
        if confirms is not None and (confirms.state != PENDING or (confirms.user_id, confirms.channel, confirms.topic) != (user_id, channel, topic.id)):
            raise ConsentError(f"event #{confirms.id} is not a pending request of {user_id} for {topic.id} in {channel}")
        return self._append(
            user_id,
            channel,
            topic.id,
            GRANTED,
            confirms.version if confirms else topic.version,
            method,
            wording=confirms.wording if confirms else wording,
            lang=(confirms.lang if confirms else None) or lang,
            message_id=message_id,
            ref=confirms.id if confirms else None,
            evidence=evidence,
        )

    def import_with_proof(self, user_id: str, channel: str, topic_id: str, proof: str, *, wording: str | None = None) -> ConsentEvent:
        """Record a consent given outside the chat (e.g. a signed form); `proof` says where it is documented."""
        if not proof.strip():
            raise ConsentError("an imported consent needs a proof, e.g. 'form 2026-11-03, archived as scan 4711'")
        return self.grant(user_id, channel, topic_id, method="import", evidence=proof.strip(), wording=wording)

    def withdraw(
        self,
        user_id: str,
        channel: str,
        topic_id: str,
        *,
        method: Method = "chat",
        message_id: str | None = None,
        evidence: str | None = None,
        answers: ConsentEvent | None = None,
    ) -> ConsentEvent:
        """Record a withdrawal (or a declined request, when `answers` is that request).

        A topic no longer configured can still be withdrawn if the user has events for it:
        withdrawing must always be possible (Art. 7(3)).
        """
        current = self.state(user_id, channel, topic_id)
        version = current.version if current else self.topic(topic_id).version
        return self._append(
            user_id,
            channel,
            topic_id,
            WITHDRAWN,
            version,
            method,
            message_id=message_id,
            evidence=evidence,
            ref=answers.id if answers else None,
        )

    def state(self, user_id: str, channel: str, topic_id: str) -> ConsentEvent | None:
        """The latest event for this user, channel and topic (None: never asked)."""
        query = (
            select(consent_events)
            .where(consent_events.c.user_id == user_id, consent_events.c.channel == channel, consent_events.c.topic == topic_id)
            .order_by(consent_events.c.id.desc())
            .limit(1)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return _event(row) if row else None

    def is_granted(self, user_id: str, channel: str, topic_id: str) -> bool:
        """True if the latest event is a grant for the topic's current wording version."""
        current = self.state(user_id, channel, topic_id)
        topic = self.topics.get(topic_id)
        return current is not None and topic is not None and current.state == GRANTED and current.version == topic.version

    def states(self, user_id: str) -> list[ConsentEvent]:
        """The latest event of every (channel, topic) of a user."""
        return self._latest(consent_events.c.user_id == user_id)

    def granted_users(self, topic_id: str) -> list[ConsentEvent]:
        """The grant events of every (user, channel) whose consent for the topic currently stands.

        Grants for an older wording version are included; compare `version` with the topic's.
        """
        return [e for e in self._latest(consent_events.c.topic == topic_id) if e.state == GRANTED]

    def history(self, user_id: str, topic_id: str | None = None) -> list[ConsentEvent]:
        """Every event of a user (optionally for one topic), oldest first."""
        query = select(consent_events).where(consent_events.c.user_id == user_id)
        if topic_id is not None:
            query = query.where(consent_events.c.topic == topic_id)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(consent_events.c.id)).mappings().all()
        return [_event(r) for r in rows]

    def record_delivery(
        self,
        campaign: str,
        topic_id: str,
        user_id: str,
        channel: str,
        text: str,
        *,
        objection_notice: bool,
        status: str = "delivered",
        detail: str | None = None,
    ) -> None:
        """Record promotional content sent to a user (a campaign message or an in-chat offer)."""
        with self.engine.begin() as conn:
            conn.execute(
                insert(campaign_deliveries).values(
                    campaign=campaign,
                    topic=topic_id,
                    user_id=user_id,
                    channel=channel,
                    status=status,
                    text=text,
                    objection_notice=int(objection_notice),
                    detail=detail,
                    at=self._clock(),
                )
            )

    def notified(self, user_id: str, channel: str) -> bool:
        """True if a marketing message with the Art. 21(4) objection notice already reached this user here."""
        query = select(campaign_deliveries.c.id).where(
            campaign_deliveries.c.user_id == user_id,
            campaign_deliveries.c.channel == channel,
            campaign_deliveries.c.objection_notice == 1,
            campaign_deliveries.c.status == "delivered",
        )
        with self.engine.connect() as conn:
            return conn.execute(query.limit(1)).first() is not None

    def delivered(self, campaign: str, user_id: str, channel: str) -> bool:
        """True if this campaign was already delivered to this user in this channel (so a re-run skips them)."""
        query = select(campaign_deliveries.c.id).where(
            campaign_deliveries.c.campaign == campaign,
            campaign_deliveries.c.user_id == user_id,
            campaign_deliveries.c.channel == channel,
            campaign_deliveries.c.status == "delivered",
        )
        with self.engine.connect() as conn:
            return conn.execute(query.limit(1)).first() is not None

    def proof(self, user_id: str, topic_id: str) -> str:
        """A printable record of a user's consent for a topic: every event, the wording shown, per channel."""
        topic = self.topic(topic_id)
        events = self.history(user_id, topic.id)
        if not events:
            raise ConsentError(f"no consent events for user {user_id!r} and topic {topic.id!r}; nothing to prove")
        lines = [
            "CONSENT RECORD",
            f"Controller:   {self.client.name}" + (f" ({self.client.contact})" if self.client.contact else ""),
            f"User:         {user_id}",
            f"Topic:        {topic.id} ({_title(topic)}), current wording version {topic.version}",
            f"Printed:      {_iso(self._clock())}",
        ]
        for channel in sorted({e.channel for e in events}):
            mine = [e for e in events if e.channel == channel]
            last = mine[-1]
            lines += ["", f"Channel {channel}: {last.state} since {_iso(last.at)} (wording version {last.version})"]
            for e in mine:
                lines.append(f"  #{e.id}  {_iso(e.at)}  {e.state:<9}  {_how(e)}")
                if e.message_id:
                    lines.append(f"        message id: {e.message_id}")
                if e.evidence:
                    label = "proof" if e.method == "import" else "user wrote"
                    lines.append(f"        {label}: {e.evidence}")
                if e.wording and (e.state == PENDING or e.method == "import"):
                    shown = "\n          ".join(line for line in e.wording.splitlines() if line.strip())
                    lines.append(f"        shown ({e.lang or '?'}, version {e.version}):\n          {shown}")
        return "\n".join(lines) + "\n"

    def _append(
        self,
        user_id: str,
        channel: str,
        topic_id: str,
        state: State,
        version: str,
        method: Method,
        *,
        wording: str | None = None,
        lang: str | None = None,
        message_id: str | None = None,
        ref: int | None = None,
        evidence: str | None = None,
        at: float | None = None,
    ) -> ConsentEvent:
        if not user_id or not channel:
            raise ConsentError(f"a consent event needs a user id and a channel, got {user_id!r} and {channel!r}")
        values = dict(
            user_id=user_id,
            channel=channel,
            topic=topic_id,
            state=state,
            version=version,
            method=method,
            wording=wording,
            lang=lang,
            message_id=message_id,
            ref=ref,
            evidence=evidence,
            at=self._clock() if at is None else at,
        )
        with self.engine.begin() as conn:
            key = conn.execute(insert(consent_events).values(**values)).inserted_primary_key
        if key is None:
            raise ConsentError("the database returned no id for the new consent event")
        return ConsentEvent(id=int(key[0]), **values)  # type: ignore[arg-type]

    def _latest(self, where: Any) -> list[ConsentEvent]:
        latest = (
            select(func.max(consent_events.c.id).label("id"))
            .where(where)
            .group_by(consent_events.c.user_id, consent_events.c.channel, consent_events.c.topic)
            .subquery()
        )
        query = select(consent_events).join(latest, consent_events.c.id == latest.c.id).order_by(consent_events.c.id)
        with self.engine.connect() as conn:
            return [_event(r) for r in conn.execute(query).mappings().all()]


def _event(row: Any) -> ConsentEvent:
    return ConsentEvent(**{k: row[k] for k in ConsentEvent.__dataclass_fields__})


def _iso(at: float) -> str:
    return datetime.fromtimestamp(at, tz=timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _title(topic: Topic) -> str:
    return " / ".join(dict.fromkeys(topic.title.values())) or topic.id


def _how(event: ConsentEvent) -> str:
    if event.method == "import":
        return "imported with proof"
    if event.method == "operator":
        return "recorded by an operator"
    if event.state == GRANTED and event.ref is not None:
        return f"in chat, double opt-in: the user confirmed request #{event.ref}"
    if event.state == WITHDRAWN and event.ref is not None:
        return f"in chat: the user declined request #{event.ref}"
    return {PENDING: "in chat: the user asked to opt in", GRANTED: "in chat", WITHDRAWN: "in chat: the user withdrew"}[event.state]
