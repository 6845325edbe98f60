"""The MCP gateway: one endpoint in front of every MCP server in the fleet.

``create_app(settings, config)`` builds a FastAPI app serving

* ``/mcp`` — streamable-HTTP MCP (the official SDK's server, stateless, so replicas need
  no sticky sessions), for 2025-11-25 and 2026-07-28 clients alike. ``tools/list`` is
  every healthy upstream's tools named ``<server>__<tool>``; calls are forwarded. A
  ``tools/call`` (2026-07-28, 2025-11-25 or 2025-06-18) bound for a 2026-07-28 HTTP
  upstream takes a fast path (:mod:`runtime.gateway.fastpath`, relaying through
  :mod:`runtime.gateway.relay`) with the same security, retries, audit and metrics;
  everything else goes through the SDK.
* ``POST /api/v1/mcp/{server}/tools/{tool}`` (relayed the same way where it can be),
  ``GET /api/v1/servers``, ``GET /api/v1/health``, ``/metrics`` and the RFC 9728
  metadata document.

Callers bring mcpfleet's own tokens or, with ``gateway.auth.issuers``, access tokens from
an identity provider (:mod:`runtime.gateway.oauth`: the gateway is an OAuth 2.1 resource
server). Either kind carries grants down to single tools, checked on every path by
:mod:`runtime.gateway.access`; the caller's token never goes upstream.

Upstreams (:mod:`runtime.gateway.upstream`) are pooled sessions over streamable HTTP,
SSE or stdio, balanced least-in-flight, health-checked, behind per-endpoint circuit
breakers; read-only tools are retried once on another endpoint, writes never.

Composing other services into the gateway's process (the local fleet runs gateway and
triage together) goes through :class:`GatewayExtension`:

* ``routers`` — FastAPI routers mounted on the app, behind the same bearer/rate-limit/
  allowlist middleware; use :func:`runtime.gateway.deps.get_principal` for the caller
  and :func:`~runtime.gateway.deps.get_calls` for the audited
  :class:`~runtime.contracts.ToolCaller`.
* ``tools`` — :class:`GatewayTool` objects served on ``/mcp`` under their own name
  (e.g. triage's ``find_tools``); their handler gets the arguments and the principal.
* ``lifespan`` — an async context manager factory run after the gateway's resources
  are on ``app.state`` (``calls``, ``pool``, ``database``, ``metrics``) and closed before
  them.
"""

from runtime.gateway.app import GatewayExtension, create_app
from runtime.gateway.calls import ToolCalls
from runtime.gateway.config import GatewayConfig, in_cluster
from runtime.gateway.errors import GatewayError
from runtime.gateway.federation import GatewayTool

__all__ = [
    "GatewayConfig",
    "GatewayError",
    "GatewayExtension",
    "GatewayTool",
    "ToolCalls",
    "create_app",
    "in_cluster",
]
