"""A forwarding fast path for stateless ``tools/call`` on ``/mcp``, beside the SDK's pipeline.

The SDK path makes the gateway both a full MCP server and a full MCP client for every
call (≈ 2.2 ms of CPU per call, see ``docs/benchmarks/gateway.md``). A ``tools/call`` to
an upstream that speaks 2026-07-28 over streamable HTTP is instead relayed as JSON by
:class:`~runtime.gateway.relay.Relay` (one ``json.loads``, the name and envelope
rewritten, one pooled POST), for clients of both revisions:

* **2026-07-28** clients name the call in headers (``Mcp-Method: tools/call``,
  ``Mcp-Name: <server>__<tool>``), so eligibility is decided before the body is read;
* **2025-11-25** (and 2025-06-18) clients send ``Mcp-Protocol-Version`` and the name only
  in the body, so the body is read first.

The body is checked by one function, :func:`parse_tools_call`, which accepts exactly the
``tools/call`` its headers announce. The security middleware has already admitted the
request (and refused an out-of-scope ``Mcp-Name``); a body naming a server the token may
not use goes to the SDK path, which refuses it. The answer is what the SDK server would
write for the client's revision (its own result surface, the ``serverInfo`` stamp for
2026-era clients only); upstream failures become an ``isError`` result with the same
reason. Anything else — other methods, ``Mcp-Param-*`` headers, a session id, stdio/SSE
or 2025-era upstreams, unknown or local tools, a body that disagrees with its headers —
goes to the SDK path unchanged, with the body replayed if it was read.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from types import TracebackType
from typing import Any, Self

from mcp.shared.inbound import (
    MCP_METHOD_HEADER,
    MCP_NAME_HEADER,
    MCP_PARAM_HEADER_PREFIX,
    MCP_PROTOCOL_VERSION_HEADER,
    decode_header_value,
)
from mcp_types import CLIENT_CAPABILITIES_META_KEY, PROTOCOL_VERSION_META_KEY
from starlette.types import ASGIApp, Receive, Scope, Send

from runtime.gateway.auth import Principal
from runtime.gateway.calls import ToolCalls
from runtime.gateway.mcp_route import read_body, replay
from runtime.gateway.naming import split_name
from runtime.gateway.relay import MODERN, UPSTREAM_FAILURES, Relay, dumps, sieved, stamped
from runtime.gateway.upstream.pool import UpstreamPool
from runtime.gateway.upstream.upstream import Upstream

__all__ = ["HANDSHAKE_RELAYED", "FastPath", "FastPathRoute", "parse_tools_call"]

HANDSHAKE_RELAYED = frozenset({"2025-06-18", "2025-11-25"})
"""Handshake-era revisions whose clients are relayed (both send ``Mcp-Protocol-Version``)."""
MAX_BODY = 4 * 1024 * 1024  # the SDK's own limit; larger bodies get its 413
ROUTING = frozenset(
    h.encode() for h in (MCP_METHOD_HEADER, MCP_NAME_HEADER, MCP_PROTOCOL_VERSION_HEADER)
)
VERSION_HEADER = MCP_PROTOCOL_VERSION_HEADER.lower().encode()
METHOD_HEADER = MCP_METHOD_HEADER.lower().encode()
NAME_HEADER = MCP_NAME_HEADER.lower().encode()
PARAM_PREFIX = MCP_PARAM_HEADER_PREFIX.lower().encode()
LEGACY_PARAMS = frozenset({"name", "arguments", "_meta"})
LEGACY_META = frozenset({"progressToken"})
JSON_HEADERS = [(b"content-type", b"application/json")]


@dataclass(frozen=True)
class _Resolved:
    upstream: Upstream
    tool: str


@dataclass(frozen=True)
class Candidate:
    """A request the headers allow the fast path to take; the body decides the rest."""

    version: str
    principal: Principal
    federated: str | None  # from ``Mcp-Name`` (2026-07-28); handshake clients: the body's
    resolved: _Resolved | None = None  # 2026-07-28: the upstream the headers name

    @property
    def modern(self) -> bool:
        return self.version in MODERN


@dataclass(frozen=True)
class _Call:
    """A parsed ``tools/call`` and the upstream that will take it."""

    upstream: Upstream
    tool: str
    request: dict[str, Any]


class FastPath:
    """Relays eligible ``/mcp`` tools/call requests; opened in the lifespan (owns the relay)."""

    def __init__(
        self, pool: UpstreamPool, calls: ToolCalls, *, server_info: Mapping[str, Any]
    ) -> None:
        self.pool = pool
        self.calls = calls
        self.server_info = dict(server_info)
        self.relay = Relay(pool, calls)

    async def __aenter__(self) -> Self:
        await self.relay.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.relay.__aexit__(exc_type, exc, tb)

    # ------------------------------------------------------------------ eligibility

    def candidate(self, scope: Scope) -> Candidate | None:
        """What the headers say, when every header-level condition for the fast path holds."""
        if not self.relay.open or scope["method"] != "POST":
            return None
        headers: dict[bytes, bytes] = {}
        for key, value in scope["headers"]:
            if key in headers and key in ROUTING:
                return None  # duplicated routing header: the SDK rejects it
            if key.startswith(PARAM_PREFIX) or key == b"mcp-session-id":
                return None  # the SDK validates Mcp-Param-*; sessions are the SDK's
            headers[key] = value
        if b"application/json" not in headers.get(b"accept", b""):
            return None
        if not headers.get(b"content-type", b"").startswith(b"application/json"):
            return None
        length = headers.get(b"content-length", b"")
        if not length.isdigit() or int(length) > MAX_BODY:
            return None
        principal = scope.get("state", {}).get("principal")
        if not isinstance(principal, Principal):
            return None
        version = headers.get(VERSION_HEADER, b"").decode("latin-1")
        method = headers.get(METHOD_HEADER)
        if version in MODERN:
            if method != b"tools/call":
                return None
            federated = decode_header_value(headers.get(NAME_HEADER, b"").decode("latin-1"))
            resolved = self._eligible(federated, principal) if federated else None
            if resolved is None:
                return None
            return Candidate(version, principal, federated, resolved)
        if version in HANDSHAKE_RELAYED and method is None and NAME_HEADER not in headers:
            return Candidate(version, principal, None)
        return None

    def _eligible(self, federated: str, principal: Principal) -> _Resolved | None:
        parts = split_name(federated)
        if parts is None or not principal.allows(parts[0]):
            return None
        server, tool = parts
        upstream = self.relay.relayable(server, tool)
        if upstream is None or not principal.allows_tool(server, tool, upstream.is_read_only(tool)):
            return None  # the SDK path refuses it (the middleware already has, by Mcp-Name)
        return _Resolved(upstream, tool)

    def resolve(self, candidate: Candidate, request: dict[str, Any]) -> _Call | None:
        """The upstream for a parsed request, if it may be relayed for this principal."""
        resolved = candidate.resolved or self._eligible(
            request["params"]["name"], candidate.principal
        )
        return None if resolved is None else _Call(resolved.upstream, resolved.tool, request)

    # ------------------------------------------------------------------ serving

    async def serve(self, candidate: Candidate, call: _Call, send: Send) -> None:
        """Relay one parsed request and write the JSON-RPC response."""
        request = call.request
        try:
            reply = await self.relay.call(
                call.upstream,
                call.tool,
                request["params"],
                principal=candidate.principal,
                shape=partial(sieved, version=candidate.version),
                rid=request["id"],
            )
            result = reply.result
        except UPSTREAM_FAILURES as exc:
            failed = {
                "content": [{"type": "text", "text": exc.reason}],
                "isError": True,
                "resultType": "complete",
            }
            result = sieved(failed, candidate.version)
        body = dumps(
            {
                "jsonrpc": "2.0",
                "id": request["id"],
                "result": stamped(result, candidate.version, self.server_info),
            },
            ascii_only=candidate.modern,
        )
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [*JSON_HEADERS, (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})


def parse_tools_call(body: bytes, candidate: Candidate) -> dict[str, Any] | None:
    """The request, when the body is exactly the ``tools/call`` its headers announce.

    The one place the fast path reads a request body: anything it does not accept goes to
    the SDK path, which answers it (or refuses it) as the protocol says.
    """
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
    name = params.get("name")
    arguments = params.get("arguments")
    if not isinstance(name, str) or (arguments is not None and not isinstance(arguments, dict)):
        return None
    meta = params.get("_meta")
    if candidate.modern:
        if name != candidate.federated or not isinstance(meta, dict):
            return None
        if meta.get(PROTOCOL_VERSION_META_KEY) != candidate.version:
            return None
        if CLIENT_CAPABILITIES_META_KEY not in meta:
            return None
        return request
    if not LEGACY_PARAMS.issuperset(params):
        return None  # e.g. a task request: the SDK path knows what to do with it
    if meta is not None and not (isinstance(meta, dict) and LEGACY_META.issuperset(meta)):
        return None
    return request


class FastPathRoute:
    """ASGI app for ``/mcp``: the fast path (``app.state.fastpath``) first, else ``fallback``."""

    def __init__(self, fallback: ASGIApp) -> None:
        self.fallback = fallback

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        fast: FastPath | None = getattr(scope["app"].state, "fastpath", None)
        candidate = fast.candidate(scope) if fast is not None else None
        if fast is None or candidate is None:
            await self.fallback(scope, receive, send)
            return
        body = await read_body(receive)
        if body is None:
            return  # the client went away before sending its body
        request = parse_tools_call(body, candidate)
        call = None if request is None else fast.resolve(candidate, request)
        if call is None:
            await self.fallback(scope, replay(body, receive), send)
            return
        await fast.serve(candidate, call, send)
