"""Prometheus metrics of one webhook app: counters where things happen, queue gauges read at scrape time."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func, select

from botkit.campaigns.metrics import CampaignCollector
from botkit.db import handovers, webhook_inbox, webhook_outbox

CONTENT_TYPE = CONTENT_TYPE_LATEST
_UNSENT = ("pending", "sending")
_LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    """The metrics of one app, in a registry of its own (several apps in one process do not collide)."""

    def __init__(self, engine: Engine, clock: Callable[[], float]) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.inbound = Counter("botkit_inbound_events", "Webhook events by platform and outcome", ["platform", "outcome"], registry=self.registry)
        self.replies = Counter("botkit_replies", "Bot replies by decision and reason", ["decision", "reason"], registry=self.registry)
        self.sends = Counter("botkit_sends", "Send-API calls by platform and final status", ["platform", "status"], registry=self.registry)
        self.reply_seconds = Histogram("botkit_reply_seconds", "Time to make one bot reply", buckets=_LATENCY_BUCKETS, registry=self.registry)
        self.send_seconds = Histogram(
            "botkit_send_seconds", "Time of one send-API call with its retries", ["platform"], buckets=_LATENCY_BUCKETS, registry=self.registry
        )
        self.registry.register(_QueueCollector(engine, clock))
        self.registry.register(CampaignCollector(engine))

    def count_inbound(self, platform: str, outcome: str, n: int = 1) -> None:
        """`n` events of `platform` ended as `outcome` (accepted, duplicate, ignored or a refusal)."""
        if n:
            self.inbound.labels(platform, outcome).inc(n)

    def observe_reply(self, decision: str, reason: str, seconds: float) -> None:
        self.replies.labels(decision, reason).inc()
        self.reply_seconds.observe(seconds)

    def observe_send(self, platform: str, status: str, seconds: float) -> None:
        self.sends.labels(platform, status).inc()
        self.send_seconds.labels(platform).observe(seconds)

    def exposition(self) -> bytes:
        """The registry in the Prometheus text format."""
        return generate_latest(self.registry)


class _QueueCollector(Collector):
    """Queue depth, the oldest pending event's age and handovers by state, read from the database per scrape."""

    def __init__(self, engine: Engine, clock: Callable[[], float]) -> None:
        self._engine = engine
        self._clock = clock

    def describe(self) -> list[Metric]:
        return []  # collected only on scrape: no database query at registration

    def collect(self) -> Iterator[Metric]:
        depth = GaugeMetricFamily("botkit_queue_depth", "Events and sends not yet done", labels=["queue"])
        oldest = GaugeMetricFamily("botkit_queue_oldest_age_seconds", "Age of the oldest pending inbound event")
        states = GaugeMetricFamily("botkit_handovers", "Handovers by state", labels=["state"])
        i, o, h = webhook_inbox, webhook_outbox, handovers
        with self._engine.connect() as conn:
            inbox, first = conn.execute(select(func.count(), func.min(i.c.received_at)).where(i.c.status == "pending")).one()
            outbox = conn.execute(select(func.count()).select_from(o).where(o.c.status.in_(_UNSENT))).scalar_one()
            by_state: dict[str, int] = dict(conn.execute(select(h.c.status, func.count()).group_by(h.c.status)).all())
        depth.add_metric(["inbox"], int(inbox))
        depth.add_metric(["outbox"], int(outbox))
        oldest.add_metric([], max(0.0, self._clock() - first) if first is not None else 0.0)
        for state in ("waiting", "with_person", "released"):
            states.add_metric([state], int(by_state.get(state, 0)))
        yield from (depth, oldest, states)
