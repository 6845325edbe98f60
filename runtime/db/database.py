"""The open database every store works through: a psycopg async pool on a migrated schema.

pgvector's types are looked up once when the pool opens and registered on each new
connection from that cached answer, so a connection costs no extra round trips (the
adapter's own ``register_vector_async`` runs four queries per connection). Each
connection's cursors time vector searches (:mod:`runtime.db.metrics`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import psycopg
from pgvector import Vector
from pgvector.psycopg.vector import register_vector_info
from psycopg import AsyncConnection
from psycopg.rows import TupleRow
from psycopg.types import TypeInfo
from psycopg_pool import AsyncConnectionPool, PoolClosed, PoolTimeout

from runtime.db.errors import DatabaseUnavailable, EmbeddingDimensionError
from runtime.db.metrics import TimedCursor
from runtime.db.migrate import migrate

__all__ = ["Database", "Embedding", "safe_url"]

Embedding = Sequence[float] | np.ndarray[Any, np.dtype[Any]] | Vector


class Database:
    """An open pool plus what the schema was built with (the embedding dimension)."""

    def __init__(self, pool: AsyncConnectionPool[AsyncConnection[TupleRow]], *, embedding_dim: int):
        self.pool = pool
        self.embedding_dim = embedding_dim

    def __repr__(self) -> str:
        return f"Database(pool={self.pool.name!r}, embedding_dim={self.embedding_dim})"

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        embedding_dim: int,
        run_migrations: bool = True,
        min_size: int = 1,
        max_size: int = 10,
        wait_timeout: float = 10.0,
        name: str = "mcpfleet",
    ) -> Database:
        """Migrate (unless told not to), then open a pool whose connections know pgvector.

        ``wait_timeout`` bounds how long a caller waits for a connection (e.g. while the
        database is down) before ``psycopg_pool.PoolTimeout``.

        Raises:
            MigrationError, EmbeddingDimensionError: see :func:`runtime.db.migrate.migrate`.
            psycopg.OperationalError: the server cannot be reached.
        """
        if run_migrations:
            await migrate(url, embedding_dim=embedding_dim)
        async with await AsyncConnection.connect(url) as probe:
            info = await TypeInfo.fetch(probe, "vector")
        if info is None:
            raise EmbeddingDimensionError("the vector extension is missing: run the migrations")

        async def configure(conn: AsyncConnection[TupleRow]) -> None:
            register_vector_info(conn, info)
            conn.cursor_factory = TimedCursor  # pgvector_query_duration_seconds

        pool: AsyncConnectionPool[AsyncConnection[TupleRow]] = AsyncConnectionPool(
            url,
            min_size=min_size,
            max_size=max_size,
            timeout=wait_timeout,
            configure=configure,
            name=name,
            open=False,
        )
        await pool.open(wait=True, timeout=wait_timeout)
        return cls(pool, embedding_dim=embedding_dim)

    async def close(self) -> None:
        await self.pool.close()

    async def __aenter__(self) -> Database:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @contextlib.asynccontextmanager
    async def connection(
        self, wait: float | None = None
    ) -> AsyncIterator[AsyncConnection[TupleRow]]:
        """A pooled connection; the block is one transaction, committed when it ends.

        ``wait`` bounds the wait for a free connection (default: the pool's timeout).

        Raises:
            DatabaseUnavailable: no connection within ``wait``, or the server dropped it.
        """
        try:
            async with self.pool.connection(timeout=wait) as conn:
                try:
                    yield conn
                except psycopg.OperationalError as exc:
                    if conn.broken or conn.closed:
                        raise DatabaseUnavailable(f"lost the database connection: {exc}") from exc
                    raise
        except (PoolTimeout, PoolClosed) as exc:
            raise DatabaseUnavailable(f"no database connection available: {exc}") from exc

    async def ping(self, wait: float = 1.0) -> bool:
        """True if the database answers a trivial query within about ``wait`` seconds."""
        try:
            async with asyncio.timeout(wait), self.connection(wait=wait) as conn:
                await conn.execute("SELECT 1")
        except (psycopg.Error, TimeoutError):
            return False
        return True

    def vector(self, embedding: Embedding) -> Vector:
        """``embedding`` as a pgvector value, checked against the schema's dimension.

        Raises:
            EmbeddingDimensionError: wrong length, or not a flat sequence of numbers.
        """
        if isinstance(embedding, Vector):
            vector = embedding
        else:
            try:
                values = embedding if isinstance(embedding, np.ndarray) else list(embedding)
                vector = Vector(values)
            except (TypeError, ValueError) as exc:
                raise EmbeddingDimensionError(f"not an embedding: {exc}") from exc
        if vector.dimensions() != self.embedding_dim:
            raise EmbeddingDimensionError(
                f"embedding has {vector.dimensions()} dimensions; this database stores "
                f"{self.embedding_dim} (the catalog's embedding model)"
            )
        return vector


def safe_url(url: str) -> str:
    """``url`` with any password masked, fit for logs and error messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc}"))
