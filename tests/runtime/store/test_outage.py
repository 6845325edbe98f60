"""With the database down: cached tokens keep working, limits fail open, errors are typed."""

from __future__ import annotations

import psycopg
import pytest

from runtime.db import Database, DatabaseUnavailable, EmbeddedPostgres
from runtime.store import RateLimiter, TokenStore


async def test_cached_tokens_keep_working_and_uncached_ones_get_a_typed_error(
    private_pg_server: EmbeddedPostgres, embedding_dim: int
) -> None:
    db = await Database.open(private_pg_server.url(), embedding_dim=embedding_dim)
    try:
        store = TokenStore(db, cache_ttl=60, db_wait=0.5)
        cached = await store.create("cached")
        uncached = await store.create("uncached")
        await store.verify(cached.token)
        private_pg_server.stop()

        assert (await store.verify(cached.token)).name == "cached"
        with pytest.raises(DatabaseUnavailable) as down:
            await store.verify(uncached.token)
        assert isinstance(down.value, psycopg.OperationalError)  # old handlers still match
    finally:
        await db.close()


async def test_rate_limits_fail_open_while_the_database_is_down_unless_told_not_to(
    private_pg_server: EmbeddedPostgres, embedding_dim: int
) -> None:
    db = await Database.open(private_pg_server.url(), embedding_dim=embedding_dim)
    try:
        lenient = RateLimiter(db, limit=1, db_wait=0.5)
        strict = RateLimiter(db, limit=1, db_wait=0.5, fail_open=False)
        assert not (await lenient.hit("c")).degraded
        private_pg_server.stop()

        decision = await lenient.hit("c")
        assert decision.allowed and decision.degraded
        with pytest.raises(DatabaseUnavailable):
            await strict.hit("c")
    finally:
        await db.close()


async def test_ping_tells_whether_the_database_answers(
    private_pg_server: EmbeddedPostgres, embedding_dim: int
) -> None:
    db = await Database.open(private_pg_server.url(), embedding_dim=embedding_dim)
    try:
        assert await db.ping()
        private_pg_server.stop()
        assert not await db.ping(wait=0.5)
        private_pg_server.start()
        assert await db.ping(wait=10)  # the pool reconnects on its own
    finally:
        await db.close()
