"""Discovery's notes on the registry, read back for people: each server's catalog
proposal (status, branch or pull request, diff, validation) and its drift.

Discovery writes them (``mcp_servers.discovery`` and ``drift``, see
``runtime.discovery.records``); this reader is for the console, which must not import
discovery itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from runtime.db import Database

__all__ = ["DiscoveryNotes", "ServerNotes"]


@dataclass(frozen=True)
class ServerNotes:
    name: str
    source: str
    in_catalog: bool
    health: str
    last_error: str | None
    drift: dict[str, Any]
    discovery: dict[str, Any]
    updated_at: datetime | None

    @property
    def proposal(self) -> dict[str, Any] | None:
        note = self.discovery.get("proposal")
        return note if isinstance(note, dict) and note else None

    @property
    def drifted(self) -> bool:
        return bool(
            self.drift.get("reasons")
            or self.drift.get("tools_added")
            or self.drift.get("tools_removed")
            or self.drift.get("endpoints_changed")
            or self.drift.get("transport_changed")
            or self.drift.get("missing")
        )


class DiscoveryNotes:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def servers(self) -> list[ServerNotes]:
        """Every registry row with its notes, by name."""
        async with self._db.connection() as conn:
            cur = await conn.execute(
                "SELECT name, source, in_catalog, health, last_error, drift, discovery, "
                "updated_at FROM mcp_servers ORDER BY name"
            )
            rows = await cur.fetchall()
        return [
            ServerNotes(
                name=name,
                source=source,
                in_catalog=bool(in_catalog),
                health=health,
                last_error=last_error,
                drift=drift if isinstance(drift, dict) else {},
                discovery=discovery if isinstance(discovery, dict) else {},
                updated_at=updated_at,
            )
            for name, source, in_catalog, health, last_error, drift, discovery, updated_at in rows
        ]
