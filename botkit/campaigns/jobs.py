"""Campaign jobs in the database: one row per recipient, claimed, marked before the send, settled after.

A recipient row goes `pending -> claimed -> sending -> sent | skipped | failed`. `claimed`
rows hold a lease; when the runner that claimed them dies, they return to `pending` (nothing
was sent yet). A row is marked `sending` in its own committed transaction right before its
first send-API call, and a `sending` row is never sent again: if its runner dies, the row
is settled as failed `in_doubt` once the lease has run out. So every user gets the campaign
at most once, and the in-doubt rows are the only ones that may have received it unrecorded.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, and_, bindparam, func, insert, or_, select, update
from sqlalchemy.engine import Connection

from botkit.db import campaign_deliveries, campaign_jobs, campaign_recipients, consent_events, conversations
from botkit.errors import ConsentError

OPEN = ("pending", "claimed", "sending")
SKIP_REASONS = {
    "no_consent": "no consent for the topic's current wording",
    "withdrawn": "consent withdrawn meanwhile",
    "outside_window": "outside the platform's window for business-initiated messages",
    "unreachable": "the platform cannot start a chat with this user",
    "no_sender": "botkit has no sender for this platform (an SMS gateway or the site sends)",
}
FAIL_REASONS = {
    "rejected": "the platform rejected the send",
    "rate_limited": "still rate-limited after all rounds",
    "in_doubt": "the runner stopped during the send; not sent again (at most once)",
}


@dataclass(frozen=True)
class Job:
    """A campaign job: what is sent, for which topic."""

    id: str
    topic: str
    texts: dict[str, str]
    template: str | None
    created_at: float


@dataclass(frozen=True)
class Recipient:
    """A claimed recipient row, with what its send needs from the database."""

    row: int
    user_id: str
    channel: str
    lang: str | None
    attempts: int
    last_user_at: float | None = None
    notified: bool = False  # an earlier marketing message already carried the objection notice
    standing: bool = True  # the consent stood when the row was claimed (read again right before the send)


@dataclass(frozen=True)
class Outcome:
    """How one recipient's send ended."""

    row: int
    status: str  # sent | skipped | failed | pending (put back after rate limits)
    why: str | None = None
    detail: str | None = None
    next_at: float = 0.0
    delivery: dict[str, Any] | None = None  # the campaign_deliveries record of a sent campaign


@dataclass(frozen=True)
class CampaignStatus:
    """Counts of a campaign job: sent, skipped and failed by reason, and what remains."""

    campaign: str
    topic: str
    total: int
    sent: int
    skipped: dict[str, int] = field(default_factory=dict)
    failed: dict[str, int] = field(default_factory=dict)
    remaining: int = 0

    @property
    def done(self) -> bool:
        return self.remaining == 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form for `botkit campaign status --json`."""
        return {
            "campaign": self.campaign,
            "topic": self.topic,
            "total": self.total,
            "sent": self.sent,
            "skipped": self.skipped,
            "failed": self.failed,
            "remaining": self.remaining,
            "done": self.done,
        }


class CampaignJobs:
    """Creates campaign jobs and moves their recipient rows through their states (any SQLAlchemy engine)."""

    def __init__(self, engine: Engine, *, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self._clock = clock
        # Writes of one process take turns: threads racing for SQLite's write lock would wait in
        # its busy handler's sleeps instead, and on PostgreSQL a renewal, a batch of marks and a
        # settle of overlapping rows could deadlock.
        self.writing = threading.Lock()

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self.writing, self.engine.begin() as conn:
            yield conn

    def create(self, job_id: str, topic: str, texts: Mapping[str, str], template: str | None, recipients: Iterable[tuple[str, str, str | None]]) -> Job:
        """Create the job with one pending row per (user, channel, lang); an existing job with this id is returned.

        Raises:
            ConsentError: a job with this id exists for another topic, message or template.
        """
        existing = self.get(job_id)
        if existing is not None:
            if (existing.topic, existing.texts, existing.template) != (topic, dict(texts), template):
                raise ConsentError(f"campaign {job_id!r} exists with another topic, message or template; pick a new id")
            return existing
        now = self._clock()
        rows = [
            {"campaign": job_id, "user_id": u, "channel": c, "lang": lang, "status": "pending", "attempts": 0, "next_at": 0.0}
            for u, c, lang in dict.fromkeys(recipients)
        ]
        with self.engine.begin() as conn:
            conn.execute(insert(campaign_jobs).values(id=job_id, topic=topic, message=json.dumps(dict(texts)), template=template, created_at=now))
            for start in range(0, len(rows), 5000):
                conn.execute(insert(campaign_recipients), rows[start : start + 5000])
        return Job(job_id, topic, dict(texts), template, now)

    def get(self, job_id: str) -> Job | None:
        """The job with this id, or None."""
        with self.engine.connect() as conn:
            row = conn.execute(select(campaign_jobs).where(campaign_jobs.c.id == job_id)).mappings().first()
        if row is None:
            return None
        return Job(row["id"], row["topic"], json.loads(row["message"]), row["template"], row["created_at"])

    def claim(self, job_id: str, channel: str, owner: str, limit: int, lease: float, consent: tuple[str, str] | None = None) -> list[Recipient]:
        """Lease up to `limit` due rows of one channel (pending, or claimed by a runner whose lease ran out).

        With `consent` (topic, version), each row also says whether the user's consent stood then
        (one query for the batch), so a runner skips withdrawn users without taking a send slot.
        """
        now = self._clock()
        r = campaign_recipients.c
        due = and_(
            r.campaign == job_id,
            r.channel == channel,
            or_(
                and_(r.status == "pending", r.next_at <= now),
                and_(r.status == "claimed", r.lease_until < now),
            ),
        )
        pick = select(r.id).where(due).order_by(r.id).limit(limit)
        claim = update(campaign_recipients).values(status="claimed", lease_owner=owner, lease_until=now + lease)
        claim = claim.returning(r.id, r.user_id, r.channel, r.lang, r.attempts)
        with self._write() as conn:
            if self.engine.dialect.name == "postgresql":
                # Lock the picked rows first, then update exactly those: as one statement, concurrent
                # claims would re-run the SKIP LOCKED subquery on every conflict (EvalPlanQual).
                ids = list(conn.execute(pick.with_for_update(skip_locked=True)).scalars())
                rows = conn.execute(claim.where(r.id.in_(ids))).all() if ids else []
            else:
                # One UPDATE ... RETURNING: SQLite takes its write lock at once (no read-then-write upgrade).
                rows = conn.execute(claim.where(r.id.in_(pick.scalar_subquery()), due)).all()
        if not rows:
            return []
        keys = [(row.user_id, row.channel) for row in rows]
        with self.engine.connect() as conn:
            contact = _last_contact(conn, keys)
            notified = _notified(conn, keys)
            standing = _standing(conn, keys, *consent) if consent else None
        out = []
        for row in sorted(rows, key=lambda x: x.id):
            key = (row.user_id, row.channel)
            last_at, lang = contact.get(key, (None, None))
            stands = standing is None or key in standing
            out.append(Recipient(row.id, row.user_id, row.channel, lang or row.lang, row.attempts, last_at, key in notified, stands))
        return out

    def channels(self, job_id: str) -> list[str]:
        """The channels with open rows in the job."""
        r = campaign_recipients.c
        with self.engine.connect() as conn:
            return list(conn.execute(select(r.channel).where(r.campaign == job_id, r.status.in_(OPEN)).distinct()).scalars())

    def start_sending(self, rows: Sequence[int], owner: str, topic: str, version: str) -> set[int]:
        """Mark this runner's rows as being sent where the user's consent for `topic` at `version` still stands.

        One statement reads the consents and marks the rows, committed before their send; a row
        already marked by this runner (not sent: its slot was missed, or "too fast") is read again
        the same way. Returns the rows marked (not those whose consent is gone, or that are no
        longer ours: taken over, settled in doubt, or erased).
        """
        if not rows:
            return set()
        r = campaign_recipients.c
        e = consent_events.c
        latest = select(e.state, e.version).where(e.user_id == r.user_id, e.channel == r.channel, e.topic == topic).order_by(e.id.desc()).limit(1)
        standing = and_(latest.with_only_columns(e.state).scalar_subquery() == "granted", latest.with_only_columns(e.version).scalar_subquery() == version)
        mark = (
            update(campaign_recipients)
            .where(r.id.in_(rows), r.status.in_(("claimed", "sending")), r.lease_owner == owner, standing)
            .values(status="sending")
            .returning(r.id)
        )
        with self._write() as conn:
            return set(conn.execute(mark).scalars())

    def settle(self, outcomes: Sequence[Outcome], owner: str, topic: str, campaign: str) -> None:
        """Record how sends ended, with their delivery records, in one transaction."""
        if not outcomes:
            return
        now = self._clock()
        r = campaign_recipients.c
        ours = and_(r.id == bindparam("row"), r.lease_owner == owner)
        free: dict[str, Any] = {"lease_owner": None, "lease_until": None, "status": bindparam("new_status"), "detail": bindparam("new_detail")}
        final = update(campaign_recipients).where(ours).values(**free, why=bindparam("new_why"), done_at=now)
        again = update(campaign_recipients).where(ours).values(**free, why=None, next_at=bindparam("new_next_at"), attempts=r.attempts + 1)
        settled = [{"row": o.row, "new_status": o.status, "new_why": o.why, "new_detail": o.detail} for o in outcomes if o.status != "pending"]
        put_back = [{"row": o.row, "new_status": o.status, "new_detail": o.detail, "new_next_at": o.next_at} for o in outcomes if o.status == "pending"]
        with self._write() as conn:
            for statement, params in ((final, settled), (again, put_back)):
                if params:
                    conn.execute(statement, params)  # executemany
            deliveries = [{**o.delivery, "campaign": campaign, "topic": topic, "at": now} for o in outcomes if o.delivery]
            if deliveries:
                conn.execute(insert(campaign_deliveries), deliveries)

    def renew(self, owner: str, lease: float) -> None:
        """Extend the lease of every row this runner holds."""
        r = campaign_recipients.c
        with self._write() as conn:
            conn.execute(
                update(campaign_recipients).where(r.lease_owner == owner, r.status.in_(("claimed", "sending"))).values(lease_until=self._clock() + lease)
            )

    def release(self, owner: str) -> None:
        """Give back claimed rows not yet sent (a clean stop), so another runner continues at once."""
        r = campaign_recipients.c
        with self._write() as conn:
            conn.execute(
                update(campaign_recipients).where(r.lease_owner == owner, r.status == "claimed").values(status="pending", lease_owner=None, lease_until=None)
            )

    def settle_in_doubt(self, job_id: str, channel: str) -> int:
        """Settle rows whose runner died during their send as failed `in_doubt`; returns how many."""
        r = campaign_recipients.c
        with self._write() as conn:
            return int(
                conn.execute(
                    update(campaign_recipients)
                    .where(r.campaign == job_id, r.channel == channel, r.status == "sending", r.lease_until < self._clock())
                    .values(status="failed", why="in_doubt", detail=FAIL_REASONS["in_doubt"], lease_owner=None, lease_until=None, done_at=self._clock())
                ).rowcount
            )

    def next_due(self, job_id: str, channel: str) -> float | None:
        """When the next open row of a channel can be worked on; None when none is open."""
        r = campaign_recipients.c
        query = select(
            func.min(r.next_at).filter(r.status == "pending"),
            func.min(r.lease_until).filter(r.status.in_(("claimed", "sending"))),
        ).where(r.campaign == job_id, r.channel == channel, r.status.in_(OPEN))
        with self.engine.connect() as conn:
            pending, leased = conn.execute(query).one()
        times = [t for t in (pending, leased) if t is not None]
        return min(times) if times else None

    def status(self, job_id: str) -> CampaignStatus:
        """Counts of sent, skipped and failed (by reason) and remaining rows.

        Raises:
            ConsentError: no campaign job has this id.
        """
        job = self.get(job_id)
        if job is None:
            raise ConsentError(f"no campaign job {job_id!r}; `botkit campaign send ... --send --id {job_id}` creates it")
        r = campaign_recipients.c
        with self.engine.connect() as conn:
            rows = conn.execute(select(r.status, r.why, func.count()).where(r.campaign == job_id).group_by(r.status, r.why)).all()
        return _counted(job_id, job.topic, [(status, why, n) for status, why, n in rows])

    def progress(self) -> list[CampaignStatus]:
        """The counts of every job that has recipient rows, in one query (for `/metrics`)."""
        r, j = campaign_recipients.c, campaign_jobs.c
        query = (
            select(r.campaign, j.topic, r.status, r.why, func.count())
            .join_from(campaign_recipients, campaign_jobs, j.id == r.campaign)
            .group_by(r.campaign, j.topic, r.status, r.why)
        )
        by_job: dict[tuple[str, str], list[tuple[str, str | None, int]]] = {}
        with self.engine.connect() as conn:
            for campaign, topic, status, why, n in conn.execute(query):
                by_job.setdefault((campaign, topic), []).append((status, why, n))
        return [_counted(campaign, topic, rows) for (campaign, topic), rows in sorted(by_job.items())]


def _counted(job_id: str, topic: str, rows: list[tuple[str, str | None, int]]) -> CampaignStatus:
    """A job's status from its (status, why, count) groups."""
    counts: dict[str, dict[str, int]] = {"skipped": {}, "failed": {}}
    sent = remaining = 0
    for status, why, n in rows:
        if status == "sent":
            sent += n
        elif status in OPEN:
            remaining += n
        else:
            counts[status][why or "unknown"] = counts[status].get(why or "unknown", 0) + n
    total = sent + remaining + sum(counts["skipped"].values()) + sum(counts["failed"].values())
    return CampaignStatus(job_id, topic, total, sent, counts["skipped"], counts["failed"], remaining)


def _last_contact(conn: Connection, keys: list[tuple[str, str]]) -> dict[tuple[str, str], tuple[float | None, str | None]]:
    """Each (user, channel)'s latest message time and language, from their conversations."""
    if not keys:
        return {}
    c = conversations.c
    rows = conn.execute(select(c.user_id, c.channel, c.last_user_at, c.lang).where(c.user_id.in_({u for u, _ in keys}))).all()
    out: dict[tuple[str, str], tuple[float | None, str | None]] = {}
    for row in rows:
        key = (row.user_id, row.channel)
        if key not in out or (row.last_user_at or 0) > (out[key][0] or 0):
            out[key] = (row.last_user_at, row.lang)
    return out


def _standing(conn: Connection, keys: list[tuple[str, str]], topic: str, version: str) -> set[tuple[str, str]]:
    """The (user, channel)s whose latest consent event for `topic` is a grant of `version`."""
    e = consent_events.c
    query = select(e.user_id, e.channel, e.state, e.version).where(e.topic == topic, e.user_id.in_({u for u, _ in keys})).order_by(e.id)
    latest = {(row.user_id, row.channel): (row.state, row.version) for row in conn.execute(query)}
    return {key for key in keys if latest.get(key) == ("granted", version)}


def _notified(conn: Connection, keys: list[tuple[str, str]]) -> set[tuple[str, str]]:
    """The (user, channel)s an earlier marketing message with the Art. 21(4) objection notice reached."""
    if not keys:
        return set()
    d = campaign_deliveries.c
    rows = conn.execute(
        select(d.user_id, d.channel).where(d.user_id.in_({u for u, _ in keys}), d.objection_notice == 1, d.status == "delivered").distinct()
    ).all()
    return {(row.user_id, row.channel) for row in rows}
