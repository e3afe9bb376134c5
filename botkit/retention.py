"""Retention (GDPR Art. 5(1)(e), storage limitation): delete what is kept longer than needed.

A `RetentionPolicy` names a period in days per kind of data (None keeps it); `purge` deletes
the rows older than their period, never pending work, never the transcript of a conversation
that waits for or is with a person, and never the proof of a consent that stands.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import ColumnElement, Engine, and_, delete, exists, func, not_, or_, select
from sqlalchemy import Table as SqlTable

from botkit.db import (
    campaign_deliveries,
    campaign_recipients,
    consent_events,
    conversations,
    handovers,
    turns,
    webhook_inbox,
    webhook_outbox,
)
from botkit.errors import ConfigError

DAY = 86_400.0
OPEN_HANDOVER = ("waiting", "with_person")


@dataclass(frozen=True)
class RetentionPolicy:
    """Days each kind of data is kept; None keeps it for ever.

    `consent_after_withdrawal` counts from a consent's withdrawal; a standing consent
    (latest event granted or pending) keeps all its events.
    """

    webhook: float | None = None  # finished inbox events and sent/failed send-API calls
    transcripts: float | None = None  # turns, and conversations without turns left
    handovers: float | None = None  # released handovers
    deliveries: float | None = None  # campaign deliveries
    consent_after_withdrawal: float | None = None

    @property
    def active(self) -> bool:
        """Does the policy delete anything at all?"""
        return any(getattr(self, f.name) is not None for f in fields(self))

    @classmethod
    def parse(cls, spec: str | None) -> RetentionPolicy:
        """Read `"webhook=30,transcripts=180,handovers=365,deliveries=365,consent_after_withdrawal=1095"`.

        Kinds left out are kept. Raises ConfigError naming the bad part.
        """
        known = [f.name for f in fields(cls)]
        days: dict[str, float] = {}
        for part in (p.strip() for p in (spec or "").split(",")):
            if not part:
                continue
            kind, sep, value = (s.strip() for s in part.partition("="))
            if not sep or kind not in known:
                raise ConfigError(f"BOTKIT_RETENTION_DAYS: {part!r} is not <kind>=<days>; kinds: {', '.join(known)}")
            if kind in days:
                raise ConfigError(f"BOTKIT_RETENTION_DAYS: {kind} is given twice")
            try:
                days[kind] = float(value)
            except ValueError:
                raise ConfigError(f"BOTKIT_RETENTION_DAYS: {kind}={value!r} is not a number of days") from None
            if not days[kind] > 0:  # also rejects nan
                raise ConfigError(f"BOTKIT_RETENTION_DAYS: {kind}={value} must be more than 0 days")
        return cls(**days)


@dataclass(frozen=True)
class PurgeReport:
    """Rows deleted per table (or that would be, on a dry run)."""

    counts: dict[str, int]
    dry_run: bool

    @property
    def total(self) -> int:
        """All rows over all tables."""
        return sum(self.counts.values())


def purge(engine: Engine, policy: RetentionPolicy, now: float, *, dry_run: bool = False) -> PurgeReport:
    """Delete rows older than `policy` allows at `now` (epoch seconds); one transaction per table.

    A dry run counts the same rows and deletes nothing.
    """
    counts: dict[str, int] = {}
    for table, where in _rules(policy, now):
        with engine.begin() as conn:
            if dry_run:
                counts[table.name] = conn.execute(select(func.count()).select_from(table).where(where)).scalar_one()
            else:
                counts[table.name] = conn.execute(delete(table).where(where)).rowcount
    return PurgeReport(counts, dry_run)


def _rules(policy: RetentionPolicy, now: float) -> list[tuple[SqlTable, ColumnElement[Any]]]:
    """(table, which rows go) for each period the policy sets, each independent of the others, so a dry run counts what a purge deletes."""
    rules: list[tuple[SqlTable, ColumnElement[Any]]] = []
    if policy.webhook is not None:
        cutoff = now - policy.webhook * DAY
        i, o = webhook_inbox.c, webhook_outbox.c
        unsent = exists().where(o.inbox_id == i.id, o.status == "pending")
        rules.append((webhook_inbox, and_(i.status.in_(("done", "failed")), func.coalesce(i.done_at, i.received_at) < cutoff, not_(unsent))))
        rules.append((webhook_outbox, and_(o.status.in_(("sent", "failed")), func.coalesce(o.sent_at, o.created_at) < cutoff)))
    if policy.transcripts is not None:
        cutoff = now - policy.transcripts * DAY
        t, c, h = turns.c, conversations.c, handovers.c
        open_handover = exists().where(h.conversation_id == t.conversation_id, h.status.in_(OPEN_HANDOVER))
        with_person = exists().where(c.id == t.conversation_id, or_(c.with_human != 0, c.waiting_since.is_not(None)))
        rules.append((turns, and_(t.at < cutoff, not_(open_handover), not_(with_person))))
        left = exists().where(t.conversation_id == c.id, t.at >= cutoff)  # turns that stay: also right for a dry run
        open_own = exists().where(h.conversation_id == c.id, h.status.in_(OPEN_HANDOVER))
        idle = and_(c.created_at < cutoff, or_(c.last_user_at.is_(None), c.last_user_at < cutoff))
        rules.append((conversations, and_(idle, c.with_human == 0, c.waiting_since.is_(None), not_(left), not_(open_own))))
    if policy.handovers is not None:
        cutoff = now - policy.handovers * DAY
        h = handovers.c
        rules.append((handovers, and_(h.status == "released", func.coalesce(h.released_at, h.created_at) < cutoff)))
    if policy.deliveries is not None:
        cutoff = now - policy.deliveries * DAY
        rules.append((campaign_deliveries, campaign_deliveries.c.at < cutoff))
        # settled rows of a campaign job only: its job row stays, so resuming the job never sends to them again
        r = campaign_recipients.c
        rules.append((campaign_recipients, and_(r.status.in_(("sent", "skipped", "failed")), r.done_at < cutoff)))
    if policy.consent_after_withdrawal is not None:
        rules.append((consent_events, _withdrawn_long_ago(now - policy.consent_after_withdrawal * DAY)))
    return rules


def _withdrawn_long_ago(cutoff: float) -> ColumnElement[Any]:
    """Events of a consent whose latest event is a withdrawal before `cutoff`."""
    e = consent_events.c
    last, newer = consent_events.alias("last"), consent_events.alias("newer")
    same = and_(last.c.user_id == e.user_id, last.c.channel == e.channel, last.c.topic == e.topic)
    is_latest = not_(
        exists().where(newer.c.user_id == last.c.user_id, newer.c.channel == last.c.channel, newer.c.topic == last.c.topic, newer.c.id > last.c.id)
    )
    return exists().where(same, last.c.state == "withdrawn", last.c.at < cutoff, is_latest)
