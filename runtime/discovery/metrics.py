"""Discovery's Prometheus metrics, created per service instance (never at import)."""

from __future__ import annotations

import contextlib

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from runtime.endpoints.drift import REASONS, DriftReport

__all__ = ["DiscoveryMetrics"]


class DiscoveryMetrics:
    """Drift per server and reason, probe and proposal outcomes, source events."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.drift = Gauge(
            "mcpfleet_catalog_drift",
            "1 while a catalog server drifts from what runs, by reason.",
            ["server", "reason"],
            registry=self.registry,
        )
        self.probes = Counter(
            "mcpfleet_discovery_probes_total",
            "MCP probes by result (ok, retryable, permanent).",
            ["result"],
            registry=self.registry,
        )
        self.probe_seconds = Histogram(
            "mcpfleet_discovery_probe_seconds",
            "Time for one MCP handshake plus tools/list.",
            registry=self.registry,
        )
        self.proposals = Counter(
            "mcpfleet_discovery_proposals_total",
            "Catalog proposals by outcome.",
            ["status"],
            registry=self.registry,
        )
        self.events = Counter(
            "mcpfleet_discovery_events_total",
            "Events from the sources, by source and type.",
            ["source", "type"],
            registry=self.registry,
        )
        self.known = Gauge(
            "mcpfleet_discovery_endpoints",
            "Endpoints the sources currently report.",
            registry=self.registry,
        )

    def set_drift(self, report: DriftReport) -> None:
        """Raise the gauge for current reasons and drop the series for resolved ones."""
        active = set(report.reasons)
        for reason in REASONS:
            if reason in active:
                self.drift.labels(server=report.server, reason=reason).set(1)
            else:
                with contextlib.suppress(KeyError):  # never raised: nothing to drop
                    self.drift.remove(report.server, reason)
