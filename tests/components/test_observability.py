"""Scrapes, the seed's alerts on the runtime's metric names, and the Grafana dashboard."""

from __future__ import annotations

import json
import re
from typing import Any

from catalog import Catalog
from catalog.naming import runtime_resource_name
from components.alerts import ALERT_NAMES, database_claims
from components.dashboard import DASHBOARD_TITLE
from components.observability import Observability, ObservabilityArgs
from components.render import Rendering
from runtime.telemetry import OLLAMA_BUCKETS

from .conftest import render, with_platform
from .exported_metrics import KUBELET, exported_series, promql_metric_names


def _render(catalog: Catalog) -> Rendering:
    return render(lambda: Observability("obs", ObservabilityArgs(catalog, "mcp-system")))


def test_each_runtime_service_is_scraped_on_its_metrics_port(shipped: Catalog) -> None:
    rendering = _render(shipped)
    monitors = {m.object_name: m.manifest["spec"] for m in rendering.of_kind("ServiceMonitor")}
    assert set(monitors) == {
        "mcp-gateway",
        "mcp-triage",
        "multi-model-router",
        "discovery-service",
    }
    assert monitors["mcp-gateway"]["endpoints"] == [
        {"port": "metrics", "path": "/metrics", "interval": "30s"}
    ]
    assert monitors["multi-model-router"]["endpoints"][0]["port"] == "http"


def _rules(catalog: Catalog) -> dict[str, dict[str, Any]]:
    spec = _render(catalog).find("PrometheusRule", "mcpfleet-alerts").manifest["spec"]
    return {r["alert"]: r for group in spec["groups"] for r in group["rules"]}


def _dashboard_exprs(catalog: Catalog) -> list[str]:
    config_map = _render(catalog).find("ConfigMap", "mcpfleet-dashboard").manifest
    dashboard = json.loads(config_map["data"]["mcp-infrastructure-overview.json"])
    return [t["expr"] for p in dashboard["panels"] for t in p["targets"]]


def test_the_four_alerts_have_the_seeds_thresholds_windows_and_severities(
    shipped: Catalog,
) -> None:
    rules = _rules(shipped)
    assert tuple(rules) == ALERT_NAMES
    summary = {name: (r["for"], r["labels"]["severity"]) for name, r in rules.items()}
    assert summary == {
        "MCPServerDown": ("5m", "critical"),
        "LLMHighLatency": ("10m", "warning"),
        "VectorDBDiskFull": ("5m", "critical"),
        "HighAICost": ("1h", "warning"),
    }
    assert rules["MCPServerDown"]["expr"] == "max by (server) (mcp_upstream_up) == 0"
    assert rules["LLMHighLatency"]["expr"] == (
        "histogram_quantile(0.95, rate(ollama_request_duration_seconds_bucket[5m])) > 30"
    )
    disk = rules["VectorDBDiskFull"]["expr"]
    assert disk.startswith("kubelet_volume_stats_available_bytes{")
    assert disk.endswith("< 0.1")
    assert rules["HighAICost"]["expr"] == "sum(increase(llm_cost_usd_total[1d])) > 10"


def test_the_disk_alert_matches_the_claims_both_database_engines_create(
    shipped: Catalog,
) -> None:
    pattern = re.compile(f"^(?:{database_claims()})$")
    assert pattern.match("data-postgres-vector-db-0")  # the StatefulSet's volumeClaimTemplate
    assert pattern.match("postgres-vector-db-1")  # CloudNativePG's first instance
    assert not pattern.match("ollama-triage-models")
    assert database_claims() in _rules(shipped)["VectorDBDiskFull"]["expr"]


def test_every_series_in_the_alerts_and_the_dashboard_is_exported_by_a_scraped_service(
    shipped: Catalog,
) -> None:
    exported = exported_series()
    everything = set().union(*exported.values()) | KUBELET
    exprs = [r["expr"] for r in _rules(shipped).values()] + _dashboard_exprs(shipped)
    for expr in exprs:
        used = promql_metric_names(expr)
        assert used, expr
        assert used <= everything, (expr, used - everything)
    scraped = {m.object_name for m in _render(shipped).of_kind("ServiceMonitor")}
    assert scraped == {runtime_resource_name(s) for s in exported}


def test_ollama_latency_is_exported_where_ollama_is_called(shipped: Catalog) -> None:
    exported = exported_series()
    # the router's Ollama provider and triage (in the gateway pod, or on its own) observe it
    for service in ("gateway", "router", "triage"):
        assert "ollama_request_duration_seconds_bucket" in exported[service], service
        assert "pgvector_query_duration_seconds_bucket" in exported[service], service
    # with buckets on both sides of the alert's 30 s, its p95 can be seen above 30 s
    assert {20.0, 30.0, 45.0} <= set(OLLAMA_BUCKETS)


def test_the_dashboard_has_the_seeds_panels_on_exported_series(shipped: Catalog) -> None:
    config_map = _render(shipped).find("ConfigMap", "mcpfleet-dashboard").manifest
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    dashboard = json.loads(config_map["data"]["mcp-infrastructure-overview.json"])
    assert dashboard["title"] == DASHBOARD_TITLE == "MCP Infrastructure Overview"
    titles = [p["title"] for p in dashboard["panels"]]
    assert "PR automation success rate" in titles
    assert "p99 vector search latency by table" in titles
    used = set().union(*(promql_metric_names(e) for e in _dashboard_exprs(shipped)))
    assert "db_query_duration_seconds_bucket" not in used
    assert {
        "mcp_upstream_up",
        "mcp_requests_total",
        "mcp_request_duration_seconds_bucket",
        "mcp_requests_errors_total",
        "llm_tokens_total",
        "llm_cost_usd_total",
        "pgvector_query_duration_seconds_bucket",
        "ollama_request_duration_seconds_bucket",
        "mcpfleet_discovery_proposals_total",
    } <= used


def test_victoriametrics_gets_vm_scrapes_and_a_vmrule_instead(shipped: Catalog) -> None:
    rendering = _render(with_platform(shipped, observability={"flavour": "victoriametrics"}))
    assert rendering.of_kind("ServiceMonitor") == []
    assert len(rendering.of_kind("VMServiceScrape")) == 4
    rule = rendering.find("VMRule", "mcpfleet-alerts")
    assert rule.api_version == "operator.victoriametrics.com/v1beta1"


def test_dashboards_off_means_no_dashboard(shipped: Catalog) -> None:
    rendering = _render(with_platform(shipped, observability={"dashboards": False}))
    assert rendering.of_kind("ConfigMap") == []
