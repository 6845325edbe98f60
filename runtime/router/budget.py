"""The day's budget: today's spend (UTC) read from the ledger, cached briefly.

Reading the sum from PostgreSQL rather than counting in memory makes the budget hold
across replicas and restarts; the short cache keeps that off the hot path, and a
replica adds its own calls to the cached figure at once so it never lags on itself.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from datetime import time as day_start

import psycopg

from catalog.model import Budget
from runtime.router.metrics import RouterMetrics
from runtime.router.usage import UsageLedger

__all__ = ["BudgetGuard", "BudgetState", "utc_now"]

log = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class BudgetState:
    """The budget as ``/api/v1/costs`` shows it; ``known`` is false while today's spend
    cannot be read, and an unknown spend counts as exhausted (the safe side)."""

    day: date
    daily_usd: float
    spent_usd: float
    alert_threshold: float
    when_exhausted: str
    known: bool = True

    @property
    def ratio(self) -> float:
        return self.spent_usd / self.daily_usd

    @property
    def alerting(self) -> bool:
        return self.ratio >= self.alert_threshold

    @property
    def exhausted(self) -> bool:
        return not self.known or self.spent_usd >= self.daily_usd


class BudgetGuard:
    """Knows whether today's budget is spent; exports it as two gauges read at scrape time
    (so after midnight they show the new day, requests or not)."""

    def __init__(
        self,
        budget: Budget,
        ledger: UsageLedger,
        metrics: RouterMetrics,
        *,
        cache_seconds: float = 5.0,
        ledger_timeout: float = 2.0,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._budget = budget
        self._ledger = ledger
        self._cache_seconds = cache_seconds
        self._ledger_timeout = ledger_timeout
        self._clock = clock
        self._lock = asyncio.Lock()
        self._day: date | None = None
        self._spent = 0.0
        self._known = False
        self._read_at = float("-inf")
        metrics.budget_ratio.set_function(lambda: self.current().ratio)
        metrics.budget_exhausted.set_function(lambda: float(self.current().exhausted))

    async def state(self, *, refresh: bool = False) -> BudgetState:
        """Today's spend against the budget, from the cache when it is fresh (or read
        from the ledger now when ``refresh``).

        If the ledger cannot be read (within ``ledger_timeout``), the last figure of
        today is used; with none, the day counts as spent: routing to ``whenExhausted``
        (the local model) is the safe side of not knowing. Either way the ledger is
        tried again only once the cache expires, so an outage does not slow every call.
        """
        today = self._clock().date()
        if refresh or not self._fresh(today):
            async with self._lock:
                if refresh or not self._fresh(today):
                    await self._refresh(today)
        return self.current()

    def current(self) -> BudgetState:
        """The cached state, without I/O (what the gauges show): a new day starts at zero
        until read; only a failed read makes the spend unknown."""
        today = self._clock().date()
        same_day = self._day == today
        return BudgetState(
            day=today,
            daily_usd=self._budget.daily_usd,
            spent_usd=self._spent if same_day else 0.0,
            alert_threshold=self._budget.alert_threshold,
            when_exhausted=self._budget.when_exhausted,
            known=self._known if same_day else True,
        )

    def add(self, cost: float) -> None:
        """Count a call this replica just made, before the next read of the ledger."""
        if self._day == self._clock().date():
            self._spent += cost

    def _fresh(self, today: date) -> bool:
        return self._day == today and time.monotonic() - self._read_at < self._cache_seconds

    async def _refresh(self, today: date) -> None:
        since = datetime.combine(today, day_start(0), tzinfo=UTC)
        self._read_at = time.monotonic()
        try:
            async with asyncio.timeout(self._ledger_timeout):
                spent = await self._ledger.spent_since(since)
        except (psycopg.Error, TimeoutError) as exc:
            log.warning("budget: cannot read today's spend (%s)", type(exc).__name__)
            if self._day != today:
                self._day, self._spent, self._known = today, 0.0, False
            return
        self._day, self._spent, self._known = today, spent, True
