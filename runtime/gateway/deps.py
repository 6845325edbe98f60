"""Named FastAPI dependencies: routes get the lifespan's objects from ``app.state`` here.

Routers that other services mount on the gateway app use the same dependencies, so they
see the caller's principal and the gateway's tool caller without importing its internals.
"""

from __future__ import annotations

from fastapi import Request

from runtime.gateway.auth import Principal
from runtime.gateway.calls import ToolCalls
from runtime.gateway.federation import principal_of
from runtime.gateway.metrics import GatewayMetrics
from runtime.gateway.oauth import ResourceServer
from runtime.gateway.relay import Relay
from runtime.gateway.upstream.pool import UpstreamPool

__all__ = ["get_calls", "get_metrics", "get_oauth", "get_pool", "get_principal", "get_relay"]


def get_principal(request: Request) -> Principal:
    """The caller, as the security middleware admitted it."""
    return principal_of(request)


def get_calls(request: Request) -> ToolCalls:
    calls: ToolCalls = request.app.state.calls
    return calls


def get_pool(request: Request) -> UpstreamPool:
    pool: UpstreamPool = request.app.state.pool
    return pool


def get_oauth(request: Request) -> ResourceServer | None:
    """The gateway as an OAuth resource server (``None``: mcpfleet tokens only)."""
    oauth: ResourceServer | None = getattr(request.app.state, "oauth", None)
    return oauth


def get_metrics(request: Request) -> GatewayMetrics:
    metrics: GatewayMetrics = request.app.state.metrics
    return metrics


def get_relay(request: Request) -> Relay | None:
    """The JSON relay of the fast paths (``None`` turns them off, as tests do)."""
    fastpath = getattr(request.app.state, "fastpath", None)
    return None if fastpath is None else fastpath.relay
