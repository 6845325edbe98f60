"""The seed's four alert rules, with its thresholds, windows and severities.

Each expression reads only series something exports (a test checks every name against
the runtime's registries): ``mcp_upstream_up{server}`` (the gateway's MCP health checks),
``ollama_request_duration_seconds`` (every Ollama call, from triage and the router),
``llm_cost_usd_total{model}`` (the router) and the kubelet's ``kubelet_volume_stats_*``.
Where an expression differs from the plan's, docs/seed.md says why.
"""

from __future__ import annotations

from catalog.model import Catalog
from catalog.naming import database_resource_name
from components.meta import Manifest

__all__ = ["ALERT_NAMES", "alert_groups", "database_claims"]

ALERT_NAMES = ("MCPServerDown", "LLMHighLatency", "VectorDBDiskFull", "HighAICost")
_OLLAMA_P95_SECONDS = 30
_DISK_FREE_RATIO = 0.1


def _rule(alert: str, expr: str, for_: str, severity: str, summary: str, text: str) -> Manifest:
    return {
        "alert": alert,
        "expr": expr,
        "for": for_,
        "labels": {"severity": severity, "app.kubernetes.io/part-of": "mcpfleet"},
        "annotations": {"summary": summary, "description": text},
    }


def database_claims() -> str:
    """A regex for the database's PVCs: the StatefulSet's ``data-<name>-<n>`` and
    CloudNativePG's ``<name>-<n>`` (the plan's ``postgres-vector-db-data`` is neither)."""
    name = database_resource_name()
    return f"(data-)?{name}-[0-9]+"


def alert_groups(catalog: Catalog) -> list[Manifest]:
    """One rule group; the cost threshold is the catalog's daily budget (the plan's $10)."""
    budget = catalog.models.budget
    threshold = budget.daily_usd * budget.alert_threshold
    volume = (
        f'persistentvolumeclaim=~"{database_claims()}", '
        f'namespace="{catalog.platform.namespace.name}"'
    )
    rules = [
        _rule(
            "MCPServerDown",
            "max by (server) (mcp_upstream_up) == 0",
            "5m",
            "critical",
            "MCP server {{ $labels.server }} is down",
            "The gateway's MCP health checks have failed for {{ $labels.server }} for 5 "
            "minutes; its tools are not offered. See docs/operations.md#an-mcp-server-is-down.",
        ),
        _rule(
            "LLMHighLatency",
            "histogram_quantile(0.95, rate(ollama_request_duration_seconds_bucket[5m])) "
            f"> {_OLLAMA_P95_SECONDS}",
            "10m",
            "warning",
            f"p95 of Ollama calls by {{{{ $labels.caller }}}} ({{{{ $labels.model }}}}) is above "
            f"{_OLLAMA_P95_SECONDS}s",
            "The local LLM is slow (triage decisions and local answers wait for it). "
            "See docs/operations.md#llm-latency-is-high.",
        ),
        _rule(
            "VectorDBDiskFull",
            f"kubelet_volume_stats_available_bytes{{{volume}}} / "
            f"kubelet_volume_stats_capacity_bytes{{{volume}}} < {_DISK_FREE_RATIO}",
            "5m",
            "critical",
            "PostgreSQL volume {{ $labels.persistentvolumeclaim }} has less than 10% free",
            "Grow the PVC (database.size) or prune query history. "
            "See docs/operations.md#the-database-disk-is-filling-up.",
        ),
        _rule(
            "HighAICost",
            f"sum(increase(llm_cost_usd_total[1d])) > {threshold:g}",
            "1h",
            "warning",
            f"Model spend over the last 24 h is above ${threshold:g}",
            f"The daily budget is ${budget.daily_usd:g}; once a day's budget is spent the "
            f"router answers with `{budget.when_exhausted}`. "
            "See docs/operations.md#ai-spend-is-high.",
        ),
    ]
    return [{"name": "mcpfleet", "rules": rules}]
