"""Application contexts (``app_contexts``): notes about an application, found by meaning.

Triage's "retrieve stored context" route reads these: the contexts nearest a query's
embedding, optionally within one application. ``(app, title)`` names a context, so
saving it again replaces its body and embedding.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from runtime.db import Database, Embedding

__all__ = ["AppContext", "AppContexts", "ContextMatch"]

_COLUMNS = "id, app, title, body, metadata, created_at, updated_at"


@dataclass(frozen=True)
class AppContext:
    id: int
    app: str
    title: str
    body: str
    metadata: dict[str, Any]
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class ContextMatch:
    """A stored context near the query; ``distance`` is cosine distance (0 = same)."""

    context: AppContext
    distance: float


class AppContexts:
    """Writes and searches ``app_contexts``."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def put(
        self,
        app: str,
        title: str,
        body: str,
        *,
        embedding: Embedding,
        metadata: Mapping[str, Any] | None = None,
    ) -> AppContext:
        """Save (or replace) the context ``title`` of ``app``.

        Raises:
            EmbeddingDimensionError: the embedding's length is not the schema's.
        """
        vector = self._db.vector(embedding)
        async with self._db.connection() as conn:
            cur = conn.cursor(row_factory=class_row(AppContext))
            await cur.execute(
                f"""
                INSERT INTO app_contexts (app, title, body, embedding, metadata)
                VALUES (%s, %s, %s, %s, %s)
                ON CONFLICT (app, title) DO UPDATE SET
                    body = EXCLUDED.body,
                    embedding = EXCLUDED.embedding,
                    metadata = EXCLUDED.metadata,
                    updated_at = now()
                RETURNING {_COLUMNS}
                """,
                (app, title, body, vector, Jsonb(dict(metadata or {}))),
            )
            saved = await cur.fetchone()
        assert saved is not None
        return saved

    async def nearest(
        self, embedding: Embedding, *, k: int = 5, app: str | None = None
    ) -> list[ContextMatch]:
        """The ``k`` contexts closest to ``embedding`` (within ``app`` if given), nearest first."""
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        vector = self._db.vector(embedding)
        where = "WHERE app = %(app)s" if app is not None else ""
        async with self._db.connection() as conn:
            if app is not None:
                await conn.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
            cur = await conn.execute(
                f"""
                SELECT {_COLUMNS}, embedding <=> %(q)s AS distance
                FROM app_contexts {where}
                ORDER BY embedding <=> %(q)s
                LIMIT %(k)s
                """,
                {"q": vector, "k": k, "app": app},
            )
            rows = await cur.fetchall()
        matches = [ContextMatch(AppContext(*row[:-1]), float(row[-1])) for row in rows]
        return sorted(matches, key=lambda m: m.distance)

    async def get(self, app: str, title: str) -> AppContext | None:
        async with self._db.connection() as conn:
            cur = conn.cursor(row_factory=class_row(AppContext))
            await cur.execute(
                f"SELECT {_COLUMNS} FROM app_contexts WHERE app = %s AND title = %s", (app, title)
            )
            return await cur.fetchone()

    async def list_contexts(self, app: str | None = None) -> list[AppContext]:
        where, params = ("WHERE app = %s", (app,)) if app is not None else ("", ())
        async with self._db.connection() as conn:
            cur = conn.cursor(row_factory=class_row(AppContext))
            await cur.execute(
                f"SELECT {_COLUMNS} FROM app_contexts {where} ORDER BY app, title", params
            )
            return await cur.fetchall()

    async def delete(self, app: str, title: str) -> bool:
        async with self._db.connection() as conn:
            cur = await conn.execute(
                "DELETE FROM app_contexts WHERE app = %s AND title = %s", (app, title)
            )
            return cur.rowcount == 1
