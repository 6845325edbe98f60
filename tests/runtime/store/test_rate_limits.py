"""Rate limits hold across gateway replicas: two limiters, two pools, one database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from runtime.db import Database
from runtime.store import RateDecision, RateLimiter


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def second_pool(pg_url: str, embedding_dim: int) -> AsyncIterator[Database]:
    """A second, independent pool on the same database: another gateway replica."""
    database = await Database.open(pg_url, embedding_dim=embedding_dim, run_migrations=False)
    try:
        yield database
    finally:
        await database.close()


async def test_the_limit_holds_across_two_replicas_and_says_when_to_retry(
    db: Database, second_pool: Database
) -> None:
    replica_a = RateLimiter(db, limit=5, window=3600)
    replica_b = RateLimiter(second_pool, limit=5, window=3600)
    decisions = [await (replica_a if i % 2 else replica_b).hit("client-1") for i in range(5)]
    assert all(d.allowed for d in decisions)
    assert [d.remaining for d in decisions] == [4, 3, 2, 1, 0]

    refused_a = await replica_a.hit("client-1")
    refused_b = await replica_b.hit("client-1")
    for refused in (refused_a, refused_b):
        assert not refused.allowed
        assert 0 < refused.retry_after <= 2 * 3600
        assert int(refused.retry_after_header) >= 1
    assert (await replica_a.hit("client-2")).allowed  # other clients are unaffected


async def test_concurrent_hits_from_two_replicas_never_exceed_the_limit(
    db: Database, second_pool: Database
) -> None:
    replica_a = RateLimiter(db, limit=20, window=3600)
    replica_b = RateLimiter(second_pool, limit=20, window=3600)
    hits = [(replica_a if i % 2 else replica_b).hit("burst") for i in range(60)]
    decisions = await asyncio.gather(*hits)
    assert sum(d.allowed for d in decisions) == 20
    async with db.connection() as conn:
        cur = await conn.execute("SELECT sum(count) FROM rate_limit_windows WHERE client = 'burst'")
        assert await cur.fetchone() == (20,)


async def test_a_refused_client_is_refused_locally_without_counting(db: Database) -> None:
    limiter = RateLimiter(db, limit=1, window=3600)
    assert (await limiter.hit("noisy")).allowed
    first_refusal = await limiter.hit("noisy")
    async with db.connection() as conn:  # even with its row gone, the replica remembers
        await conn.execute("DELETE FROM rate_limit_windows")
    second_refusal = await limiter.hit("noisy")
    assert not first_refusal.allowed and not second_refusal.allowed
    assert second_refusal.retry_after <= first_refusal.retry_after


async def test_the_previous_windows_count_weighs_on_the_current_one(db: Database) -> None:
    """A client that used its whole budget at the end of the last window cannot burst again."""
    limiter = RateLimiter(db, limit=10, window=3600)
    async with db.connection() as conn:
        cur = await conn.execute(
            "SELECT to_timestamp(floor(extract(epoch FROM clock_timestamp()) / 3600) * 3600)"
        )
        row = await cur.fetchone()
        assert row is not None
        current: datetime = row[0]
        await conn.execute(
            "INSERT INTO rate_limit_windows (client, window_start, count) VALUES (%s, %s, 10)",
            ("steady", current - timedelta(hours=1)),
        )
    elapsed = (datetime.now(UTC) - current) / timedelta(hours=1)
    allowed = sum([(await limiter.hit("steady")).allowed for _ in range(10)])
    # the previous window still counts for (1 - elapsed) of its 10 requests
    assert allowed <= int(10 * elapsed) + 1
    assert allowed < 10


async def test_a_busy_client_takes_permits_in_leases_not_one_round_trip_each(
    db: Database,
) -> None:
    limiter = RateLimiter(db, limit=10_000, window=3600, max_lease=10)
    decisions = [await limiter.hit("busy") for _ in range(200)]
    assert all(d.allowed for d in decisions)
    assert limiter.db_calls <= 25
    async with db.connection() as conn:
        cur = await conn.execute("SELECT count FROM rate_limit_windows WHERE client = 'busy'")
        row = await cur.fetchone()
    # unused at the end: at most half a lease plus the one refilled ahead of need
    assert row is not None and 200 <= row[0] <= 215


async def test_leases_shrink_near_the_limit_so_replicas_still_share_it_exactly(
    db: Database, second_pool: Database
) -> None:
    replica_a = RateLimiter(db, limit=50, window=3600, max_lease=10)
    replica_b = RateLimiter(second_pool, limit=50, window=3600, max_lease=10)
    served = 0
    for i in range(200):
        served += (await (replica_a if i % 3 else replica_b).hit("shared")).allowed
    assert served == 50


async def test_leased_permits_lapse_with_their_window(db: Database) -> None:
    clock = FakeClock()
    limiter = RateLimiter(db, limit=10_000, window=3600, max_lease=10, clock=clock)
    await limiter.hit("c")
    await limiter.hit("c")  # takes a lease of several permits
    calls = limiter.db_calls
    await limiter.hit("c")
    assert limiter.db_calls == calls  # served from the lease
    clock.now += 3600  # the window the permits belonged to is over
    await limiter.hit("c")
    assert limiter.db_calls == calls + 1


def test_retry_after_header_rounds_up_to_whole_seconds() -> None:
    assert RateDecision(False, 0.2).retry_after_header == "1"
    assert RateDecision(False, 59.01).retry_after_header == "60"


def test_a_limiter_needs_a_positive_limit_and_window(db: Database) -> None:
    with pytest.raises(ValueError, match="limit >= 1"):
        RateLimiter(db, limit=0)
    with pytest.raises(ValueError, match="window > 0"):
        RateLimiter(db, limit=1, window=0)
