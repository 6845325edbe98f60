"""Scrapes, the seed's alerts on the runtime's metric names, and the Grafana dashboard."""

from __future__ import annotations

import json
import re

from catalog import Catalog
from components.alerts import ALERT_NAMES
from components.dashboard import DASHBOARD_TITLE
from components.observability import Observability, ObservabilityArgs
from components.render import Rendering

from .conftest import render, with_platform

RUNTIME_METRICS = {
    "mcp_requests_total",
    "mcp_request_duration_seconds",
    "mcp_requests_errors_total",
    "mcp_upstream_up",
    "llm_tokens_total",
    "llm_cost_usd_total",
    "llm_request_duration_seconds",
    "mcpfleet_budget_spent_ratio",
    "db_query_duration_seconds",
}
"""The names the runtime exports; anything else in an expression would never match."""
KUBELET_METRICS = {"kubelet_volume_stats_available_bytes", "kubelet_volume_stats_capacity_bytes"}
_PROMQL_WORDS = {"max", "sum", "by", "le", "rate", "increase", "histogram_quantile"}


def _metrics(expr: str) -> set[str]:
    names = set(re.findall(r"\b([a-z_][a-z0-9_]*)\b(?=[\[{(\s)]|$)", expr))
    names = {n.removesuffix("_bucket") for n in names}
    return {n for n in names if "_" in n and n not in _PROMQL_WORDS}


def _render(catalog: Catalog) -> Rendering:
    return render(lambda: Observability("obs", ObservabilityArgs(catalog, "mcp-system")))


def test_each_runtime_service_is_scraped_on_its_metrics_port(shipped: Catalog) -> None:
    rendering = _render(shipped)
    monitors = {m.object_name: m.manifest["spec"] for m in rendering.of_kind("ServiceMonitor")}
    assert set(monitors) == {
        "mcpfleet-gateway",
        "mcpfleet-triage",
        "mcpfleet-router",
        "mcpfleet-discovery",
    }
    assert monitors["mcpfleet-gateway"]["endpoints"] == [
        {"port": "metrics", "path": "/metrics", "interval": "30s"}
    ]
    assert monitors["mcpfleet-router"]["endpoints"][0]["port"] == "http"


def test_the_four_seed_alerts_use_only_metrics_the_runtime_exports(shipped: Catalog) -> None:
    spec = _render(shipped).find("PrometheusRule", "mcpfleet-alerts").manifest["spec"]
    rules = {r["alert"]: r for group in spec["groups"] for r in group["rules"]}
    assert tuple(rules) == ALERT_NAMES
    for rule in rules.values():
        used = _metrics(rule["expr"])
        assert used, rule["expr"]
        assert used <= RUNTIME_METRICS | KUBELET_METRICS, (rule["alert"], used)
    assert rules["HighAICost"]["expr"] == "max(mcpfleet_budget_spent_ratio) > 0.8"
    assert "mcpfleet-postgres" in rules["VectorDBDiskFull"]["expr"]


def test_the_dashboard_is_a_sidecar_configmap_covering_every_runtime_metric(
    shipped: Catalog,
) -> None:
    config_map = _render(shipped).find("ConfigMap", "mcpfleet-dashboard").manifest
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    dashboard = json.loads(config_map["data"]["mcp-infrastructure-overview.json"])
    assert dashboard["title"] == DASHBOARD_TITLE == "MCP Infrastructure Overview"
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    used = set().union(*(_metrics(e) for e in exprs))
    assert used == RUNTIME_METRICS


def test_victoriametrics_gets_vm_scrapes_and_a_vmrule_instead(shipped: Catalog) -> None:
    rendering = _render(with_platform(shipped, observability={"flavour": "victoriametrics"}))
    assert rendering.of_kind("ServiceMonitor") == []
    assert len(rendering.of_kind("VMServiceScrape")) == 4
    rule = rendering.find("VMRule", "mcpfleet-alerts")
    assert rule.api_version == "operator.victoriametrics.com/v1beta1"


def test_dashboards_off_means_no_dashboard(shipped: Catalog) -> None:
    rendering = _render(with_platform(shipped, observability={"dashboards": False}))
    assert rendering.of_kind("ConfigMap") == []
