"""Per-client rate limits whose state lives in PostgreSQL, so every gateway replica agrees.

The count is a sliding-window counter kept by ``mcpfleet_rate_limit_take`` (migration
006), computed and updated under a row lock on the database's clock. Two things keep the
database off the hot path without giving up the shared limit:

* **Leases.** A replica takes several permits in one call and hands them out locally. The
  lease size follows what the database says is left: up to ``max_lease`` while the client
  is far from its limit, one permit at a time as it gets close, so the limit stays exact
  where it matters. Permits belong to the window they were taken in and lapse with it
  (unused ones were counted: a client that stops mid-lease loses at most a lease's worth).
* **Refusals are remembered.** A refused client is refused locally until its
  ``retry_after`` passes. Refused hits are not counted, so no replica can make that wait
  shorter: this is exact.
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


@dataclass
class _Lease:
    permits: int  # still to hand out
    remaining: int  # what the database said was left after granting them
    expires: float  # local clock: the end of the window the permits belong to


class RateLimiter:
    """``limit`` requests per ``window`` seconds per client, shared through the database."""

    def __init__(
        self,
        db: Database,
        *,
        limit: int,
        window: float = 60.0,
        max_lease: int = 10,
        fail_open: bool = True,
        db_wait: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``max_lease=1`` asks the database on every request.

        ``fail_open``: while the database cannot be reached (within ``db_wait``), let
        requests through uncounted (``degraded``) rather than fail them; the limit protects
        upstreams, it is not access control. With ``fail_open=False`` the error is raised.
        """
        if limit < 1 or window <= 0 or max_lease < 1:
            raise ValueError(
                f"need limit >= 1, window > 0 and max_lease >= 1, "
                f"got {limit} per {window}s, lease {max_lease}"
            )
        self._db = db
        self.limit = limit
        self.window = window
        self._max_lease = max_lease
        self._fail_open = fail_open
        self._db_wait = db_wait
        self._clock = clock
        self._leases: dict[str, _Lease] = {}
        self._blocked_until: dict[str, float] = {}
        self._next_prune = clock() + window
        self._warned_at: float | None = None
        self.db_calls = 0

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
        lease = self._leases.get(client)
        if lease is not None and lease.permits > 0 and now < lease.expires:
            lease.permits -= 1
            return RateDecision(True, remaining=lease.remaining + lease.permits)
        want = 1 if lease is None else max(1, min(self._max_lease, lease.remaining // 4))
        try:
            return await self._take(client, want, now)
        except DatabaseUnavailable as exc:
            if not self._fail_open:
                raise
            if self._warned_at is None or now - self._warned_at >= self.window:
                self._warned_at = now
                log.warning("rate limits not enforced: %s", exc)
            return RateDecision(True, degraded=True)

    async def _take(self, client: str, want: int, now: float) -> RateDecision:
        self.db_calls += 1
        async with self._db.connection(wait=self._db_wait) as conn:
            cur = await conn.execute(
                "SELECT granted, retry_after, remaining, window_left "
                "FROM mcpfleet_rate_limit_take(%s, %s, %s, %s)",
                (client, self.limit, self.window, want),
            )
            row = await cur.fetchone()
            if now >= self._next_prune:
                await self._prune(conn, now)
        assert row is not None
        granted, retry_after, remaining, window_left = row
        if granted < 1:
            self._leases.pop(client, None)
            self._blocked_until[client] = now + float(retry_after)
            return RateDecision(False, float(retry_after))
        self._leases[client] = _Lease(granted - 1, int(remaining), now + float(window_left))
        return RateDecision(True, remaining=int(remaining) + granted - 1)

    async def _prune(self, conn: AsyncConnection[TupleRow], now: float) -> None:
        """Forget windows too old to weigh in, here and in the shared table (once a window)."""
        self._next_prune = now + self.window
        self._blocked_until = {c: t for c, t in self._blocked_until.items() if t > now}
        self._leases = {c: lease for c, lease in self._leases.items() if lease.expires > now}
        await conn.execute(
            "DELETE FROM rate_limit_windows WHERE window_start < now() - %s * interval '1s'",
            (2 * self.window,),
        )
