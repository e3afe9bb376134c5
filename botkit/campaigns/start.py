"""Create a campaign job: one recipient row per (user, channel) whose consent for the topic stands."""

from __future__ import annotations

from collections.abc import Mapping

from botkit.campaigns.jobs import CampaignJobs, Job
from botkit.consent.campaign import message_texts
from botkit.consent.ledger import ConsentLedger


def start_campaign(
    ledger: ConsentLedger,
    jobs: CampaignJobs,
    job_id: str,
    topic_id: str,
    message: str | Mapping[str, str],
    *,
    whatsapp_template: str | None = None,
) -> Job:
    """Create the job (or return the existing one with this id, to resume it).

    Consent is read again right before each send; this only decides who is in the job.

    Raises:
        ConsentError: unknown topic, empty message, or the id is taken by another campaign.
    """
    topic = ledger.topic(topic_id)
    texts = message_texts(topic.id, message)
    existing = jobs.get(job_id)
    if existing is not None:
        return jobs.create(job_id, topic.id, texts, whatsapp_template, [])
    grants = ledger.granted_users(topic.id)
    return jobs.create(job_id, topic.id, texts, whatsapp_template, [(g.user_id, g.channel, g.lang) for g in grants])
