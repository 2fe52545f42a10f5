"""The proxy's Prometheus metrics, on a registry of its own (one per app, so tests stay apart).

Counters are per process: with several workers or instances, Prometheus sums the scrapes.
Weekly spend and cap are read from the database at scrape time, so every instance reports
the same shared figures.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

CONTENT_TYPE = CONTENT_TYPE_LATEST


class Metrics:
    """Every metric the proxy exports."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "promptready_cloud_requests",
            "HTTP requests answered, by route and status.",
            ["route", "status"],
            registry=self.registry,
        )
        self.credits_debited = Counter(
            "promptready_cloud_credits_debited",
            "Credits debited from wallets, by cohort.",
            ["cohort"],
            registry=self.registry,
        )
        self.cogs_usd = Counter(
            "promptready_cloud_cogs_usd",
            "Upstream cost of goods sold in USD, by cohort and model.",
            ["cohort", "model"],
            registry=self.registry,
        )
        self.upstream_latency = Histogram(
            "promptready_cloud_upstream_latency_seconds",
            "Time from sending the upstream request to its last byte.",
            ["cohort"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
            registry=self.registry,
        )
        # labels() re-validates and re-joins its values under a lock on every call: the hot
        # counters keep their children here, one dict lookup a request.
        self._answered: dict[tuple[str, int], Any] = {}
        self._latency: dict[str, Any] = {}
        self.weekly_spend = Gauge(
            "promptready_cloud_weekly_spend_usd",
            "This ISO week's committed upstream spend in USD (all instances).",
            registry=self.registry,
        )
        self.weekly_reserved = Gauge(
            "promptready_cloud_weekly_reserved_usd",
            "USD held by open requests this week (all instances).",
            registry=self.registry,
        )
        self.weekly_cap = Gauge(
            "promptready_cloud_weekly_cap_usd",
            "The weekly spend cap in USD.",
            registry=self.registry,
        )

    def request_answered(self, route: str, status: int) -> None:
        """Count one answered request."""
        child = self._answered.get((route, status))
        if child is None:
            child = self._answered[(route, status)] = self.requests.labels(route, str(status))
        child.inc()

    def upstream_took(self, cohort: str, seconds: float) -> None:
        """Record one upstream call's time to its last byte."""
        child = self._latency.get(cohort)
        if child is None:
            child = self._latency[cohort] = self.upstream_latency.labels(cohort)
        child.observe(seconds)

    def charged(self, cohort: str, model: str, credits: int, cost_usd: Decimal) -> None:
        """Count one settled request's credits and upstream cost."""
        if credits:
            self.credits_debited.labels(cohort).inc(credits)
        if cost_usd:
            self.cogs_usd.labels(cohort, model).inc(float(cost_usd))

    def set_week(self, committed: Decimal, reserved: Decimal, cap: Decimal) -> None:
        """Publish the shared weekly figures read for this scrape."""
        self.weekly_spend.set(float(committed))
        self.weekly_reserved.set(float(reserved))
        self.weekly_cap.set(float(cap))

    def render(self) -> bytes:
        """The text exposition format."""
        return generate_latest(self.registry)
