"""Campaign progress for `/metrics`: gauges read from the database at scrape time.

Every process that serves `/metrics` reports the same numbers, whichever process sent: they
are counted from the recipient rows (`CampaignJobs.progress`), not kept in memory.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine

from botkit.campaigns.jobs import CampaignJobs


class CampaignCollector(Collector):
    """`botkit_campaign_recipients{campaign, state, reason}`: sent, skipped and failed by reason, and remaining, per job."""

    def __init__(self, engine: Engine) -> None:
        self._jobs = CampaignJobs(engine)

    def describe(self) -> list[Metric]:
        return []  # collected only on scrape: no database query at registration

    def collect(self) -> Iterator[Metric]:
        gauge = GaugeMetricFamily(
            "botkit_campaign_recipients",
            "Campaign job recipients by state (sent, skipped, failed, remaining) and reason, read from the database",
            labels=["campaign", "state", "reason"],
        )
        for status in self._jobs.progress():
            gauge.add_metric([status.campaign, "sent", ""], status.sent)
            gauge.add_metric([status.campaign, "remaining", ""], status.remaining)
            for state, reasons in (("skipped", status.skipped), ("failed", status.failed)):
                for reason, n in sorted(reasons.items()):
                    gauge.add_metric([status.campaign, state, reason], n)
        yield gauge
