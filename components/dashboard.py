"""The Grafana dashboard "MCP Infrastructure Overview", loaded by Grafana's sidecar.

The seed's panels: server health map, request rate and p95 latency per server, errors,
LLM usage and cost with a monthly projection, the budget, LLM and Ollama latency, vector
search latency (the database's performance), and the PR automation success rate. Every
expression reads series the runtime exports (a test holds it to that).
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["DASHBOARD_TITLE", "DASHBOARD_UID", "dashboard_json"]

DASHBOARD_TITLE = "MCP Infrastructure Overview"
DASHBOARD_UID = "mcpfleet-overview"
_DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}


def _panel(
    panel_id: int,
    title: str,
    exprs: list[tuple[str, str]],
    grid: tuple[int, int, int, int],
    *,
    kind: str = "timeseries",
    unit: str = "short",
) -> dict[str, Any]:
    x, y, w, h = grid
    return {
        "id": panel_id,
        "type": kind,
        "title": title,
        "datasource": _DATASOURCE,
        "gridPos": {"x": x, "y": y, "w": w, "h": h},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "targets": [
            {
                "refId": chr(ord("A") + i),
                "expr": expr,
                "legendFormat": legend,
                "datasource": _DATASOURCE,
            }
            for i, (expr, legend) in enumerate(exprs)
        ],
    }


def _p95(metric: str, by: str) -> str:
    return f"histogram_quantile(0.95, sum by (le, {by}) (rate({metric}_bucket[5m])))"


def dashboard_json() -> str:
    """The dashboard as Grafana's JSON model (schema 39), stable across renders."""
    panels = [
        _panel(
            1,
            "Server health",
            [("max by (server) (mcp_upstream_up)", "{{server}}")],
            (0, 0, 8, 8),
            kind="state-timeline",
        ),
        _panel(
            2,
            "Requests per second by server",
            [("sum by (server) (rate(mcp_requests_total[5m]))", "{{server}}")],
            (8, 0, 8, 8),
            unit="reqps",
        ),
        _panel(
            3,
            "p95 tool-call latency by server",
            [(_p95("mcp_request_duration_seconds", "server"), "{{server}}")],
            (16, 0, 8, 8),
            unit="s",
        ),
        _panel(
            4,
            "Errors per second by server and tool",
            [
                (
                    "sum by (server, tool) (rate(mcp_requests_errors_total[5m]))",
                    "{{server}} {{tool}}",
                )
            ],
            (0, 8, 8, 8),
            unit="reqps",
        ),
        _panel(
            5,
            "LLM tokens per second",
            [("sum by (model, direction) (rate(llm_tokens_total[5m]))", "{{model}} {{direction}}")],
            (8, 8, 8, 8),
        ),
        _panel(
            6,
            "LLM cost, last 24 h",
            [("sum by (model) (increase(llm_cost_usd_total[24h]))", "{{model}}")],
            (16, 8, 8, 8),
            kind="bargauge",
            unit="currencyUSD",
        ),
        _panel(
            7,
            "Daily budget spent",
            [("max(mcpfleet_budget_spent_ratio)", "spent")],
            (0, 16, 8, 8),
            kind="gauge",
            unit="percentunit",
        ),
        _panel(
            8,
            "p95 LLM latency by model",
            [(_p95("llm_request_duration_seconds", "model"), "{{model}}")],
            (8, 16, 8, 8),
            unit="s",
        ),
        _panel(
            9,
            "p99 vector search latency by table",
            [
                (
                    "histogram_quantile(0.99, sum by (le, table) "
                    "(rate(pgvector_query_duration_seconds_bucket[5m])))",
                    "{{table}}",
                )
            ],
            (16, 16, 8, 8),
            unit="s",
        ),
        _panel(
            10,
            "p95 Ollama latency by caller",
            [(_p95("ollama_request_duration_seconds", "caller, model"), "{{caller}} {{model}}")],
            (0, 24, 8, 8),
            unit="s",
        ),
        _panel(
            11,
            "LLM cost projected over 30 days",
            [("sum(rate(llm_cost_usd_total[1d])) * 86400 * 30", "projected")],
            (8, 24, 8, 8),
            kind="stat",
            unit="currencyUSD",
        ),
        _panel(
            12,
            "PR automation success rate",
            [
                (
                    'sum(increase(mcpfleet_discovery_proposals_total{status!="error"}[1d])) / '
                    "sum(increase(mcpfleet_discovery_proposals_total[1d]))",
                    "succeeded",
                )
            ],
            (16, 24, 8, 8),
            kind="stat",
            unit="percentunit",
        ),
    ]
    dashboard = {
        "uid": DASHBOARD_UID,
        "title": DASHBOARD_TITLE,
        "tags": ["mcpfleet", "mcp"],
        "timezone": "browser",
        "schemaVersion": 39,
        "version": 1,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {
            "list": [
                {
                    "name": "datasource",
                    "type": "datasource",
                    "query": "prometheus",
                    "label": "Data source",
                }
            ]
        },
        "panels": panels,
    }
    return json.dumps(dashboard, indent=2, sort_keys=True)
