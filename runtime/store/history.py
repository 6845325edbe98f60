"""Query history (``query_history``): every query with its embedding, route, cost and answer.

The triage layer records each query here and reads it back as its semantic cache: the
nearest past queries by cosine distance, through the HNSW index. Filters (age, answered
only) run with pgvector's iterative index scan, so a filtered search still returns ``k``
rows instead of the few that survive filtering of the first ``ef_search`` candidates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from psycopg.rows import class_row

from runtime.db import Database, Embedding

__all__ = ["QueryHistory", "QueryMatch", "QueryRecord"]

_COLUMNS = (
    "id, query, route, model, servers, client, latency_ms, input_tokens, output_tokens, "
    "cost_usd, answer, created_at"
)


@dataclass(frozen=True)
class QueryRecord:
    id: int
    query: str
    route: str
    model: str | None
    servers: list[str]
    client: str | None
    latency_ms: float
    input_tokens: int
    output_tokens: int
    cost_usd: float
    answer: str | None
    created_at: datetime


@dataclass(frozen=True)
class QueryMatch:
    """A past query near the one asked; ``distance`` is cosine distance (0 = same)."""

    record: QueryRecord
    distance: float

    @property
    def similarity(self) -> float:
        return 1.0 - self.distance


class QueryHistory:
    """Writes and searches ``query_history``."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(
        self,
        query: str,
        *,
        embedding: Embedding | None,
        route: str,
        model: str | None = None,
        servers: Sequence[str] = (),
        client: str | None = None,
        latency_ms: float = 0.0,
        input_tokens: int = 0,
        output_tokens: int = 0,
        cost_usd: float = 0.0,
        answer: str | None = None,
    ) -> int:
        """Record one query; returns its id.

        Raises:
            EmbeddingDimensionError: the embedding's length is not the schema's.
        """
        vector = None if embedding is None else self._db.vector(embedding)
        async with self._db.connection() as conn:
            cur = await conn.execute(
                """
                INSERT INTO query_history
                    (query, embedding, route, model, servers, client, latency_ms,
                     input_tokens, output_tokens, cost_usd, answer)
                VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
                RETURNING id
                """,
                (
                    _clean(query),
                    vector,
                    route,
                    model,
                    list(servers),
                    client,
                    latency_ms,
                    input_tokens,
                    output_tokens,
                    cost_usd,
                    None if answer is None else _clean(answer),
                ),
            )
            row = await cur.fetchone()
        assert row is not None
        return int(row[0])

    async def nearest(
        self,
        embedding: Embedding,
        *,
        k: int = 5,
        since: datetime | None = None,
        answered_only: bool = False,
        max_distance: float | None = None,
    ) -> list[QueryMatch]:
        """The ``k`` past queries closest to ``embedding``, nearest first.

        ``since`` limits to recent queries (a cache TTL), ``answered_only`` to those with an
        answer, ``max_distance`` drops matches further away than that.
        """
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        vector = self._db.vector(embedding)
        filters = ["embedding IS NOT NULL"]
        params: dict[str, object] = {"q": vector, "k": k}
        if since is not None:
            filters.append("created_at >= %(since)s")
            params["since"] = since
        if answered_only:
            filters.append("answer IS NOT NULL")
        async with self._db.connection() as conn:
            if len(filters) > 1:
                await conn.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
            cur = await conn.execute(
                f"""
                SELECT {_COLUMNS}, embedding <=> %(q)s AS distance
                FROM query_history
                WHERE {" AND ".join(filters)}
                ORDER BY embedding <=> %(q)s
                LIMIT %(k)s
                """,
                params,
            )
            rows = await cur.fetchall()
        matches = [QueryMatch(QueryRecord(*row[:-1]), float(row[-1])) for row in rows]
        matches.sort(key=lambda m: m.distance)  # relaxed_order may be slightly out of order
        if max_distance is not None:
            matches = [m for m in matches if m.distance <= max_distance]
        return matches

    async def recent(self, limit: int = 50) -> list[QueryRecord]:
        async with self._db.connection() as conn:
            cur = conn.cursor(row_factory=class_row(QueryRecord))
            await cur.execute(
                f"SELECT {_COLUMNS} FROM query_history ORDER BY id DESC LIMIT %s", (limit,)
            )
            return await cur.fetchall()


def _clean(text: str) -> str:
    """PostgreSQL text cannot hold NUL (a question or a tool's answer may): the record is
    kept with U+FFFD in its place rather than lost."""
    return text.replace("\x00", "\ufffd")
