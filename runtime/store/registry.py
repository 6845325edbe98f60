"""The registry of MCP servers (``mcp_servers``): declared, discovered, healthy or not.

The catalog seeds it (:meth:`ServerRegistry.sync_catalog`), discovery adds what it finds,
the gateway writes health and the tools each server lists. Tools are kept as the MCP
SDK's own ``Tool`` objects, not a copy of their shape.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal

from mcp.types import Tool
from psycopg.types.json import Jsonb

from catalog import Catalog, Server
from catalog.naming import server_endpoints
from runtime.db import Database

__all__ = ["Drift", "Health", "ServerRecord", "ServerRegistry", "Source"]

Health = Literal["unknown", "healthy", "degraded", "unhealthy"]
Source = Literal["catalog", "discovery"]
_HEALTH: frozenset[str] = frozenset({"unknown", "healthy", "degraded", "unhealthy"})


@dataclass(frozen=True)
class Drift:
    """How a live server differs from its catalog entry (discovery fills this in)."""

    tools_added: tuple[str, ...] = ()
    tools_removed: tuple[str, ...] = ()
    endpoints_changed: bool = False
    transport_changed: bool = False

    @property
    def drifted(self) -> bool:
        return bool(
            self.tools_added
            or self.tools_removed
            or self.endpoints_changed
            or self.transport_changed
        )

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Drift:
        return cls(
            tools_added=tuple(data.get("tools_added", ())),
            tools_removed=tuple(data.get("tools_removed", ())),
            endpoints_changed=bool(data.get("endpoints_changed", False)),
            transport_changed=bool(data.get("transport_changed", False)),
        )


@dataclass(frozen=True)
class ServerRecord:
    """One row of the registry."""

    name: str
    kind: str
    transport: str
    endpoints: tuple[str, ...]
    source: Source
    in_catalog: bool
    description: str = ""
    health: Health = "unknown"
    last_error: str | None = None
    last_seen: datetime | None = None
    tools: tuple[Tool, ...] = ()
    drift: Drift = field(default_factory=Drift)
    updated_at: datetime | None = None


_COLUMNS = (
    "name, kind, transport, endpoints, source, in_catalog, description, health, last_error, "
    "last_seen, tools, drift, updated_at"
)


class ServerRegistry:
    """Reads and writes ``mcp_servers``."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def upsert(
        self,
        name: str,
        *,
        kind: str,
        transport: str,
        endpoints: Sequence[str],
        source: Source,
        in_catalog: bool,
        description: str = "",
    ) -> ServerRecord:
        """Insert or update a server's declaration; health and tools are left as they are.

        A server once declared by the catalog keeps ``source='catalog'`` when discovery
        later reports it too.
        """
        async with self._db.connection() as conn:
            cur = await conn.execute(
                f"""
                INSERT INTO mcp_servers
                    (name, kind, transport, endpoints, source, in_catalog, description)
                VALUES (%s, %s, %s, %s, %s, %s, %s)
                ON CONFLICT (name) DO UPDATE SET
                    kind = EXCLUDED.kind,
                    transport = EXCLUDED.transport,
                    endpoints = EXCLUDED.endpoints,
                    source = CASE WHEN mcp_servers.source = 'catalog' THEN 'catalog'
                                  ELSE EXCLUDED.source END,
                    in_catalog = EXCLUDED.in_catalog,
                    description = EXCLUDED.description,
                    updated_at = now()
                RETURNING {_COLUMNS}
                """,
                (name, kind, transport, Jsonb(list(endpoints)), source, in_catalog, description),
            )
            row = await cur.fetchone()
        assert row is not None
        return _record(row)

    async def sync_catalog(
        self,
        catalog: Catalog,
        *,
        endpoints: Callable[[Server], Sequence[str]] | None = None,
    ) -> list[ServerRecord]:
        """Declare every catalog server; mark servers no longer in the catalog as such.

        ``endpoints`` maps a server to the URLs this process reaches it at (default: the
        in-cluster URLs from :mod:`catalog.naming`; ``mcpfleet up`` passes local ones).
        """
        urls = endpoints or (lambda server: server_endpoints(server, catalog.platform))
        records = [
            await self.upsert(
                server.name,
                kind=server.kind,
                transport=server.transport,
                endpoints=urls(server),
                source="catalog",
                in_catalog=True,
                description=server.description,
            )
            for server in catalog.servers
        ]
        names = [server.name for server in catalog.servers]
        async with self._db.connection() as conn:
            await conn.execute(
                "UPDATE mcp_servers SET in_catalog = false, updated_at = now() "
                "WHERE in_catalog AND NOT (name = ANY(%s))",
                (names,),
            )
        return records

    async def set_health(self, name: str, health: Health, *, error: str | None = None) -> bool:
        """Record a health check; a reachable server's ``last_seen`` moves to now.

        Returns False when no server has that name.

        Raises:
            ValueError: ``health`` is not one of the four states.
        """
        if health not in _HEALTH:
            raise ValueError(f"health must be one of {sorted(_HEALTH)}, got {health!r}")
        async with self._db.connection() as conn:
            cur = await conn.execute(
                """
                UPDATE mcp_servers SET
                    health = %(health)s,
                    last_error = %(error)s,
                    last_seen = CASE WHEN %(health)s IN ('healthy', 'degraded') THEN now()
                                     ELSE last_seen END,
                    updated_at = now()
                WHERE name = %(name)s
                """,
                {"health": health, "error": error, "name": name},
            )
            return cur.rowcount == 1

    async def set_tools(self, name: str, tools: Iterable[Tool]) -> bool:
        """Store the tools a server listed (names, descriptions, schemas, annotations)."""
        payload = [tool.model_dump(mode="json", by_alias=True, exclude_none=True) for tool in tools]
        async with self._db.connection() as conn:
            cur = await conn.execute(
                "UPDATE mcp_servers SET tools = %s, updated_at = now() WHERE name = %s",
                (Jsonb(payload), name),
            )
            return cur.rowcount == 1

    async def set_drift(self, name: str, drift: Drift) -> bool:
        async with self._db.connection() as conn:
            cur = await conn.execute(
                "UPDATE mcp_servers SET drift = %s, updated_at = now() WHERE name = %s",
                (Jsonb(asdict(drift)), name),
            )
            return cur.rowcount == 1

    async def get(self, name: str) -> ServerRecord | None:
        async with self._db.connection() as conn:
            cur = await conn.execute(f"SELECT {_COLUMNS} FROM mcp_servers WHERE name = %s", (name,))
            row = await cur.fetchone()
        return None if row is None else _record(row)

    async def list_servers(self, *, health: Health | None = None) -> list[ServerRecord]:
        """Every server by name, or only those in the given health state."""
        where, params = ("WHERE health = %s", (health,)) if health else ("", ())
        async with self._db.connection() as conn:
            cur = await conn.execute(
                f"SELECT {_COLUMNS} FROM mcp_servers {where} ORDER BY name", params
            )
            rows = await cur.fetchall()
        return [_record(row) for row in rows]

    async def delete(self, name: str) -> bool:
        async with self._db.connection() as conn:
            cur = await conn.execute("DELETE FROM mcp_servers WHERE name = %s", (name,))
            return cur.rowcount == 1


def _record(row: tuple[Any, ...]) -> ServerRecord:
    (
        name,
        kind,
        transport,
        endpoints,
        source,
        in_catalog,
        description,
        health,
        last_error,
        last_seen,
        tools,
        drift,
        updated_at,
    ) = row
    return ServerRecord(
        name=name,
        kind=kind,
        transport=transport,
        endpoints=tuple(endpoints),
        source=source,
        in_catalog=in_catalog,
        description=description,
        health=health,
        last_error=last_error,
        last_seen=last_seen,
        tools=tuple(Tool.model_validate(tool) for tool in tools),
        drift=Drift.from_json(drift if isinstance(drift, dict) else json.loads(drift)),
        updated_at=updated_at,
    )
