"""Reading the audit log back: filtered, newest first, a page at a time (the console).

Pages are keyset-paginated on ``(at, id)`` — a cursor, not an offset — so a page costs
the same however deep it is and rows written meanwhile never shift or repeat entries.
Which servers a reader may see is the caller's decision (a list of server names); this
module only applies it.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg.rows import class_row

from runtime.db import Database

__all__ = ["FAILED", "AuditFilter", "AuditPage", "AuditRow", "AuditSearch"]

FAILED = "failed"
"""Status filter meaning every status but ``ok``."""


@dataclass(frozen=True)
class AuditFilter:
    """``servers`` bounds the search (empty: nothing); the rest narrow it when set."""

    servers: Sequence[str]
    server: str | None = None
    tool: str | None = None
    client: str | None = None
    status: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class AuditRow:
    id: uuid.UUID
    at: datetime
    client: str
    server: str
    tool: str
    status: str
    latency_ms: float
    arguments: dict[str, Any]
    error: str | None


@dataclass(frozen=True)
class AuditPage:
    rows: list[AuditRow]
    next_cursor: str | None


class AuditSearch:
    """Read-only queries over ``audit_log``."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def page(
        self, where: AuditFilter, *, limit: int = 50, cursor: str | None = None
    ) -> AuditPage:
        """Up to ``limit`` rows older than ``cursor``, newest first.

        Raises:
            ValueError: a cursor this module did not make, or a limit outside 1 to 500.
        """
        if not 1 <= limit <= 500:
            raise ValueError(f"limit must be between 1 and 500, got {limit}")
        clauses = ["server = ANY(%s)"]
        params: list[Any] = [list(where.servers)]
        if where.server:
            clauses.append("server = %s")
            params.append(where.server)
        if where.tool:
            clauses.append("tool ILIKE %s")
            params.append(f"%{_escape_like(where.tool)}%")
        if where.client:
            clauses.append("client ILIKE %s")
            params.append(f"%{_escape_like(where.client)}%")
        if where.status == FAILED:
            clauses.append("status <> 'ok'")
        elif where.status:
            clauses.append("status = %s")
            params.append(where.status)
        if where.since:
            clauses.append("at >= %s")
            params.append(where.since)
        if where.until:
            clauses.append("at < %s")
            params.append(where.until)
        if cursor:
            at, row_id = _decode(cursor)
            clauses.append("(at, id) < (%s, %s)")
            params += [at, row_id]
        sql = (
            "SELECT id, at, client, server, tool, status, latency_ms, arguments, error "
            f"FROM audit_log WHERE {' AND '.join(clauses)} "
            "ORDER BY at DESC, id DESC LIMIT %s"
        )
        params.append(limit + 1)
        async with self._db.connection() as conn:
            cur = conn.cursor(row_factory=class_row(AuditRow))
            await cur.execute(sql, params)
            rows = await cur.fetchall()
        more = len(rows) > limit
        rows = rows[:limit]
        return AuditPage(rows, _encode(rows[-1]) if more and rows else None)

    async def servers(self) -> list[str]:
        """Every server name in the log, by a skip scan of the (server, tool, at) index."""
        async with self._db.connection() as conn:
            cur = await conn.execute(
                """
                WITH RECURSIVE s AS (
                    (SELECT server FROM audit_log ORDER BY server LIMIT 1)
                    UNION ALL
                    SELECT (SELECT a.server FROM audit_log a WHERE a.server > s.server
                            ORDER BY a.server LIMIT 1)
                    FROM s WHERE s.server IS NOT NULL
                )
                SELECT server FROM s WHERE server IS NOT NULL
                """
            )
            return [str(r[0]) for r in await cur.fetchall()]


def _encode(row: AuditRow) -> str:
    raw = f"{row.at.isoformat()}|{row.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, row_id = raw.split("|", 1)
        return datetime.fromisoformat(at), uuid.UUID(row_id)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError("not a cursor of this audit log; start from the first page") from exc


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
