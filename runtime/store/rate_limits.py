"""Per-client rate limits whose state lives in PostgreSQL, so every gateway replica agrees.

Each request is one call of ``mcpfleet_rate_limit_hit`` (migration 003): a sliding-window
counter computed and updated under a row lock by the database, on the database's clock.
A client that was refused is then refused locally until its ``retry_after`` passes, so a
client hammering the gateway costs no database round trips while it waits. That is
exact, not an approximation: refused hits are not counted, so no replica can make the
wait shorter.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from psycopg import AsyncConnection
from psycopg.rows import TupleRow

from runtime.db import Database, DatabaseUnavailable

__all__ = ["RateDecision", "RateLimiter"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RateDecision:
    """Whether one request may proceed; if not, how long until the same one would."""

    allowed: bool
    retry_after: float = 0.0
    remaining: int = 0
    degraded: bool = False  # allowed without counting: the database could not be reached

    @property
    def retry_after_header(self) -> str:
        """``Retry-After`` in whole seconds, rounded up, at least 1."""
        return str(max(1, math.ceil(self.retry_after)))


class RateLimiter:
    """``limit`` requests per ``window`` seconds per client, shared through the database."""

    def __init__(
        self,
        db: Database,
        *,
        limit: int,
        window: float = 60.0,
        fail_open: bool = True,
        db_wait: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``fail_open``: while the database cannot be reached (within ``db_wait``), let
        requests through uncounted (``degraded``) rather than fail them; the limit protects
        upstreams, it is not access control. With ``fail_open=False`` the error is raised.
        """
        if limit < 1 or window <= 0:
            raise ValueError(f"need limit >= 1 and window > 0, got {limit} per {window}s")
        self._db = db
        self._fail_open = fail_open
        self._db_wait = db_wait
        self._warned_at: float | None = None
        self.limit = limit
        self.window = window
        self._clock = clock
        self._blocked_until: dict[str, float] = {}
        self._next_prune = clock() + window

    async def hit(self, client: str) -> RateDecision:
        """Count one request by ``client`` if it fits the limit; never counts a refused one.

        Raises:
            DatabaseUnavailable: only with ``fail_open=False``.
        """
        now = self._clock()
        until = self._blocked_until.get(client)
        if until is not None:
            if now < until:
                return RateDecision(False, until - now)
            del self._blocked_until[client]
        try:
            return await self._count(client, now)
        except DatabaseUnavailable as exc:
            if not self._fail_open:
                raise
            if self._warned_at is None or now - self._warned_at >= self.window:
                self._warned_at = now
                log.warning("rate limits not enforced: %s", exc)
            return RateDecision(True, degraded=True)

    async def _count(self, client: str, now: float) -> RateDecision:
        async with self._db.connection(wait=self._db_wait) as conn:
            cur = await conn.execute(
                "SELECT allowed, retry_after, remaining FROM mcpfleet_rate_limit_hit(%s, %s, %s)",
                (client, self.limit, self.window),
            )
            row = await cur.fetchone()
            if now >= self._next_prune:
                await self._prune(conn, now)
        assert row is not None
        allowed, retry_after, remaining = row
        decision = RateDecision(bool(allowed), float(retry_after), int(remaining))
        if not decision.allowed:
            self._blocked_until[client] = now + decision.retry_after
        return decision

    async def _prune(self, conn: AsyncConnection[TupleRow], now: float) -> None:
        """Forget windows too old to weigh in, here and in the shared table (once a window)."""
        self._next_prune = now + self.window
        self._blocked_until = {c: t for c, t in self._blocked_until.items() if t > now}
        await conn.execute(
            "DELETE FROM rate_limit_windows WHERE window_start < now() - %s * interval '1s'",
            (2 * self.window,),
        )
