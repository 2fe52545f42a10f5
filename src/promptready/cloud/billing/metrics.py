"""Billing's Prometheus metrics, on the app's registry (``Metrics.registry``).

The money gauges hold the current ISO week's figures from the database, set at scrape time by
``publish_money`` (every instance reports the same shared numbers); the counters are per process.
``resources/cloud/alerts.rules.yml`` and ``grafana-dashboard.json`` name these metrics.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge

from promptready.cloud.billing.revenue import WeekMoney


class BillingMetrics:
    """Webhook outcomes, auto-reloads, the metering export and the week's money."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.webhooks = Counter(
            "promptready_cloud_billing_webhooks",
            "Stripe webhooks received, by outcome (applied, replayed, pending, ignored, review, "
            "deferred: its purchase not seen yet, refused: not from Stripe, failed: 5xx).",
            ["outcome"],
            registry=registry,
        )
        self.reloads = Counter(
            "promptready_cloud_billing_reloads",
            "Auto-reload charges attempted, by outcome (charged, declined, authentication).",
            ["outcome"],
            registry=registry,
        )
        self.metering_sent = Counter(
            "promptready_cloud_metering_events_sent",
            "Usage events accepted by the metering ingest.",
            registry=registry,
        )
        self.metering_errors = Counter(
            "promptready_cloud_metering_ingest_errors",
            "Metering ingest batches that failed (the events stay in the outbox and are retried).",
            registry=registry,
        )
        self.revenue = Gauge(
            "promptready_cloud_revenue_week_usd",
            "Revenue this ISO week in USD: payments less refunds and lost disputes.",
            registry=registry,
        )
        self.cogs = Gauge(
            "promptready_cloud_cogs_week_usd",
            "Upstream cost this ISO week in USD (all instances).",
            registry=registry,
        )
        self.margin = Gauge(
            "promptready_cloud_gross_margin_ratio",
            "Gross margin this ISO week: (revenue - COGS) / revenue; 1 with neither.",
            registry=registry,
        )
        self.free_near_allowance = Gauge(
            "promptready_cloud_free_devices_near_allowance",
            "Free-plan devices that have used more than 90% of this month's free allowance.",
            registry=registry,
        )

    def publish(self, week: WeekMoney, free_near_allowance: int) -> None:
        """Set the shared figures read for this scrape."""
        self.revenue.set(float(week.revenue_usd))
        self.cogs.set(float(week.cogs_usd))
        self.margin.set(float(week.margin))
        self.free_near_allowance.set(free_near_allowance)
