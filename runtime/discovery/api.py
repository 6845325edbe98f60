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
Errors are JSON ``{"error": ...}`` as the official API answers them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import unquote

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from runtime.discovery.records import DiscoveryRecords, Row

__all__ = ["FLEET_META", "registry_namespace", "registry_router", "server_response"]

SCHEMA = "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json"
OFFICIAL_META = "io.modelcontextprotocol.registry/official"
FLEET_META = "io.mcpfleet/registry"
_DESCRIPTION_MAX = 100
_NOT_FOUND = {"description": "Server not found", "content": {"application/json": {}}}


def registry_namespace(annotation_prefix: str) -> str:
    """``mcp.shreck.io`` → ``io.shreck.mcp``: the reverse-DNS namespace of server names."""
    return ".".join(reversed(annotation_prefix.split(".")))


def registry_router(namespace: str) -> APIRouter:
    """Routes over ``request.app.state.database``; names are ``<namespace>/<server>``."""
    router = APIRouter(tags=["registry"])

    async def list_servers(
        request: Request,
        cursor: str | None = Query(None, description="nextCursor of the previous page."),
        limit: int = Query(30, description="Items per page, 1 to 100."),
        search: str | None = Query(None, description="Substring of the server name."),
        updated_since: str | None = Query(None, description="RFC 3339 timestamp."),
    ) -> JSONResponse:
        if not 1 <= limit <= 100:
            return _error(400, f"limit must be between 1 and 100, got {limit}")
        since = None
        if updated_since:
            try:
                since = datetime.fromisoformat(updated_since.replace("Z", "+00:00"))
            except ValueError:
                return _error(400, f"updated_since is not an RFC 3339 time: {updated_since!r}")
            if since.tzinfo is None:
                return _error(400, "updated_since needs a time zone (e.g. Z)")
        term = search.split("/", 1)[1] if search and search.startswith(f"{namespace}/") else search
        records = DiscoveryRecords(request.app.state.database)
        try:
            page = await records.page(cursor=cursor, limit=limit, search=term, updated_since=since)
        except ValueError as exc:
            return _error(400, str(exc))
        servers = [server_response(row, namespace) for row in page.rows]
        metadata: dict[str, Any] = {"count": len(servers)}
        if page.next_cursor:
            metadata["nextCursor"] = page.next_cursor
        return JSONResponse({"servers": servers, "metadata": metadata})

    async def find(request: Request, name: str) -> dict[str, Any] | None:
        short = _short(unquote(name), namespace)
        records = DiscoveryRecords(request.app.state.database)
        row = await records.get(short)
        if row is None and "/" in short:  # the seed's name for a Service: namespace/name
            row = await records.get_qualified(short)
        return None if row is None else server_response(row, namespace)

    async def get_server(request: Request, name: str) -> JSONResponse:
        found = await find(request, name)
        return JSONResponse(found) if found else _error(404, "Server not found")

    async def list_versions(request: Request, name: str) -> JSONResponse:
        found = await find(request, name)
        if found is None:
            return _error(404, "Server not found")
        return JSONResponse({"servers": [found], "metadata": {"count": 1}})

    async def get_version(request: Request, name: str, version: str) -> JSONResponse:
        found = await find(request, name)
        if found is None:
            return _error(404, "Server not found")
        if version not in ("latest", found["server"]["version"]):
            return _error(404, "Server version not found")
        return JSONResponse(found)

    for prefix in ("/v0", "/v0.1"):
        router.add_api_route(
            f"{prefix}/servers", list_servers, methods=["GET"], summary="List MCP servers"
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


def _short(name: str, namespace: str) -> str:
    return name.split("/", 1)[1] if name.startswith(f"{namespace}/") else name


def _time(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)
