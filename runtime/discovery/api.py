"""The registry, read-only, in the shape of the official MCP registry API.

``GET /v0/servers`` (and ``/v0.1/servers``) list servers with cursor pagination
(``cursor``, ``limit``), ``search`` (substring of the name) and ``updated_since``
(RFC 3339), answering ``{"servers": [...], "metadata": {"nextCursor", "count"}}``;
``GET /v0/servers/{name}`` and ``/v0.1/servers/{name}/versions[/{version}]`` return one
(``{name}`` may also be the seed plan's ``namespace/service`` of a discovered Service).
Each item is a ``ServerResponse``: a ``server.json``-style ``server`` (reverse-DNS name
under the fleet's namespace, description, version, ``remotes``) and ``_meta`` with the
official registry block plus ``io.mcpfleet/registry`` (health, tools, drift, discovery).

Mountable on any app whose ``state.database`` is an open :class:`runtime.db.Database`.
Errors are the fleet's one error body, ``{"error": {"code", "reason"}}``.

On the gateway the registry sits behind its bearer-token middleware and shows a caller
only the servers its token may use (:func:`visible_to_caller`, through the one access
check, :meth:`runtime.store.tokens.Principal.allows`); a server's row holds its
endpoints, command lines and last errors. The discovery service's own port serves it
unscoped (``scoped=False``): that port is reachable only inside the cluster (see
docs/discovery.md).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import unquote

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from runtime.discovery.records import CURSOR_PATTERN, DiscoveryRecords, Page, Row, encode_cursor
from runtime.error_body import ERROR_BODY, error_response
from runtime.store.tokens import Principal

__all__ = [
    "FLEET_META",
    "registry_namespace",
    "registry_router",
    "server_response",
    "visible_to_caller",
]

SCHEMA = "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json"
OFFICIAL_META = "io.modelcontextprotocol.registry/official"
FLEET_META = "io.mcpfleet/registry"
_DESCRIPTION_MAX = 100
_PAGE_MAX = 100
_NOT_FOUND = {
    "description": "Server not found (or not visible to this token).",
    "content": {"application/json": {"schema": ERROR_BODY}},
}
_BAD_REQUEST = {
    "description": "A bad cursor or updated_since, or a limit outside 1 to 100.",
    "content": {"application/json": {"schema": ERROR_BODY}},
}
Visible = Callable[[str], bool]


def visible_to_caller(request: Request, *, scoped: bool) -> Visible:
    """Which registry servers this request may see: the one place registry reads are scoped.

    ``scoped``: the principal the gateway's middleware admitted decides, through
    :meth:`Principal.allows` (a request without one sees nothing); unscoped (the discovery
    service's own port) sees every server.
    """
    if not scoped:
        return lambda _name: True
    principal = request.scope.get("state", {}).get("principal")
    if not isinstance(principal, Principal):
        return lambda _name: False
    return principal.allows


def registry_namespace(annotation_prefix: str) -> str:
    """``mcp.shreck.io`` → ``io.shreck.mcp``: the reverse-DNS namespace of server names."""
    return ".".join(reversed(annotation_prefix.split(".")))


def registry_router(namespace: str, *, scoped: bool = True) -> APIRouter:
    """Routes over ``request.app.state.database``; names are ``<namespace>/<server>``.

    ``scoped`` (the default, for the gateway): each caller sees only the servers its token
    may use; ``False`` only where the port itself is the access control.
    """
    router = APIRouter(tags=["registry"])

    async def list_servers(
        request: Request,
        cursor: str | None = Query(
            None,
            description="nextCursor of the previous page.",
            json_schema_extra={"pattern": CURSOR_PATTERN},  # checked below: 400, not 422
        ),
        limit: int = Query(
            30,
            description="Items per page, 1 to 100.",
            json_schema_extra={"minimum": 1, "maximum": _PAGE_MAX},  # checked below
        ),
        search: str | None = Query(None, description="Substring of the server name."),
        updated_since: str | None = Query(
            None,
            description="RFC 3339 timestamp (with a time zone).",
            json_schema_extra={"format": "date-time"},  # checked below: 400, not 422
        ),
    ) -> JSONResponse:
        if not 1 <= limit <= _PAGE_MAX:
            return error_response(400, f"limit must be between 1 and 100, got {limit}")
        since = None
        if updated_since is not None:
            since = _rfc3339(updated_since)
            if since is None:
                return error_response(
                    400, f"updated_since is not an RFC 3339 time: {updated_since!r}"
                )
            if since.tzinfo is None:
                return error_response(400, "updated_since needs a time zone (e.g. Z)")
        term = search.split("/", 1)[1] if search and search.startswith(f"{namespace}/") else search
        if term and "\x00" in term:
            return JSONResponse({"servers": [], "metadata": {"count": 0}})  # no name has NUL
        records = DiscoveryRecords(request.app.state.database)
        visible = visible_to_caller(request, scoped=scoped)
        try:
            page = await _visible_page(records, visible, cursor, limit, term, since)
        except ValueError as exc:
            return error_response(400, str(exc))
        servers = [server_response(row, namespace) for row in page.rows]
        metadata: dict[str, Any] = {"count": len(servers)}
        if page.next_cursor:
            metadata["nextCursor"] = page.next_cursor
        return JSONResponse({"servers": servers, "metadata": metadata})

    async def find(request: Request, name: str) -> dict[str, Any] | None:
        short = _short(unquote(name), namespace)
        if "\x00" in short:
            return None
        records = DiscoveryRecords(request.app.state.database)
        row = await records.get(short)
        if row is None and "/" in short:  # the seed's name for a Service: namespace/name
            row = await records.get_qualified(short)
        if row is None or not visible_to_caller(request, scoped=scoped)(row.name):
            return None  # out of scope looks exactly like absent: names do not leak
        return None if row is None else server_response(row, namespace)

    async def get_server(request: Request, name: str) -> JSONResponse:
        found = await find(request, name)
        return JSONResponse(found) if found else error_response(404, "Server not found")

    async def list_versions(request: Request, name: str) -> JSONResponse:
        found = await find(request, name)
        if found is None:
            return error_response(404, "Server not found")
        return JSONResponse({"servers": [found], "metadata": {"count": 1}})

    async def get_version(request: Request, name: str, version: str) -> JSONResponse:
        found = await find(request, name)
        if found is None:
            return error_response(404, "Server not found")
        if version not in ("latest", found["server"]["version"]):
            return error_response(404, "Server version not found")
        return JSONResponse(found)

    for prefix in ("/v0", "/v0.1"):
        router.add_api_route(
            f"{prefix}/servers",
            list_servers,
            methods=["GET"],
            summary="List MCP servers",
            responses={400: _BAD_REQUEST},
        )
        router.add_api_route(
            f"{prefix}/servers/{{name:path}}/versions/{{version}}",
            get_version,
            methods=["GET"],
            summary="Get a version of an MCP server ('latest' works)",
            responses={404: _NOT_FOUND},
        )
        router.add_api_route(
            f"{prefix}/servers/{{name:path}}/versions",
            list_versions,
            methods=["GET"],
            summary="List versions of an MCP server (the fleet runs one)",
            responses={404: _NOT_FOUND},
        )
        router.add_api_route(
            f"{prefix}/servers/{{name:path}}",
            get_server,
            methods=["GET"],
            summary="Get an MCP server by name",
            responses={404: _NOT_FOUND},
        )
    return router


def server_response(row: Row, namespace: str) -> dict[str, Any]:
    """One registry row as an official ``ServerResponse``."""
    info = row.discovery.get("serverInfo") or {}
    remotes = [
        {"type": row.transport, "url": url}
        for url in row.endpoints
        if url.startswith(("http://", "https://")) and row.transport in ("streamable-http", "sse")
    ]
    server: dict[str, Any] = {
        "$schema": SCHEMA,
        "name": f"{namespace}/{row.name}",
        "title": row.name,
        "description": (row.description or row.name)[:_DESCRIPTION_MAX],
        "version": info.get("version") or "0.0.0",
    }
    if remotes:
        server["remotes"] = remotes
    return {
        "server": server,
        "_meta": {
            OFFICIAL_META: {
                "status": "active",
                "publishedAt": _time(row.created_at),
                "updatedAt": _time(row.updated_at),
                "isLatest": True,
            },
            FLEET_META: {
                "name": row.name,
                "kind": row.kind,
                "source": row.source,
                "inCatalog": row.in_catalog,
                "health": row.health,
                "lastError": row.last_error,
                "lastSeen": _time(row.last_seen),
                "endpoints": row.endpoints,
                "tools": row.tools,
                "drift": row.drift,
                "discovery": row.discovery,
            },
        },
    }


def _rfc3339(text: str) -> datetime | None:
    """An RFC 3339 ``date-time`` (``t``/``z`` in either case, a leap second read as :59)."""
    text = re.sub(r"(T\d\d:\d\d:)60", r"\g<1>59", text.strip().upper()).replace("Z", "+00:00")
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _short(name: str, namespace: str) -> str:
    return name.split("/", 1)[1] if name.startswith(f"{namespace}/") else name


def _time(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


async def _visible_page(
    records: DiscoveryRecords,
    visible: Visible,
    cursor: str | None,
    limit: int,
    search: str | None,
    since: datetime | None,
) -> Page:
    """A full page of visible rows: out-of-scope rows are skipped, not counted."""
    rows: list[Row] = []
    while True:
        page = await records.page(cursor=cursor, limit=limit, search=search, updated_since=since)
        rows += [row for row in page.rows if visible(row.name)]
        if len(rows) > limit:
            return Page(rows[:limit], encode_cursor(rows[limit - 1].name))
        if page.next_cursor is None:
            return Page(rows, None)
        cursor = page.next_cursor


