"""A forwarding fast path for stateless ``tools/call``, beside the SDK's full pipeline.

The SDK path makes the gateway both a full MCP server and a full MCP client for every
call (≈ 2.2 ms of CPU per call, see ``docs/benchmarks/gateway.md``). A 2026-07-28 client
names its call in HTTP headers (``Mcp-Method: tools/call``, ``Mcp-Name:
<server>__<tool>``), so when the upstream also speaks 2026-07-28 over streamable HTTP the
call can be relayed as JSON: one ``json.loads``, the name and envelope rewritten, one
POST on a pooled ``aiohttp`` session, the upstream's result relayed as the SDK path would.

It keeps what the SDK path does around the call: the security middleware has already
admitted the request (and refused an out-of-scope ``Mcp-Name``); the endpoint is picked,
bounded, broken and retried by the pool's own loop (read-only tools once more on
another endpoint — the response is only written after the attempt loop ends, so a retry
never follows bytes already sent); audit record, metrics and log line come from
:class:`~runtime.gateway.calls.ToolCalls`; upstream failures become an ``isError``
result with the same reason. The client's ``Authorization`` header is never forwarded:
the upstream gets only the catalog's headers and the routing headers.

Anything else — other methods, 2025-11-25 clients, ``Mcp-Param-*`` headers, stdio/SSE or
2025-era upstreams, unknown or local tools, a body that disagrees with its headers —
goes to the SDK path unchanged, with the body replayed if it was read.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import aiohttp
from mcp.shared.inbound import (
    MCP_METHOD_HEADER,
    MCP_NAME_HEADER,
    MCP_PARAM_HEADER_PREFIX,
    MCP_PROTOCOL_VERSION_HEADER,
    decode_header_value,
)
from mcp_types import (
    CLIENT_CAPABILITIES_META_KEY,
    CLIENT_INFO_META_KEY,
    PROTOCOL_VERSION_META_KEY,
    SERVER_INFO_META_KEY,
)
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from runtime.gateway.auth import Principal
from runtime.gateway.calls import ToolCalls
from runtime.gateway.errors import (
    GatewayError,
    UpstreamFailed,
    UpstreamTimeout,
    UpstreamTooLarge,
    UpstreamUnavailable,
)
from runtime.gateway.naming import split_name
from runtime.gateway.upstream.endpoint import (
    CLIENT_INFO,
    Endpoint,
    EndpointDown,
    RequestTooLarge,
    UpstreamRejected,
)
from runtime.gateway.upstream.pool import UpstreamPool
from runtime.gateway.upstream.upstream import Upstream

__all__ = ["FastPath", "FastPathRoute"]

MODERN = frozenset(MODERN_PROTOCOL_VERSIONS)
MAX_BODY = 4 * 1024 * 1024  # the SDK's own limit; larger bodies get its 413
UPSTREAM_FAILURES = (UpstreamFailed, UpstreamTimeout, UpstreamUnavailable, UpstreamTooLarge)
ROUTING = frozenset(
    h.encode() for h in (MCP_METHOD_HEADER, MCP_NAME_HEADER, MCP_PROTOCOL_VERSION_HEADER)
)
PARAM_PREFIX = MCP_PARAM_HEADER_PREFIX.lower().encode()
GATEWAY_INFO = CLIENT_INFO.model_dump(mode="json", exclude_none=True)
NOT_RELAYABLE = (
    "the upstream's result is not a valid MCP result "
    "(or asks for interactive input, which the gateway does not relay)"
)


@dataclass(frozen=True)
class _Call:
    """A ``tools/call`` the fast path may take, as read from the headers."""

    upstream: Upstream
    tool: str
    federated: str
    version: str
    principal: Principal


@dataclass(frozen=True)
class _Reply:
    """What the upstream answered: the result object and whether it is a tool error."""

    result: dict[str, Any]
    error: str | None
    is_error: bool


class FastPath:
    """Relays eligible tools/call requests; opened in the lifespan (owns a connection pool)."""

    def __init__(
        self, pool: UpstreamPool, calls: ToolCalls, *, server_info: Mapping[str, Any]
    ) -> None:
        self.pool = pool
        self.calls = calls
        self.server_info = dict(server_info)
        self._http: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Self:
        # aiohttp rather than httpx: its C parser costs a fraction of httpx's pure-Python
        # stack per request, which was most of the fast path's CPU.
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

    # ------------------------------------------------------------------ eligibility

    def candidate(self, scope: Scope) -> _Call | None:
        """The call named by the headers, when every condition for the fast path holds."""
        if self._http is None or scope["method"] != "POST":
            return None
        headers: dict[bytes, bytes] = {}
        for key, value in scope["headers"]:
            if key in headers and key in ROUTING:
                return None  # duplicated routing header: the SDK rejects it
            if key.startswith(PARAM_PREFIX):
                return None  # the SDK validates Mcp-Param-* against the schema
            headers[key] = value
        version = headers.get(MCP_PROTOCOL_VERSION_HEADER.encode(), b"").decode("latin-1")
        if version not in MODERN or headers.get(MCP_METHOD_HEADER.encode()) != b"tools/call":
            return None
        if b"application/json" not in headers.get(b"accept", b""):
            return None
        if not headers.get(b"content-type", b"").startswith(b"application/json"):
            return None
        length = headers.get(b"content-length", b"")
        if not length.isdigit() or int(length) > MAX_BODY:
            return None
        federated = _header_text(headers.get(MCP_NAME_HEADER.encode(), b""))
        parts = split_name(federated or "")
        principal = scope.get("state", {}).get("principal")
        if parts is None or not isinstance(principal, Principal):
            return None
        server, tool = parts
        upstream = self._relayable(server, tool)
        if upstream is None or not principal.allows(server):
            return None
        return _Call(upstream, tool, federated or "", version, principal)

    def _relayable(self, server: str, tool: str) -> Upstream | None:
        """The upstream, if it lists ``tool`` and every endpoint speaks modern HTTP."""
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

    # ------------------------------------------------------------------ serving

    async def serve(self, call: _Call, request: dict[str, Any], send: Send) -> None:
        """Relay one parsed request and write the JSON-RPC response."""
        params: dict[str, Any] = request["params"]
        arguments = dict(params.get("arguments") or {})  # audited as the SDK path does
        meta = {
            **params["_meta"],
            CLIENT_INFO_META_KEY: GATEWAY_INFO,
            CLIENT_CAPABILITIES_META_KEY: {},
        }
        forwarded = {**request, "params": {**params, "name": call.tool, "_meta": meta}}
        payload = json.dumps(forwarded, separators=(",", ":")).encode()
        upstream, tool = call.upstream, call.tool
        attempts = 2 if upstream.is_read_only(tool) else 1
        started = time.perf_counter()
        status, error = "cancelled", None
        try:
            reply = await self.pool.attempt(  # the pool's one retry loop
                upstream,
                attempts,
                lambda endpoint: self._post(endpoint, call, request["id"], payload),
            )
        except UPSTREAM_FAILURES as exc:
            status, error = exc.code, exc.reason
            result: dict[str, Any] = {
                "content": [{"type": "text", "text": exc.reason}],
                "isError": True,
                "resultType": "complete",
            }
        else:
            status = "tool_error" if reply.is_error else "ok"
            error, result = reply.error, reply.result
        finally:
            seconds = time.perf_counter() - started
            self.calls.record(  # the one audit/metrics/log step
                upstream.name, tool, arguments, call.principal.name, status, error, seconds
            )
        body = json.dumps(
            {"jsonrpc": "2.0", "id": request["id"], "result": self._stamped(result)},
            separators=(",", ":"),
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    def _stamped(self, result: dict[str, Any]) -> dict[str, Any]:
        """The SDK server's ``serverInfo`` rule: the upstream's own stamp wins, else ours."""
        meta = result.get("_meta")
        if meta is None:
            return {**result, "_meta": {SERVER_INFO_META_KEY: self.server_info}}
        if isinstance(meta, dict) and meta.get(SERVER_INFO_META_KEY) is None:
            return {**result, "_meta": {**meta, SERVER_INFO_META_KEY: self.server_info}}
        return result

    async def _post(self, endpoint: Endpoint, call: _Call, rid: Any, payload: bytes) -> _Reply:
        """One attempt on one endpoint, counted in its in-flight load like an SDK call."""
        assert self._http is not None and endpoint.spec.url is not None
        headers = {
            **endpoint.spec.headers,
            "content-type": "application/json",
            "accept": "application/json, text/event-stream",
            MCP_PROTOCOL_VERSION_HEADER: call.version,
            MCP_METHOD_HEADER: "tools/call",
            MCP_NAME_HEADER: call.tool,
        }
        endpoint.in_flight += 1
        endpoint.calls += 1
        try:
            async with self._http.post(endpoint.spec.url, data=payload, headers=headers) as got:
                content = await got.read()
                status, content_type = got.status, got.headers.get("content-type", "")
        except aiohttp.ClientError as exc:
            raise EndpointDown(f"connection lost: {str(exc) or type(exc).__name__}") from exc
        finally:
            endpoint.in_flight -= 1
        return _reply(status, content_type, content, rid)


def _reply(status: int, content_type: str, content: bytes, rid: Any) -> _Reply:
    """The result in an upstream response for request ``rid``, judged as the SDK client would.

    Raises:
        EndpointDown: a server error without a JSON-RPC answer.
        UpstreamRejected: a JSON-RPC error, or a result the gateway cannot relay.
    """
    if status == 413:
        raise RequestTooLarge("HTTP 413")
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
    return _Reply(result, _first_text(result) if is_error else None, is_error)


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


def _header_text(raw: bytes) -> str | None:
    """``Mcp-Name`` decoded as the SDK does (latin-1, then its base64 form); never raises."""
    return decode_header_value(raw.decode("latin-1"))


def _first_text(result: Mapping[str, Any]) -> str | None:
    for block in result["content"]:
        if isinstance(block, dict) and block.get("type") == "text":
            return str(block.get("text", ""))[:500]
    return None


class FastPathRoute:
    """ASGI app for ``/mcp``: the fast path (``app.state.fastpath``) first, else ``fallback``."""

    def __init__(self, fallback: ASGIApp) -> None:
        self.fallback = fallback

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        fast: FastPath | None = getattr(scope["app"].state, "fastpath", None)
        call = fast.candidate(scope) if fast is not None else None
        if fast is None or call is None:
            await self.fallback(scope, receive, send)
            return
        body = await _read_body(receive)
        if body is None:
            return  # the client went away before sending its body
        request = _parse(body, call)
        if request is None:
            await self.fallback(scope, _replay(body, receive), send)
            return
        await fast.serve(call, request, send)


async def _read_body(receive: Receive) -> bytes | None:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


def _parse(body: bytes, call: _Call) -> dict[str, Any] | None:
    """The request, when the body is exactly the ``tools/call`` its headers announce."""
    try:
        request = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(request, dict) or request.get("jsonrpc") != "2.0":
        return None
    rid = request.get("id")
    if isinstance(rid, bool) or not isinstance(rid, int | str):
        return None
    params = request.get("params")
    if request.get("method") != "tools/call" or not isinstance(params, dict):
        return None
    meta = params.get("_meta")
    if params.get("name") != call.federated or not isinstance(meta, dict):
        return None
    if meta.get(PROTOCOL_VERSION_META_KEY) != call.version:
        return None
    if CLIENT_CAPABILITIES_META_KEY not in meta:
        return None
    arguments = params.get("arguments")
    if arguments is not None and not isinstance(arguments, dict):
        return None
    return request


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that yields the already-read body once, then the real channel."""
    pending = True

    async def replay() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
