"""The series each scraped runtime service really exports, read from its own registries.

Every ``/metrics`` the stack scrapes is built here the way the service builds it — the
gateway's :class:`GatewayMetrics` (with its upstream collector), the router's
:class:`RouterMetrics`, discovery's :class:`DiscoveryMetrics`, and the standalone triage
pod's registry (``mcpfleet.commands.triage``) — and their families are listed with the
sample names Prometheus will see (``_total``, ``_bucket``, ``_sum``, ``_count``).
"""

from __future__ import annotations

import asyncio
import re

from prometheus_client import CollectorRegistry

from runtime.discovery.metrics import DiscoveryMetrics
from runtime.gateway.metrics import GatewayMetrics
from runtime.gateway.upstream.pool import UpstreamPool
from runtime.router.metrics import RouterMetrics
from runtime.telemetry import register_process_series

__all__ = ["KUBELET", "exported_series", "promql_metric_names"]

KUBELET = {"kubelet_volume_stats_available_bytes", "kubelet_volume_stats_capacity_bytes"}
"""Series the kubelet exports (not mcpfleet): the database volume's free space."""
_SUFFIXES = {
    "counter": ("_total",),
    "histogram": ("_bucket", "_sum", "_count"),
    "summary": ("_sum", "_count", ""),
    "gauge": ("",),
    "info": ("_info",),
}
_KEYWORDS = {
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "bool",
    "and",
    "or",
    "unless",
    "offset",
    "inf",
    "nan",
}


def _names(registry: CollectorRegistry) -> set[str]:
    names: set[str] = set()
    for family in registry.collect():
        names |= {family.name + suffix for suffix in _SUFFIXES.get(family.type, ("",))}
    return names


async def _gateway_series() -> set[str]:
    """The gateway's registry with its upstream collector (a pool is made on a loop)."""
    gateway = GatewayMetrics()
    gateway.watch(UpstreamPool([]))
    return _names(gateway.registry)


def exported_series() -> dict[str, set[str]]:
    """Service → every series name its ``/metrics`` can carry."""
    router = CollectorRegistry()
    RouterMetrics(router)
    triage = CollectorRegistry()  # the standalone triage pod (mcpfleet serve triage)
    register_process_series(triage)
    return {
        "gateway": asyncio.run(_gateway_series()),
        "router": _names(router),
        "discovery": _names(DiscoveryMetrics().registry),
        "triage": _names(triage),
    }


def promql_metric_names(expr: str) -> set[str]:
    """The series names an expression reads (not functions, labels, keywords or numbers)."""
    text = re.sub(r'"(?:\\.|[^"\\])*"', '""', expr)
    text = re.sub(r"\{[^}]*\}", "", text)
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", text)
    text = re.sub(r"\[[^\]]*\]", "", text)
    names = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", text):
        if text[match.end() :].lstrip().startswith("("):
            continue  # a function
        if match.group().lower() in _KEYWORDS:
            continue
        names.add(match.group())
    return names
