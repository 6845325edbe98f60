"""Per-client rate limits whose state lives in PostgreSQL, so every gateway replica agrees.

The count is a sliding-window counter kept by ``mcpfleet_rate_limit_take`` (migration
006), computed and updated under a row lock on the database's clock. Three things keep the
database off the hot path without giving up the shared limit:

* **Leases.** A replica takes several permits in one call and hands them out locally. The
  lease size follows what the database says is left: up to ``max_lease`` while the client
  is far from its limit, one permit at a time as it gets close, so the limit stays exact
  where it matters. Permits belong to the window they were taken in and lapse with it
  (unused ones were counted: a client that stops mid-lease loses at most a lease's worth).
* **Refills ahead of need.** While the client is far from its limit, the next lease is
  taken in the background when half of the current one is used, so a busy client's
  requests do not wait on the database at all.
* **Refusals are remembered.** A refused client is refused locally until its
  ``retry_after`` passes. Refused hits are not counted, so no replica can make that wait
  shorter: this is exact.

When the database cannot be reached (``fail_open``, the default), requests are never held
up waiting for it: each replica enforces ``limit`` per ``window`` per client on its own
(a local budget; ``degraded`` decisions, not counted in the shared table), and one
background call per ``retry_interval`` looks for the database. With N replicas a client
may so get up to N x limit during an outage; the limit protects upstreams, it is not
access control.
"""

from __future__ import annotations

import asyncio
import contextlib
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
    granted: int = 1  # size of the last grant (refills start when half of it is used)
    refill: asyncio.Task[None] | None = None


class RateLimiter:
    """``limit`` requests per ``window`` seconds per client, shared through the database."""

    def __init__(
        self,
        db: Database,
        *,
        limit: int,
        window: float = 60.0,
        max_lease: int = 50,
        fail_open: bool = True,
        db_wait: float = 1.0,
        retry_interval: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``max_lease=1`` asks the database on every request.

        ``fail_open``: while the database cannot be reached (within ``db_wait``), enforce
        the limit per replica from a local budget (``degraded``) rather than fail; see the
        module docstring. With ``fail_open=False`` the error is raised.
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
        self._retry_interval = retry_interval
        self._clock = clock
        self._leases: dict[str, _Lease] = {}
        self._blocked_until: dict[str, float] = {}
        self._local: dict[str, tuple[int, int]] = {}  # client -> (local window no., count)
        self._down_until: float | None = None
        self._probe: asyncio.Task[None] | None = None
        self._next_prune = clock() + window
        self._warned_at: float | None = None
        self.db_calls = 0
        self.degraded_hits = 0  # requests decided from the local budget (outage)

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
        if lease is not None and lease.refill is not None and lease.permits <= 0:
            await asyncio.shield(lease.refill)  # the next lease is on its way: wait for it
        if lease is not None and lease.permits > 0 and now < lease.expires:
            lease.permits -= 1
            if self._should_refill(lease):
                lease.refill = asyncio.create_task(self._refill(client, lease), name="rate-refill")
            return RateDecision(True, remaining=lease.remaining + lease.permits)
        if self._down_until is not None:  # known down: only the background probe asks
            return self._degraded(client, now)
        want = 1 if lease is None else self._lease_size(lease.remaining)
        try:
            return await self._take(client, want, now)
        except DatabaseUnavailable as exc:
            if not self._fail_open:
                raise
            self._went_down(exc, now)
            return self._degraded(client, now)

    async def aclose(self) -> None:
        """Stop background refills and the search for the database."""
        tasks = [lease.refill for lease in self._leases.values() if lease.refill is not None]
        if self._probe is not None:
            tasks.append(self._probe)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # ------------------------------------------------------------------ leases

    def _lease_size(self, remaining: int) -> int:
        return max(1, min(self._max_lease, remaining // 4))

    def _should_refill(self, lease: _Lease) -> bool:
        """Far from the limit, with half the lease used and nothing in flight or down."""
        return (
            lease.refill is None
            and lease.remaining // 4 > 1
            and lease.permits * 2 <= lease.granted
            and self._down_until is None
        )

    async def _refill(self, client: str, lease: _Lease) -> None:
        """Take the next lease in the background and add it to ``lease`` (a task)."""
        try:
            now = self._clock()
            granted, _, remaining, window_left = await self._call(
                client, self._lease_size(lease.remaining), now
            )
            if granted < 1:
                lease.remaining = 0  # at the limit: from here on one permit at a time
                return
            expires = now + window_left
            if expires > lease.expires + 1.0:
                lease.permits = 0  # a new window: the old permits lapse with theirs
            lease.permits += granted
            lease.remaining, lease.expires, lease.granted = remaining, expires, granted
        except DatabaseUnavailable as exc:
            self._went_down(exc, self._clock())
        finally:
            lease.refill = None

    async def _take(self, client: str, want: int, now: float) -> RateDecision:
        granted, retry_after, remaining, window_left = await self._call(client, want, now)
        self._down_until = None
        if granted < 1:
            self._leases.pop(client, None)
            self._blocked_until[client] = now + retry_after
            return RateDecision(False, retry_after)
        self._leases[client] = _Lease(granted - 1, remaining, now + window_left, granted)
        return RateDecision(True, remaining=remaining + granted - 1)

    async def _call(self, client: str, want: int, now: float) -> tuple[int, float, int, float]:
        """One ``mcpfleet_rate_limit_take`` round trip (and, once a window, the pruning).

        Raises:
            DatabaseUnavailable: no connection within ``db_wait``, or it broke.
        """
        self.db_calls += 1
        async with self._db.connection(wait=self._db_wait, autocommit=True) as conn:
            cur = await conn.execute(  # the function is atomic: no transaction around it
                "SELECT granted, retry_after, remaining, window_left "
                "FROM mcpfleet_rate_limit_take(%s, %s, %s, %s)",
                (client, self.limit, self.window, want),
            )
            row = await cur.fetchone()
            if now >= self._next_prune:
                await self._prune(conn, now)
        assert row is not None
        granted, retry_after, remaining, window_left = row
        return int(granted), float(retry_after), int(remaining), float(window_left)

    # ------------------------------------------------------------------ outage

    def _degraded(self, client: str, now: float) -> RateDecision:
        """The local budget: ``limit`` per local window for this replica alone."""
        self.degraded_hits += 1
        if self._probe is None or self._probe.done():
            self._probe = asyncio.create_task(self._look_for_database(client), name="rate-probe")
        number = int(now // self.window)
        seen, count = self._local.get(client, (number, 0))
        if seen != number:
            count = 0
        if count >= self.limit:
            return RateDecision(False, (number + 1) * self.window - now, degraded=True)
        self._local[client] = (number, count + 1)
        return RateDecision(True, remaining=self.limit - count - 1, degraded=True)

    async def _look_for_database(self, client: str) -> None:
        """One take per retry interval until the database answers (a background task)."""
        while self._down_until is not None:
            await asyncio.sleep(max(0.0, self._down_until - self._clock()))
            try:
                await self._take(client, 1, self._clock())
            except DatabaseUnavailable as exc:
                self._went_down(exc, self._clock())
                continue
            self._local.clear()
            log.warning("rate limits enforced again: the database answers")

    @property
    def database_down(self) -> bool:
        """True while requests are decided from the local budget (see the module doc)."""
        return self._down_until is not None

    def _went_down(self, exc: DatabaseUnavailable, now: float) -> None:
        self._down_until = now + self._retry_interval
        if self._warned_at is None or now - self._warned_at >= self.window:
            self._warned_at = now
            log.warning("rate limits enforced per replica (local budget): %s", exc)

    async def _prune(self, conn: AsyncConnection[TupleRow], now: float) -> None:
        """Forget windows too old to weigh in, here and in the shared table (once a window)."""
        self._next_prune = now + self.window
        self._blocked_until = {c: t for c, t in self._blocked_until.items() if t > now}
        self._leases = {
            c: lease
            for c, lease in self._leases.items()
            if lease.expires > now or lease.refill is not None
        }
        await conn.execute(
            "DELETE FROM rate_limit_windows WHERE window_start < now() - %s * interval '1s'",
            (2 * self.window,),
        )
