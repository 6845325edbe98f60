"""Discovery's writes to and reads from the registry (``mcp_servers``).

The shared columns go through :class:`runtime.store.ServerRegistry` (B1's store); what is
discovery's alone — where a server was found, its image, its protocol version, whether
its last failure was permanent, its catalog proposal — lives in the ``discovery`` jsonb
column added by migration 030, merged key by key so writers never erase each other.

Servers the catalog declares keep their declaration (the catalog is the truth); discovery
only adds health, tools, drift and its own notes to them.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from mcp.types import Tool
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from catalog.model import ClusterApiServer, HttpServer, Platform, RemoteServer, StdioServer
from catalog.naming import server_endpoints, server_transport
from runtime.db import Database
from runtime.endpoints.drift import DriftReport
from runtime.endpoints.endpoint import Endpoint
from runtime.endpoints.probe import ProbeError, ProbeResult
from runtime.store.registry import ServerRegistry

__all__ = ["CURSOR_PATTERN", "DiscoveryRecords", "Page", "Row"]

AnyServer = ClusterApiServer | StdioServer | HttpServer | RemoteServer


@dataclass(frozen=True)
class Row:
    """A registry row as the registry API shows it."""

    name: str
    kind: str
    transport: str
    description: str
    endpoints: list[str]
    health: str
    last_error: str | None
    last_seen: datetime | None
    tools: list[dict[str, Any]]
    source: str
    in_catalog: bool
    drift: dict[str, Any]
    discovery: dict[str, Any]
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Page:
    rows: list[Row]
    next_cursor: str | None


class DiscoveryRecords:
    """Registry access for discovery and its read-only API; cheap to construct."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._registry = ServerRegistry(db)

    async def declare_catalog_server(self, server: AnyServer, platform: Platform) -> None:
        """Make sure a catalog server has a row, without touching one that exists."""
        if await self._registry.get(server.name) is None:
            await self._registry.upsert(
                server.name,
                kind=server.kind,
                transport=server_transport(server),
                endpoints=server_endpoints(server, platform),
                source="catalog",
                in_catalog=True,
                description=server.description,
            )

    async def probed(self, endpoint: Endpoint, result: ProbeResult, *, in_catalog: bool) -> None:
        """A successful probe: the server is healthy and these are its real tools."""
        if not in_catalog:
            await self._declare(endpoint, _description(endpoint, result))
        tools = [Tool.model_validate(t) for t in result.tools]
        await self._registry.set_tools(endpoint.name, tools)
        await self.note(
            endpoint.name,
            {
                **_where(endpoint),
                "probedAt": _now(),
                "protocolVersion": result.protocol_version,
                "serverInfo": {"name": result.server_name, "version": result.server_version},
                "permanent": False,
            },
        )
        # health last: whoever sees the new health also sees the notes that explain it
        await self._registry.set_health(endpoint.name, "healthy")

    async def failed(self, endpoint: Endpoint, error: ProbeError, *, in_catalog: bool) -> None:
        """A failed probe: unhealthy, with the reason and whether retrying can help."""
        if not in_catalog:
            await self._declare(endpoint, endpoint.description or f"found as {endpoint.origin}")
        await self.note(
            endpoint.name, {**_where(endpoint), "probedAt": _now(), "permanent": error.permanent}
        )
        await self._registry.set_health(endpoint.name, "unhealthy", error=str(error))

    async def gone(self, name: str, *, in_catalog: bool) -> None:
        """A discovered server no source serves any more leaves the registry; a catalog
        server stays (its absence is drift, recorded by :meth:`drift`)."""
        if not in_catalog:
            await self._registry.delete(name)

    async def drift(self, report: DriftReport) -> None:
        async with self._db.connection() as conn:
            await conn.execute(
                "UPDATE mcp_servers SET drift = %s, updated_at = now() WHERE name = %s",
                (Jsonb(report.to_json()), report.server),
            )

    async def note(self, name: str, values: Mapping[str, Any]) -> None:
        """Merge ``values`` into the row's ``discovery`` column (top-level keys replace)."""
        async with self._db.connection() as conn:
            await conn.execute(
                "UPDATE mcp_servers SET discovery = discovery || %s, updated_at = now() "
                "WHERE name = %s",
                (Jsonb(dict(values)), name),
            )

    # ----------------------------------------------------------------- reads

    async def get(self, name: str) -> Row | None:
        async with self._db.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(f"SELECT {_COLUMNS} FROM mcp_servers WHERE name = %s", (name,))
            row = await cur.fetchone()
        return None if row is None else Row(**row)

    async def get_qualified(self, qualified_name: str) -> Row | None:
        """The row of a discovered Kubernetes Service by the seed's ``namespace/name``."""
        async with self._db.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                f"SELECT {_COLUMNS} FROM mcp_servers WHERE discovery->>'qualifiedName' = %s "
                "ORDER BY name LIMIT 1",
                (qualified_name,),
            )
            row = await cur.fetchone()
        return None if row is None else Row(**row)

    async def page(
        self,
        *,
        cursor: str | None = None,
        limit: int = 30,
        search: str | None = None,
        updated_since: datetime | None = None,
    ) -> Page:
        """Rows by name after ``cursor``; the cursor is opaque (the last name, encoded).

        Raises:
            ValueError: the cursor was not made by this API.
        """
        where: list[str] = ["TRUE"]
        params: list[object] = []
        if cursor:
            where.append("name > %s")
            params.append(decode_cursor(cursor))
        if search:
            where.append("name ILIKE %s")
            params.append(f"%{_escape_like(search)}%")
        if updated_since is not None:
            where.append("updated_at >= %s")
            params.append(updated_since)
        params.append(limit + 1)
        async with self._db.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                f"SELECT {_COLUMNS} FROM mcp_servers WHERE {' AND '.join(where)} "
                "ORDER BY name LIMIT %s",
                params,
            )
            rows = [Row(**row) for row in await cur.fetchall()]
        more = len(rows) > limit
        rows = rows[:limit]
        return Page(rows, encode_cursor(rows[-1].name) if more and rows else None)

    async def _declare(self, endpoint: Endpoint, description: str) -> None:
        await self._registry.upsert(
            endpoint.name,
            kind=endpoint.kind,
            transport=endpoint.transport,
            endpoints=[endpoint.target] if endpoint.target else [],
            source="discovery",
            in_catalog=False,
            description=description,
        )


_COLUMNS = (
    "name, kind, transport, description, endpoints, health, last_error, last_seen, tools, "
    "source, in_catalog, drift, discovery, created_at, updated_at"
)


def encode_cursor(name: str) -> str:
    return base64.urlsafe_b64encode(name.encode()).decode().rstrip("=")


CURSOR_PATTERN = r"^[A-Za-z0-9_-]*$"
"""What a cursor is made of (base64url); the registry API documents it."""


def decode_cursor(cursor: str) -> str:
    """The name a cursor stands for. Any string of the cursor alphabet is a position (one
    this API did not make just starts somewhere), so only other characters are refused.

    Raises:
        ValueError: a character outside the base64url alphabet.
    """
    if re.fullmatch(CURSOR_PATTERN, cursor) is None:
        raise ValueError(f"invalid cursor {cursor!r}")
    whole = cursor[: len(cursor) - 1] if len(cursor) % 4 == 1 else cursor
    raw = base64.urlsafe_b64decode(whole + "=" * (-len(whole) % 4))
    return raw.decode("utf-8", "replace").replace("\x00", "")  # names never hold NUL


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _where(endpoint: Endpoint) -> dict[str, Any]:
    where: dict[str, Any] = {
        "source": endpoint.source,
        "origin": endpoint.origin,
        "image": endpoint.image,
        "capabilities": list(endpoint.capabilities),
    }
    if endpoint.qualified_name:
        where["qualifiedName"] = endpoint.qualified_name
    return where


def _description(endpoint: Endpoint, result: ProbeResult) -> str:
    for text in (endpoint.description, result.instructions):
        if text and text.strip():
            return text.strip().splitlines()[0][:200]
    return f"{result.server_name or endpoint.name}, found as {endpoint.origin}"


def _now() -> str:
    return datetime.now(UTC).isoformat()
