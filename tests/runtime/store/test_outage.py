"""With the database down: cached tokens keep working, limits fail open, errors are typed."""

from __future__ import annotations

import psycopg
import pytest

from runtime.db import Database, DatabaseUnavailable, EmbeddedPostgres
from runtime.store import RateLimiter, TokenRevoked, TokenStore
from tests.waiting import eventually


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


class FakeClock:
    """A monotonic clock the test moves by hand, so windows pass without sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_verified_token_outlives_its_cache_entry_during_an_outage_but_only_so_long(
    private_pg_server: EmbeddedPostgres, embedding_dim: int
) -> None:
    """Past the fresh window the cached verdict is served (no wait); past the stale
    window it is not; and a revocation made before the outage applies once it is over."""
    db = await Database.open(private_pg_server.url(), embedding_dim=embedding_dim)
    try:
        clock = FakeClock()
        store = TokenStore(db, cache_ttl=5, stale_ttl=60, retry_interval=0.5, clock=clock)
        other_replica = TokenStore(db)
        kept, revoked = await store.create("kept"), await store.create("revoked")
        await store.verify(kept.token)
        await store.verify(revoked.token)
        await other_replica.revoke("revoked")  # this replica has not heard of it yet
        private_pg_server.stop()

        clock.now += 30  # past the fresh window, inside the stale one
        assert (await store.verify(kept.token)).name == "kept"
        assert (await store.verify(revoked.token)).name == "revoked"
        calls_before = db.outages
        for _ in range(20):  # served from the cache: no request waits on the database
            await store.verify(kept.token)
        assert store.served_stale >= 20 and db.outages <= calls_before + 1
        clock.now += 31  # past the stale window: the database must answer
        with pytest.raises(DatabaseUnavailable):
            await store.verify(kept.token)

        private_pg_server.start()
        assert (await store.verify(kept.token)).name == "kept"  # stale, and looks for the DB
        await eventually(lambda: not store.database_down, what="the database found again")
        clock.now += 1
        assert (await store.verify(kept.token)).name == "kept"
        with pytest.raises(TokenRevoked):
            await store.verify(revoked.token)
    finally:
        await store.aclose()
        await db.close()


async def test_during_an_outage_the_limiter_keeps_a_local_budget_without_asking_per_request(
    private_pg_server: EmbeddedPostgres, embedding_dim: int
) -> None:
    db = await Database.open(private_pg_server.url(), embedding_dim=embedding_dim)
    clock = FakeClock()
    limiter = RateLimiter(db, limit=5, window=60, db_wait=0.5, retry_interval=2, clock=clock)
    try:
        assert (await limiter.hit("c")).allowed
        private_pg_server.stop()
        decisions = [await limiter.hit("c") for _ in range(8)]
        asked = limiter.db_calls
        assert [d.allowed for d in decisions] == [True] * 5 + [False] * 3
        assert all(d.degraded for d in decisions)
        assert 0 < decisions[-1].retry_after <= 60
        assert (await limiter.hit("other")).allowed  # each client has its own budget
        assert limiter.db_calls == asked  # no request went to the database in between

        private_pg_server.start()
        clock.now += 60  # the next window
        assert (await limiter.hit("c")).degraded  # still local until the probe finds the DB
        await eventually(lambda: not limiter.database_down, what="the database found again")
        decision = await limiter.hit("c")
        assert decision.allowed and not decision.degraded
    finally:
        await limiter.aclose()
        await db.close()
