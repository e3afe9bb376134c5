"""Campaigns: send a marketing message for a topic to exactly the users who consented to it.

Who can be reached also depends on the platform's rules for business-initiated messages,
which each platform module states (`Platform.reach`, platform-rules.md §3): e.g. WhatsApp
allows free text only within 24 hours of the user's last message and an approved template
after that. Every user who cannot be reached is reported with the reason. This module sends
through a function you pass; `botkit.campaigns` runs a campaign as a resumable job in the
database through the platforms' send APIs, within their rate limits.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import func, select

from botkit.channels import HouseRules, render
from botkit.consent.flow import say
from botkit.consent.ledger import ConsentEvent, ConsentLedger
from botkit.db import conversations
from botkit.errors import ConfigError, ConsentError
from botkit.platforms import get_platform
from botkit.platforms.outreach import Reach
from botkit.types import Draft, Message, Topic

Sender = Callable[[str, str, Sequence[Message]], "None | Awaitable[None]"]
"""Sends rendered messages: `send(user_id, channel, messages)`; raises to report a failure."""

Status = Literal["delivered", "would_deliver", "skipped", "failed"]


@dataclass(frozen=True)
class CampaignResult:
    """What happened for one consented (user, channel)."""

    user_id: str
    channel: str
    status: Status
    reason: str = ""


@dataclass(frozen=True)
class CampaignReport:
    """The outcome of a campaign for every user with a standing consent for its topic."""

    campaign: str
    topic: str
    dry_run: bool
    results: tuple[CampaignResult, ...]

    @property
    def delivered(self) -> list[CampaignResult]:
        """Delivered, or in a dry run: would be delivered."""
        return [r for r in self.results if r.status in ("delivered", "would_deliver")]

    @property
    def skipped(self) -> list[CampaignResult]:
        """Not reached (with the reason), including failed sends."""
        return [r for r in self.results if r.status in ("skipped", "failed")]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form for the CLI and logs."""
        return {
            "campaign": self.campaign,
            "topic": self.topic,
            "dry_run": self.dry_run,
            "results": [r.__dict__ for r in self.results],
        }


@dataclass(frozen=True)
class _Job:
    user_id: str
    channel: str
    messages: tuple[Message, ...]
    text: str
    notice: bool
    template: str | None


def send_campaign(
    ledger: ConsentLedger,
    topic_id: str,
    message: str | Mapping[str, str],
    *,
    send: Callable[[str, str, Sequence[Message]], None] | None = None,
    campaign: str | None = None,
    whatsapp_template: str | None = None,
    house_rules: HouseRules | None = None,
) -> CampaignReport:
    """Deliver `message` to every user with granted consent for the topic; without `send`, a dry run.

    Args:
        message: the text, or one text per language (the user's language is their last conversation's).
        campaign: an id for the records; a re-run with the same id skips users it already reached.
        whatsapp_template: name of an approved WhatsApp template, used outside the 24-hour window.
    """
    plan = _Plan(ledger, topic_id, message, campaign, whatsapp_template, house_rules, dry_run=send is None)
    for job in plan.jobs():
        if send is None:
            plan.would_deliver(job)
            continue
        try:
            outcome = send(job.user_id, job.channel, job.messages)
        except Exception as exc:  # noqa: BLE001 - one unreachable user must not stop the campaign; recorded as failed
            plan.failed(job, exc)
            continue
        if inspect.isawaitable(outcome):
            _close(outcome)
            raise ConsentError("the sender is asynchronous; call `send_campaign_async` instead")
        plan.delivered(job)
    return plan.report()


async def send_campaign_async(
    ledger: ConsentLedger,
    topic_id: str,
    message: str | Mapping[str, str],
    *,
    send: Sender | None = None,
    campaign: str | None = None,
    whatsapp_template: str | None = None,
    house_rules: HouseRules | None = None,
) -> CampaignReport:
    """`send_campaign` for a sender that may be a coroutine function (the webhook's)."""
    plan = _Plan(ledger, topic_id, message, campaign, whatsapp_template, house_rules, dry_run=send is None)
    for job in plan.jobs():
        if send is None:
            plan.would_deliver(job)
            continue
        try:
            outcome = send(job.user_id, job.channel, job.messages)
            if inspect.isawaitable(outcome):
                await outcome
        except Exception as exc:  # noqa: BLE001 - one unreachable user must not stop the campaign; recorded as failed
            plan.failed(job, exc)
            continue
        plan.delivered(job)
    return plan.report()


def compose(channel: str, body: str, lang: str, notice: bool, reach: Reach, rules: HouseRules | None) -> tuple[str, tuple[Message, ...]]:
    """The text on record and the messages of one campaign send: rendered for the channel, or the platform's template.

    The Art. 21(4) objection notice goes with the first marketing message to a user; later ones carry a STOP hint.
    """
    text = f"{body}\n\n{say('objection_notice' if notice else 'stop_hint', lang)}"
    messages = get_platform(channel).initiate(render(channel, Draft(text), rules), reach, lang)
    return text, tuple(messages)


def consent_problem(ledger: ConsentLedger, user_id: str, channel: str, topic: Topic) -> tuple[str, str] | None:
    """Why the user's consent does not (or no longer) cover the topic: (kind, reason); None when it does.

    kind is "no_consent" (given for an older wording version) or "withdrawn" (withdrawn, or erased meanwhile).
    """
    current = ledger.state(user_id, channel, topic.id)
    if current is not None and current.state == "granted":
        if current.version == topic.version:
            return None
        return "no_consent", f"consent was given for wording version {current.version}, the topic is now at {topic.version}: ask again"
    return "withdrawn", "consent was withdrawn"


def reach_of(channel: str, last_user_at: float | None, now: float, template: str | None) -> Reach:
    """How a business-initiated message reaches a user of `channel` (the platform decides); unknown channels are unreachable."""
    try:
        platform = get_platform(channel)
    except ConfigError:
        return Reach.not_now("unreachable", f"unknown channel {channel!r}")
    return platform.reach(last_user_at, now, template)


def message_texts(topic_id: str, message: str | Mapping[str, str]) -> dict[str, str]:
    """The campaign text per language ("" for any); an empty message raises `ConsentError`."""
    texts = {"": message} if isinstance(message, str) else dict(message)
    if not any(t.strip() for t in texts.values()):
        raise ConsentError(f"campaign for {topic_id!r} has an empty message; nothing to send")
    return texts


def pick_text(texts: Mapping[str, str], lang: str) -> str:
    """The text in the user's language, else the first non-empty one."""
    return texts.get(lang) or next(t for t in texts.values() if t.strip())


class _Plan:
    """Shared by the sync and async senders: who gets what, and the bookkeeping afterwards."""

    def __init__(
        self,
        ledger: ConsentLedger,
        topic_id: str,
        message: str | Mapping[str, str],
        campaign: str | None,
        whatsapp_template: str | None,
        house_rules: HouseRules | None,
        *,
        dry_run: bool,
    ) -> None:
        self.ledger = ledger
        self.topic: Topic = ledger.topic(topic_id)
        self.texts = message_texts(topic_id, message)
        self.campaign = campaign or f"{topic_id}@{int(ledger.now())}"
        self.template = whatsapp_template
        self.rules = house_rules
        self.dry_run = dry_run
        self.results: list[CampaignResult] = []

    def jobs(self) -> Iterator[_Job]:
        for grant in self.ledger.granted_users(self.topic.id):
            job = self._job(grant)
            if job is not None:
                yield job

    def _job(self, grant: ConsentEvent) -> _Job | None:
        user, channel = grant.user_id, grant.channel
        # Consent is read again right before sending: a withdrawal during a long campaign counts.
        problem = consent_problem(self.ledger, user, channel, self.topic)
        if problem is not None:
            self._skip(user, channel, problem[1])
            return None
        if self.ledger.delivered(self.campaign, user, channel):
            self._skip(user, channel, f"already delivered in campaign {self.campaign}")
            return None
        last_user_at, lang = self._last_contact(user, channel)
        lang = lang or grant.lang or next(iter(self.topic.title), "en")
        reach = reach_of(channel, last_user_at, self.ledger.now(), self.template)
        if reach.mode is None:
            self._skip(user, channel, reach.reason)
            return None
        notice = not self.ledger.notified(user, channel)
        text, messages = compose(channel, pick_text(self.texts, lang), lang, notice, reach, self.rules)
        return _Job(user, channel, messages, text, notice, reach.template)

    def _last_contact(self, user_id: str, channel: str) -> tuple[float | None, str | None]:
        query = (
            select(conversations.c.last_user_at, conversations.c.lang)
            .where(conversations.c.user_id == user_id, conversations.c.channel == channel)
            .order_by(func.coalesce(conversations.c.last_user_at, 0).desc())
            .limit(1)
        )
        with self.ledger.engine.connect() as conn:
            row = conn.execute(query).first()
        return (row[0], row[1]) if row else (None, None)

    def _skip(self, user_id: str, channel: str, reason: str) -> None:
        self.results.append(CampaignResult(user_id, channel, "skipped", reason))
        return None

    def would_deliver(self, job: _Job) -> None:
        how = f"as template {job.template}" if job.template else f"{len(job.messages)} message(s)"
        self.results.append(CampaignResult(job.user_id, job.channel, "would_deliver", how))

    def delivered(self, job: _Job) -> None:
        detail = f"template {job.template}" if job.template else None
        self.ledger.record_delivery(self.campaign, self.topic.id, job.user_id, job.channel, job.text, objection_notice=job.notice, detail=detail)
        self.results.append(CampaignResult(job.user_id, job.channel, "delivered", detail or ""))

    def failed(self, job: _Job, exc: Exception) -> None:
        reason = f"sending failed: {exc}"
        self.ledger.record_delivery(self.campaign, self.topic.id, job.user_id, job.channel, job.text, objection_notice=False, status="failed", detail=reason)
        self.results.append(CampaignResult(job.user_id, job.channel, "failed", reason))

    def report(self) -> CampaignReport:
        return CampaignReport(self.campaign, self.topic.id, self.dry_run, tuple(self.results))


def _close(awaitable: Awaitable[Any]) -> None:
    # Close an un-awaited coroutine so Python does not warn "coroutine was never awaited".
    close = getattr(awaitable, "close", None)
    if close is not None:
        close()
