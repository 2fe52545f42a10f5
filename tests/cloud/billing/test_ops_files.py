"""The alert rules pass ``promtool check rules``; the rules and the Grafana dashboard name only
metrics the proxy exports; the money gauges and ``admin stats`` lines carry the week's figures."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from promptready.cloud.billing.metrics import BillingMetrics
from promptready.cloud.billing.money_report import free_near_allowance, publish_money, stats_lines
from promptready.cloud.billing.settings import VARIABLES
from promptready.cloud.metrics import Metrics
from tests.cloud.billing.conftest import Api
from tests.cloud.billing.scenario import History, buy, spend

RESOURCES = Path(__file__).resolve().parents[3] / "resources" / "cloud"
RULES = RESOURCES / "alerts.rules.yml"
DASHBOARD = RESOURCES / "grafana-dashboard.json"
_METRIC = re.compile(r"\bpromptready_cloud_[a-z0-9_]+")
_SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}


def exported_metrics() -> set[str]:
    """Every series name the proxy's registry (app metrics and billing's) can expose."""
    metrics = Metrics()
    BillingMetrics(metrics.registry)
    names: set[str] = set()
    for family in metrics.registry.collect():
        names |= {family.name + s for s in _SUFFIXES.get(family.type, ("",))}
    return names


def test_promtool_accepts_the_alert_rules() -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed (Debian: apt-get install prometheus)")
    result = subprocess.run(
        [promtool, "check", "rules", str(RULES)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 5 rules found" in result.stdout


def test_the_alert_rules_name_only_exported_metrics() -> None:
    named = set(_METRIC.findall(RULES.read_text()))
    assert named
    assert named <= exported_metrics(), named - exported_metrics()


def test_the_alert_rules_cover_margin_allowance_webhooks_and_metering() -> None:
    text = RULES.read_text()
    assert "promptready_cloud_gross_margin_ratio) < 0.70" in text
    assert "for: 3d" in text
    for metric in (
        "free_devices_near_allowance",
        'webhooks_total{outcome="failed"}',
        "metering_ingest_errors_total",
    ):
        assert metric in text


def test_the_dashboard_parses_and_names_only_exported_metrics() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    named = {m for e in exprs for m in _METRIC.findall(e)}
    assert named <= exported_metrics(), named - exported_metrics()
    titles = " ".join(p["title"] for p in dashboard["panels"]).lower()
    for topic in ("revenue", "cogs", "margin", "requests", "credits"):
        assert topic in titles


async def test_the_money_gauges_show_this_weeks_revenue_cogs_and_margin(api: Api) -> None:
    device = await api.device()
    await buy(api, History(), device, "Bulk", 1500)
    await spend(api, device, 100, Decimal("0.150000"), "gpt-oss-20b")
    metrics = BillingMetrics(CollectorRegistry())
    await publish_money(metrics, api.billing.store, api.billing.card, api.billing.now())
    sample = metrics.registry.get_sample_value
    assert sample("promptready_cloud_revenue_week_usd") == 15.0
    assert sample("promptready_cloud_cogs_week_usd") == 0.15
    assert sample("promptready_cloud_gross_margin_ratio") == 0.99
    lines = await stats_lines(api.billing.store, api.billing.now())
    assert lines[-1].endswith("revenue 15.00 USD, COGS 0.150000 USD, gross margin 99.0%")


async def test_a_free_device_that_used_over_90_percent_is_counted(api: Api) -> None:
    light, heavy = await api.device(), await api.device()
    for device, used in ((light, 5), (heavy, 23)):
        await api.billing.store.credits(device)
        await spend(api, device, used, Decimal("0.000100"), "gpt-oss-20b")
    assert await free_near_allowance(api.billing.store, api.billing.card, api.billing.now()) == 1


def test_the_readme_lists_every_billing_variable_with_its_default() -> None:
    readme = (RESOURCES.parents[1] / "README.md").read_text()
    section = readme[readme.index("### Billing") :]
    for variable in VARIABLES:
        default = f"`{variable.default}`" if variable.default else "unset"
        assert f"| `{variable.env}` | {default} |" in section, variable.env
