"""The upstream layer: pooled sessions to every federated MCP server."""

from runtime.gateway.upstream.breaker import CircuitBreaker, CircuitState
from runtime.gateway.upstream.endpoint import Endpoint, Listing
from runtime.gateway.upstream.pool import PoolSettings, UpstreamPool
from runtime.gateway.upstream.spec import EndpointSpec, ServerSpec, specs_from_catalog
from runtime.gateway.upstream.upstream import Upstream

__all__ = [
    "CircuitBreaker",
    "CircuitState",
    "Endpoint",
    "EndpointSpec",
    "Listing",
    "PoolSettings",
    "ServerSpec",
    "Upstream",
    "UpstreamPool",
    "specs_from_catalog",
]
