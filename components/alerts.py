"""The seed's alert rules, written against the metric names the runtime exports.

Metric names are the runtime's contract: ``mcp_upstream_up{server}``,
``llm_request_duration_seconds{model}`` (histogram), ``mcpfleet_budget_spent_ratio`` and,
for the database volume, the kubelet's ``kubelet_volume_stats_*``.
"""

from __future__ import annotations

from catalog.model import Catalog
from catalog.naming import database_resource_name
from components.meta import Manifest

__all__ = ["ALERT_NAMES", "alert_groups"]

ALERT_NAMES = ("MCPServerDown", "LLMHighLatency", "VectorDBDiskFull", "HighAICost")
_LLM_P95_SECONDS = 10
_DISK_FREE_RATIO = 0.10


def _rule(alert: str, expr: str, for_: str, severity: str, summary: str, text: str) -> Manifest:
    return {
        "alert": alert,
        "expr": expr,
        "for": for_,
        "labels": {"severity": severity, "app.kubernetes.io/part-of": "mcpfleet"},
        "annotations": {"summary": summary, "description": text},
    }


def alert_groups(catalog: Catalog) -> list[Manifest]:
    """One rule group; thresholds come from the catalog where it has them (the budget)."""
    budget = catalog.models.budget
    pvc = f"(data-)?{database_resource_name()}(-[0-9]+)?"
    volume = f'persistentvolumeclaim=~"{pvc}", namespace="{catalog.platform.namespace.name}"'
    rules = [
        _rule(
            "MCPServerDown",
            "max by (server) (mcp_upstream_up) == 0",
            "2m",
            "critical",
            "MCP server {{ $labels.server }} is down",
            "The gateway's health checks have failed for {{ $labels.server }} for 2 minutes; "
            "its tools are not offered. See docs/operations.md#an-mcp-server-is-down.",
        ),
        _rule(
            "LLMHighLatency",
            "histogram_quantile(0.95, sum by (le, model) "
            f"(rate(llm_request_duration_seconds_bucket[5m]))) > {_LLM_P95_SECONDS}",
            "10m",
            "warning",
            f"p95 latency of {{{{ $labels.model }}}} is above {_LLM_P95_SECONDS}s",
            "Model calls are slow; the router falls back on errors but not on slowness. "
            "See docs/operations.md#llm-latency-is-high.",
        ),
        _rule(
            "VectorDBDiskFull",
            f"kubelet_volume_stats_available_bytes{{{volume}}} / "
            f"kubelet_volume_stats_capacity_bytes{{{volume}}} < {_DISK_FREE_RATIO}",
            "5m",
            "critical",
            "PostgreSQL volume {{ $labels.persistentvolumeclaim }} is over 90% full",
            "Grow the PVC (database.size) or prune query history. "
            "See docs/operations.md#the-database-disk-is-filling-up.",
        ),
        _rule(
            "HighAICost",
            f"max(mcpfleet_budget_spent_ratio) > {budget.alert_threshold}",
            "5m",
            "warning",
            f"Over {budget.alert_threshold:.0%} of the daily AI budget "
            f"(${budget.daily_usd:g}) is spent",
            f"Once the budget is spent the router answers with `{budget.when_exhausted}`. "
            "See docs/operations.md#ai-spend-is-high.",
        ),
    ]
    return [{"name": "mcpfleet", "rules": rules}]
