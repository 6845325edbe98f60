"""The router's Prometheus series; one instance per registry, made in the lifespan."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from runtime.telemetry import register_process_series

__all__ = ["RouterMetrics"]

_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 160)


class RouterMetrics:
    """Tokens, cost and latency per model, and the day's budget use for the alert rule.

    ``mcpfleet_budget_spent_ratio`` is spent/daily budget; the ``HighAICost`` alert compares
    it with ``budget.alertThreshold``.
    """

    def __init__(self, registry: CollectorRegistry) -> None:
        self.tokens = Counter(
            "llm_tokens_total",
            "Tokens sent to and received from models, from the providers' usage fields.",
            ["model", "direction"],
            registry=registry,
        )
        self.cost = Counter(
            "llm_cost_usd_total",
            "Cost of model calls in USD, at the catalog's prices.",
            ["model"],
            registry=registry,
        )
        self.duration = Histogram(
            "llm_request_duration_seconds",
            "Duration of each model call, failed ones included.",
            ["model"],
            buckets=_BUCKETS,
            registry=registry,
        )
        self.requests = Counter(
            "llm_requests_total",
            "Model calls by outcome (ok, error, timeout, rate_limited).",
            ["model", "status"],
            registry=registry,
        )
        self.unrecorded = Counter(
            "llm_usage_unrecorded_total",
            "Model calls whose usage row could not be written (ledger down or slow).",
            ["model"],
            registry=registry,
        )
        self.budget_ratio = Gauge(
            "mcpfleet_budget_spent_ratio",
            "Today's (UTC) model spend divided by the daily budget.",
            registry=registry,
        )
        self.budget_exhausted = Gauge(
            "mcpfleet_budget_exhausted",
            "1 while the day's budget is spent and requests go to budget.whenExhausted.",
            registry=registry,
        )
        register_process_series(registry)  # ollama_request_duration_seconds, pgvector
