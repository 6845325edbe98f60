"""The open database every store works through: a psycopg async pool on a migrated schema.

pgvector's types are looked up once when the pool opens and registered on each new
connection from that cached answer, so a connection costs no extra round trips (the
adapter's own ``register_vector_async`` runs four queries per connection).

Outages: psycopg_pool retries a lost connection with exponential back-off (1, 2, 4, 8 s…),
which alone kept the gateway on a dead pool for ~8 s after PostgreSQL came back. Here a
lost slot is given up after ``reconnect_timeout`` (2 s) and re-made on the next demand
instead; a connection that sat idle for more than a second is tested before it is handed
out (busy ones are not: no extra round trip under load), and the first failure of an
outage has the pool test all its idle connections (``check()``), so a stale connection
from before a restart is not handed out once the server answers again. Each connection's
cursors time vector searches (:mod:`runtime.db.metrics`).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import weakref
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

IDLE_CHECK = 1.0  # seconds idle after which a pooled connection is tested before use
Embedding = Sequence[float] | np.ndarray[Any, np.dtype[Any]] | Vector


class Database:
    """An open pool plus what the schema was built with (the embedding dimension)."""

    def __init__(self, pool: AsyncConnectionPool[AsyncConnection[TupleRow]], *, embedding_dim: int):
        self.pool = pool
        self.embedding_dim = embedding_dim
        self.outages = 0  # times a connection was found lost or none came (for tests, metrics)
        self._checking: asyncio.Task[None] | None = None

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
        reconnect_timeout: float = 2.0,
        name: str = "mcpfleet",
    ) -> Database:
        """Migrate (unless told not to), then open a pool whose connections know pgvector.

        ``wait_timeout`` bounds how long a caller waits for a connection (e.g. while the
        database is down) before ``psycopg_pool.PoolTimeout``; ``reconnect_timeout`` how
        long the pool keeps re-trying a lost connection in the background before it
        leaves the slot to be re-made on demand (see the module docstring).

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

        returned: weakref.WeakKeyDictionary[AsyncConnection[TupleRow], float]
        returned = weakref.WeakKeyDictionary()

        async def configure(conn: AsyncConnection[TupleRow]) -> None:
            register_vector_info(conn, info)
            conn.cursor_factory = TimedCursor  # pgvector_query_duration_seconds
            returned[conn] = time.monotonic()

        async def reset(conn: AsyncConnection[TupleRow]) -> None:
            returned[conn] = time.monotonic()

        async def check(conn: AsyncConnection[TupleRow]) -> None:
            if time.monotonic() - returned.get(conn, 0.0) > IDLE_CHECK:
                await AsyncConnectionPool.check_connection(conn)

        pool: AsyncConnectionPool[AsyncConnection[TupleRow]] = AsyncConnectionPool(
            url,
            min_size=min_size,
            max_size=max_size,
            timeout=wait_timeout,
            reconnect_timeout=reconnect_timeout,
            configure=configure,
            reset=reset,
            check=check,
            name=name,
            open=False,
        )
        await pool.open(wait=True, timeout=wait_timeout)
        return cls(pool, embedding_dim=embedding_dim)

    async def close(self) -> None:
        if self._checking is not None:
            self._checking.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._checking
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
        self, wait: float | None = None, *, autocommit: bool = False
    ) -> AsyncIterator[AsyncConnection[TupleRow]]:
        """A pooled connection; the block is one transaction, committed when it ends.

        ``wait`` bounds the wait for a free connection (default: the pool's timeout).
        ``autocommit``: each statement commits on its own, for hot paths whose statements
        are atomic anyway (one round trip instead of three: no ``BEGIN``/``COMMIT``).

        Raises:
            DatabaseUnavailable: no connection within ``wait``, or the server dropped it
                (also when that shows only at commit).
        """
        held: AsyncConnection[TupleRow] | None = None
        try:
            async with self.pool.connection(timeout=wait) as conn:
                held = conn
                if not autocommit:
                    yield conn
                else:
                    await conn.set_autocommit(True)  # idle: no round trip
                    try:
                        yield conn
                    finally:
                        if not (conn.broken or conn.closed):
                            await conn.set_autocommit(False)
        except DatabaseUnavailable:
            self._lost()
            raise
        except (PoolTimeout, PoolClosed) as exc:
            self._lost()
            raise DatabaseUnavailable(f"no database connection available: {exc}") from exc
        except psycopg.OperationalError as exc:
            if held is None or not (held.broken or held.closed):
                raise
            self._lost()
            raise DatabaseUnavailable(f"lost the database connection: {exc}") from exc

    def _lost(self) -> None:
        """An outage began (or goes on): have the pool weed out its dead idle connections."""
        self.outages += 1
        if self._checking is None or self._checking.done():
            self._checking = asyncio.create_task(self._check_pool(), name="db-pool-check")

    async def _check_pool(self) -> None:
        with contextlib.suppress(psycopg.Error, PoolClosed):
            await self.pool.check()

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
