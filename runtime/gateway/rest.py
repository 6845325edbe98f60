"""The seed's REST API: call a tool, list the registry with health, probe health, metrics.

Every route declares the error statuses it can really answer with (the OpenAPI test
holds the app to that). Security is applied by the middleware, not here, except for the
per-tool grant of a tool call, which only the route knows (refused with the
``insufficient_scope`` challenge an OAuth client can act on), and the registry view,
which shows each caller only the servers and tools its grants cover. A tool call to an
upstream the fast path can reach is relayed as JSON (:class:`~runtime.gateway.relay.Relay`:
same pool loop, retry rule, audit and metrics) and its answer written without
re-validating it; any other goes through the SDK client. Both answer the same bytes.
"""

from __future__ import annotations

import time
from typing import Any

import mcp_types as types
from fastapi import APIRouter, Body, Depends, Header, Path, Request, Response
from pydantic import ValidationError

from runtime.gateway.access import check_tool, is_read_only
from runtime.gateway.auth import Principal
from runtime.gateway.calls import ToolCalls
from runtime.gateway.deps import (
    get_calls,
    get_metrics,
    get_oauth,
    get_pool,
    get_principal,
    get_relay,
)
from runtime.gateway.errors import BadRequest, Forbidden
from runtime.gateway.metrics import CONTENT_TYPE, GatewayMetrics
from runtime.gateway.naming import federated_name
from runtime.gateway.oauth import ResourceServer
from runtime.gateway.relay import NOT_RELAYABLE, Relay, dumps
from runtime.gateway.schemas import (
    EndpointInfo,
    ErrorResponse,
    HealthResponse,
    ServerInfo,
    ServersResponse,
    ToolCallResponse,
    ToolInfo,
)
from runtime.gateway.security import METADATA_PATH, resource_metadata_url
from runtime.gateway.upstream.endpoint import UpstreamRejected
from runtime.gateway.upstream.pool import UpstreamPool
from runtime.gateway.upstream.upstream import Upstream

__all__ = ["documented_errors", "router"]

router = APIRouter()

ERROR_TEXT = {
    400: "Malformed request (body is not a JSON object, bad parameters).",
    401: "Missing, unknown, expired or revoked bearer token, or an access token not for us.",
    403: "Token's grants do not cover this server or tool, or client address not allowed.",
    404: "No such server or tool.",
    429: "Rate limit exceeded; see Retry-After.",
    502: "The upstream failed mid-call or answered with a protocol error.",
    503: "No endpoint of the server is available (down or circuit open).",
    504: "The upstream did not answer within the call timeout.",
}
AUTHENTICATED = (401, 403, 429)
ON_BEHALF_OF = "X-Mcpfleet-On-Behalf-Of"
_MAX_USER = 200


def documented_errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` entries for error statuses, all with the one error body."""
    return {code: {"model": ErrorResponse, "description": ERROR_TEXT[code]} for code in codes}


@router.post(
    "/api/v1/mcp/{server}/tools/{tool}",
    response_model=ToolCallResponse,
    response_model_by_alias=True,
    summary="Call one tool of one server",
    responses=documented_errors(400, *AUTHENTICATED, 404, 502, 503, 504),
    tags=["tools"],
)
async def call_tool(
    server: str = Path(description="Server name, as in the catalog."),
    tool: str = Path(description="The tool's own name on that server (not prefixed)."),
    arguments: dict[str, Any] | None = Body(
        default=None, description="The tool's arguments as one JSON object.", examples=[{}]
    ),
    on_behalf_of: str | None = Header(
        default=None,
        alias=ON_BEHALF_OF,
        description="The end user a service token calls for (service tokens only); "
        "recorded in the audit log beside the token's name.",
    ),
    principal: Principal = Depends(get_principal),
    calls: ToolCalls = Depends(get_calls),
    relay: Relay | None = Depends(get_relay),
    oauth: ResourceServer | None = Depends(get_oauth),
) -> ToolCallResponse | Response:
    """Forward a tool call; a tool-level failure is a 200 with ``isError: true``."""
    read_only = is_read_only(calls.pool, server, tool)
    check_tool(principal, server, tool, read_only=read_only, oauth=oauth)
    end_user = _end_user(principal, on_behalf_of)
    started = time.perf_counter()
    upstream = relay.relayable(server, tool) if relay is not None else None
    if relay is not None and upstream is not None:
        params = {"name": tool, "arguments": arguments or {}}
        reply = await relay.call(
            upstream, tool, params, principal=principal, shape=_as_result, on_behalf_of=end_user
        )
        return Response(
            dumps(_response(server, tool, reply.result, started)), media_type="application/json"
        )
    result = await calls.call(
        server,
        tool,
        arguments or {},
        client=principal.name,
        principal=principal,
        on_behalf_of=end_user,
    )
    return ToolCallResponse.model_validate(_response(server, tool, result, started))


def _as_result(raw: dict[str, Any]) -> types.CallToolResult:
    """The upstream's result as the SDK client reads it, so both paths answer alike.

    Raises:
        UpstreamRejected: not a valid result.
    """
    try:
        return types.CallToolResult.model_validate(raw, by_name=False)
    except ValidationError as exc:
        raise UpstreamRejected(NOT_RELAYABLE) from exc


def _response(
    server: str, tool: str, result: types.CallToolResult, started: float
) -> dict[str, Any]:
    """The REST body (camelCase, as :class:`ToolCallResponse` writes it)."""
    return {
        "server": server,
        "tool": tool,
        "content": [
            block.model_dump(mode="json", by_alias=True, exclude_none=True)
            for block in result.content
        ],
        "structuredContent": result.structured_content,
        "isError": result.is_error,
        "latencyMs": round((time.perf_counter() - started) * 1000, 3),
    }


@router.get(
    "/api/v1/servers",
    response_model=ServersResponse,
    response_model_by_alias=True,
    summary="The registry: every server in the caller's scope, with health and tools",
    responses=documented_errors(*AUTHENTICATED),
    tags=["servers"],
)
async def list_servers(
    principal: Principal = Depends(get_principal), pool: UpstreamPool = Depends(get_pool)
) -> ServersResponse:
    return ServersResponse(
        servers=[_server_info(u, principal) for u in pool.upstreams() if principal.allows(u.name)]
    )


@router.get(
    "/api/v1/health",
    response_model=HealthResponse,
    response_model_by_alias=True,
    summary="Liveness and fleet health (no authentication, for probes)",
    tags=["health"],
)
async def health(pool: UpstreamPool = Depends(get_pool)) -> HealthResponse:
    upstreams = pool.upstreams()
    up = sum(1 for u in upstreams if u.up)
    return HealthResponse(
        status="ok" if up == len(upstreams) else "degraded",
        servers_up=up,
        servers_total=len(upstreams),
    )


@router.get(
    "/metrics",
    response_class=Response,
    summary="Prometheus metrics (no authentication, for scrapers)",
    responses={200: {"content": {CONTENT_TYPE: {}}, "description": "Prometheus text format."}},
    tags=["health"],
)
async def metrics(registry: GatewayMetrics = Depends(get_metrics)) -> Response:
    return Response(registry.render(), media_type=CONTENT_TYPE)


@router.get(
    METADATA_PATH,
    summary="OAuth 2.0 Protected Resource Metadata (RFC 9728) for the MCP endpoint",
    tags=["auth"],
)
@router.get(METADATA_PATH + "/mcp", include_in_schema=True, tags=["auth"])
async def protected_resource_metadata(request: Request) -> dict[str, Any]:
    """Tells MCP clients where to get a token and how to present it.

    With ``gateway.auth.issuers`` it lists them as ``authorization_servers`` with the
    scopes their rules look for. Without, tokens are issued out of band (``mcpfleet token
    create``): no authorization server to advertise, so that field is omitted (optional).
    """
    oauth: ResourceServer | None = getattr(request.app.state, "oauth", None)
    if oauth is not None:
        return {**oauth.metadata(), "resource_documentation": _docs_url(oauth.resource)}
    base = request.app.state.public_url or str(request.base_url).rstrip("/")
    pool: UpstreamPool = request.app.state.pool
    return {
        "resource": f"{base}/mcp",
        "resource_name": "mcpfleet gateway",
        "bearer_methods_supported": ["header"],
        "scopes_supported": [u.name for u in pool.upstreams()],
        "resource_documentation": f"{base}/docs",
        "resource_metadata": resource_metadata_url(base),
    }


def _docs_url(resource: str) -> str:
    return resource.removesuffix("/mcp") + "/docs"


def _end_user(principal: Principal, claimed: str | None) -> str | None:
    """Who a service token calls for; any other token may not claim to call for someone.

    Raises:
        Forbidden: the header came with a token that is not a service token.
        BadRequest: the name is empty, too long or holds control characters.
    """
    if claimed is None:
        return None
    if not principal.service:
        raise Forbidden(
            f"token {principal.name!r} may not act on behalf of others: {ON_BEHALF_OF} "
            "needs a service token (mcpfleet token create --service)"
        )
    name = claimed.strip()
    if not name or len(name) > _MAX_USER or not name.isprintable():
        raise BadRequest(f"{ON_BEHALF_OF} must be 1-{_MAX_USER} printable characters")
    return name


def _server_info(upstream: Upstream, principal: Principal) -> ServerInfo:
    return ServerInfo(
        name=upstream.name,
        kind=upstream.spec.kind,
        source=upstream.spec.source,
        description=upstream.spec.description,
        health=upstream.health,
        endpoints=[
            EndpointInfo(
                endpoint=e.label,
                transport=e.spec.transport,
                healthy=e.healthy,
                circuit=e.breaker.state.value,
                in_flight=e.in_flight,
                calls=e.calls,
                protocol_version=e.protocol_version,
                last_error=e.last_error,
            )
            for e in upstream.endpoints
        ],
        tools=[
            ToolInfo(
                name=t.name,
                federated_name=federated_name(upstream.name, t.name),
                description=t.description,
                read_only=upstream.is_read_only(t.name),
            )
            for t in upstream.tools
            if principal.allows_tool(upstream.name, t.name, upstream.is_read_only(t.name))
        ],
    )
