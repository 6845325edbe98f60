"""Prometheus metrics named as in the seed, in a registry owned by one app instance.

Each app gets its own :class:`CollectorRegistry` (created in the lifespan, never at
import) so several gateways in one process — tests, the local fleet — never collide.
Upstream health is read from the pool at scrape time rather than pushed, so the gauges
can never drift from what the balancer actually sees.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from runtime.gateway.upstream.breaker import CircuitState
from runtime.gateway.upstream.pool import UpstreamPool
from runtime.telemetry import register_process_series

__all__ = ["CONTENT_TYPE", "UNKNOWN_TOOL", "GatewayMetrics"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
UNKNOWN_TOOL = "<unknown>"
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class GatewayMetrics:
    """Per-tool request counters and latencies, plus the upstream gauges."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        labels = ["server", "tool"]
        self.requests = Counter(
            "mcp_requests_total",
            "Tool calls received, by server and tool.",
            labels,
            registry=self.registry,
        )
        self.errors = Counter(
            "mcp_requests_errors_total",
            "Tool calls that failed (gateway, upstream or tool error), by server and tool.",
            labels,
            registry=self.registry,
        )
        self.duration = Histogram(
            "mcp_request_duration_seconds",
            "Tool call latency through the gateway.",
            labels,
            buckets=BUCKETS,
            registry=self.registry,
        )
        # what the triage and stores this process hosts observe: Ollama calls, vector searches
        register_process_series(self.registry)

    def observe(self, server: str, tool: str, seconds: float, *, error: bool) -> None:
        self.requests.labels(server, tool).inc()
        self.duration.labels(server, tool).observe(seconds)
        if error:
            self.errors.labels(server, tool).inc()

    def watch(self, pool: UpstreamPool) -> None:
        """Export the pool's health as gauges, read at every scrape."""
        self.registry.register(_UpstreamCollector(pool))

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _UpstreamCollector(Collector):
    def __init__(self, pool: UpstreamPool) -> None:
        self._pool = pool

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "mcp_upstream_up", "1 when the server has a healthy endpoint.", labels=["server"]
        )
        endpoint_up = GaugeMetricFamily(
            "mcp_upstream_endpoint_up",
            "1 when the endpoint passed its last health check.",
            labels=["server", "endpoint"],
        )
        circuit = GaugeMetricFamily(
            "mcp_upstream_circuit_state",
            "1 for the endpoint's current circuit-breaker state.",
            labels=["server", "endpoint", "state"],
        )
        in_flight = GaugeMetricFamily(
            "mcp_upstream_in_flight", "Calls in flight per endpoint.", labels=["server", "endpoint"]
        )
        tools = GaugeMetricFamily(
            "mcp_upstream_tools", "Tools the server last listed.", labels=["server"]
        )
        for upstream in self._pool.upstreams():
            up.add_metric([upstream.name], 1.0 if upstream.up else 0.0)
            tools.add_metric([upstream.name], float(len(upstream.tools)))
            for endpoint in upstream.endpoints:
                labels = [upstream.name, endpoint.label]
                endpoint_up.add_metric(labels, 1.0 if endpoint.healthy else 0.0)
                in_flight.add_metric(labels, float(endpoint.in_flight))
                current = endpoint.breaker.state
                for state in CircuitState:
                    circuit.add_metric([*labels, state.value], 1.0 if state is current else 0.0)
        yield from (up, endpoint_up, circuit, in_flight, tools)
