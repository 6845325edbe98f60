"""The upstream half of the fast paths: one ``tools/call`` relayed as JSON to a modern upstream.

Used by ``/mcp`` (:mod:`runtime.gateway.fastpath`, clients of every revision) and by the
REST tool call (:mod:`runtime.gateway.rest`). An upstream qualifies when every endpoint
speaks 2026-07-28 over streamable HTTP and it lists the tool; the request is one POST on a
pooled ``aiohttp`` session (its C parser costs a fraction of httpx's pure-Python stack).

It keeps what the SDK path does around the call: the endpoint is picked, bounded, broken
and retried by the pool's own loop (read-only tools once more on another endpoint);
audit record, metrics and log line come from :class:`~runtime.gateway.calls.ToolCalls`;
the result is shaped by the SDK's own per-revision result surface
(:func:`mcp_types.methods.serialize_server_result`), as the SDK server does. The client's
``Authorization`` header is never forwarded: the upstream gets only the catalog's headers
and the routing headers. Everything that can be computed once per endpoint (its headers)
is, and recomputed only when its negotiated revision changes.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import aiohttp
from mcp.shared.inbound import MCP_METHOD_HEADER, MCP_NAME_HEADER, MCP_PROTOCOL_VERSION_HEADER
from mcp_types import (
    CLIENT_CAPABILITIES_META_KEY,
    CLIENT_INFO_META_KEY,
    PROTOCOL_VERSION_META_KEY,
    SERVER_INFO_META_KEY,
)
from mcp_types.methods import serialize_server_result
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from pydantic import ValidationError

from runtime.gateway.auth import Principal
from runtime.gateway.calls import ToolCalls
from runtime.gateway.errors import (
    GatewayError,
    UpstreamFailed,
    UpstreamTimeout,
    UpstreamTooLarge,
    UpstreamUnavailable,
)
from runtime.gateway.upstream.endpoint import (
    CLIENT_INFO,
    Endpoint,
    EndpointDown,
    RequestTooLarge,
    UpstreamRejected,
)
from runtime.gateway.upstream.pool import UpstreamPool
from runtime.gateway.upstream.upstream import Upstream

__all__ = [
    "MODERN",
    "NOT_RELAYABLE",
    "UPSTREAM_FAILURES",
    "Relay",
    "Relayed",
    "Shape",
    "dumps",
    "sieved",
    "stamped",
]

MODERN = frozenset(MODERN_PROTOCOL_VERSIONS)
UPSTREAM_FAILURES = (UpstreamFailed, UpstreamTimeout, UpstreamUnavailable, UpstreamTooLarge)
GATEWAY_INFO = CLIENT_INFO.model_dump(mode="json", exclude_none=True)
NOT_RELAYABLE = (
    "the upstream's result is not a valid MCP result "
    "(or asks for interactive input, which the gateway does not relay)"
)


@dataclass(frozen=True)
class Relayed:
    """What the upstream answered: the result, shaped for the caller, and its verdict."""

    result: Any
    error: str | None
    is_error: bool


Shape = Callable[[dict[str, Any]], Any]
"""Turns the upstream's raw result into the caller's form; raises UpstreamRejected."""


@dataclass(frozen=True)
class _Route:
    """Per-endpoint constants of a relayed call, made once per negotiated revision."""

    version: str
    headers: Mapping[str, str]


def dumps(value: Any, *, ascii_only: bool = False) -> bytes:
    """Compact JSON, as the SDK and Starlette write it: UTF-8 as is (Starlette, the SDK's
    2025-era transport) or ``\\u``-escaped (``ascii_only``: the SDK's 2026-07-28 one)."""
    return json.dumps(value, ensure_ascii=ascii_only, separators=(",", ":")).encode()


def sieved(result: Mapping[str, Any], version: str) -> dict[str, Any]:
    """A ``tools/call`` result with the fields the SDK server sends a client at ``version``
    (the SDK's own per-revision surface, so both paths answer alike).

    Raises:
        UpstreamRejected: the result does not fit the revision's schema.
    """
    try:
        return serialize_server_result("tools/call", version, result)
    except ValidationError as exc:
        raise UpstreamRejected(NOT_RELAYABLE) from exc


def stamped(result: dict[str, Any], version: str, server_info: Mapping[str, Any]) -> Any:
    """The SDK server's ``serverInfo`` rule for 2026-era results: the upstream's own stamp
    wins, else the gateway's; handshake-era results are never stamped."""
    if version not in MODERN:
        return result
    meta = result.get("_meta")
    if meta is None:
        return {**result, "_meta": {SERVER_INFO_META_KEY: server_info}}
    if isinstance(meta, dict) and meta.get(SERVER_INFO_META_KEY) is None:
        return {**result, "_meta": {**meta, SERVER_INFO_META_KEY: server_info}}
    return result


class Relay:
    """Relays ``tools/call`` to modern HTTP upstreams; opened in the lifespan (owns a session)."""

    def __init__(self, pool: UpstreamPool, calls: ToolCalls) -> None:
        self.pool = pool
        self.calls = calls
        self._http: aiohttp.ClientSession | None = None
        self._routes: dict[Endpoint, _Route] = {}
        self._ids = itertools.count(1)

    async def __aenter__(self) -> Self:
        self._http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=256),
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=30.0, sock_read=300.0),
            auto_decompress=True,
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None

    @property
    def open(self) -> bool:
        return self._http is not None

    def relayable(self, server: str, tool: str) -> Upstream | None:
        """The upstream, if it lists ``tool`` and every endpoint speaks modern HTTP."""
        if self._http is None:
            return None
        try:
            upstream = self.pool.get(server)
        except GatewayError:
            return None
        if upstream.tool(tool) is None:
            return None
        for endpoint in upstream.endpoints:
            if endpoint.spec.transport != "streamable-http" or endpoint.spec.url is None:
                return None
            if endpoint.protocol_version not in MODERN:
                return None
        return upstream

    async def call(
        self,
        upstream: Upstream,
        tool: str,
        params: Mapping[str, Any],
        *,
        principal: Principal,
        shape: Shape,
        rid: Any = None,
        on_behalf_of: str | None = None,
    ) -> Relayed:
        """Relay one call (``params`` as the client sent them) and audit it; ``shape``
        makes the result the caller's (inside the attempt, so a result it refuses counts
        as the upstream's refusal, as on the SDK path).

        Raises:
            UpstreamFailed, UpstreamTimeout, UpstreamUnavailable: as the SDK path would.
        """
        arguments = params.get("arguments")
        audited = dict(arguments) if isinstance(arguments, Mapping) else {}
        rid = next(self._ids) if rid is None else rid
        attempts = 2 if upstream.is_read_only(tool) else 1
        started = time.perf_counter()
        status, error = "cancelled", None
        try:
            reply = await self.pool.attempt(  # the pool's one retry loop
                upstream,
                attempts,
                lambda endpoint: self._post(endpoint, tool, params, rid, shape),
            )
        except UPSTREAM_FAILURES as exc:
            status, error = exc.code, exc.reason
            raise
        else:
            status = "tool_error" if reply.is_error else "ok"
            error = reply.error
            return reply
        finally:
            seconds = time.perf_counter() - started
            self.calls.record(  # the one audit/metrics/log step
                upstream.name,
                tool,
                audited,
                principal.name,
                status,
                error,
                seconds,
                principal=principal,
                on_behalf_of=on_behalf_of,
            )

    def _route(self, endpoint: Endpoint) -> _Route:
        route = self._routes.get(endpoint)
        version = endpoint.protocol_version or ""
        if route is None or route.version != version:
            headers = {
                **endpoint.spec.headers,
                "content-type": "application/json",
                "accept": "application/json, text/event-stream",
                MCP_PROTOCOL_VERSION_HEADER: version,
                MCP_METHOD_HEADER: "tools/call",
            }
            route = self._routes[endpoint] = _Route(version, headers)
        return route

    async def _post(
        self, endpoint: Endpoint, tool: str, params: Mapping[str, Any], rid: Any, shape: Shape
    ) -> Relayed:
        """One attempt on one endpoint, counted in its in-flight load like an SDK call."""
        assert self._http is not None and endpoint.spec.url is not None
        route = self._route(endpoint)
        meta = params.get("_meta")
        forwarded = {
            **params,
            "name": tool,
            "_meta": {
                **(meta if isinstance(meta, Mapping) else {}),
                PROTOCOL_VERSION_META_KEY: route.version,
                CLIENT_INFO_META_KEY: GATEWAY_INFO,
                CLIENT_CAPABILITIES_META_KEY: {},
            },
        }
        payload = dumps({"jsonrpc": "2.0", "id": rid, "method": "tools/call", "params": forwarded})
        endpoint.in_flight += 1
        endpoint.calls += 1
        try:
            async with self._http.post(
                endpoint.spec.url, data=payload, headers={**route.headers, MCP_NAME_HEADER: tool}
            ) as got:
                content = await got.read()
                status, content_type = got.status, got.headers.get("content-type", "")
        except aiohttp.ClientError as exc:
            raise EndpointDown(f"connection lost: {str(exc) or type(exc).__name__}") from exc
        finally:
            endpoint.in_flight -= 1
        return _reply(status, content_type, content, rid, shape)


def _reply(status: int, content_type: str, content: bytes, rid: Any, shape: Shape) -> Relayed:
    """The result in an upstream response for request ``rid``, judged as the SDK client would.

    Raises:
        EndpointDown: a server error without a JSON-RPC answer.
        UpstreamRejected: a JSON-RPC error, or a result the gateway cannot relay.
    """
    if status == 413:
        raise RequestTooLarge("HTTP 413")  # the pool reports it as 413, not as a failure
    message = _message(content_type, content, rid)
    if message is None:
        if status >= 500:
            raise EndpointDown(f"upstream answered HTTP {status}")
        raise UpstreamRejected(f"upstream answered HTTP {status} without a reply")
    if "error" in message:
        error = message["error"] if isinstance(message["error"], dict) else {}
        raise UpstreamRejected(str(error.get("message", "error")), error.get("code"))
    result = message.get("result")
    if (
        not isinstance(result, dict)
        or not isinstance(result.get("content"), list)
        or result.get("resultType", "complete") != "complete"
    ):
        raise UpstreamRejected(NOT_RELAYABLE)
    is_error = result.get("isError") is True
    return Relayed(shape(result), _first_text(result) if is_error else None, is_error)


def _message(content_type: str, content: bytes, rid: Any) -> dict[str, Any] | None:
    """The JSON-RPC response to ``rid`` in a JSON or SSE body (SSE: notifications skipped)."""
    try:
        if content_type.startswith("application/json"):
            candidates = [json.loads(content)]
        elif content_type.startswith("text/event-stream"):
            candidates = [
                json.loads(line[5:])
                for line in content.decode("utf-8").splitlines()
                if line.startswith("data:") and line[5:].strip()
            ]
        else:
            return None
    except ValueError:
        return None
    for candidate in candidates:
        if not isinstance(candidate, dict) or candidate.get("id") != rid:
            continue
        if "result" in candidate or "error" in candidate:
            return candidate
    return None


def _first_text(result: Mapping[str, Any]) -> str | None:
    for block in result["content"]:
        if isinstance(block, dict) and block.get("type") == "text":
            return str(block.get("text", ""))[:500]
    return None
