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
    """The budget as ``/api/v1/costs`` shows it."""

    day: date
    daily_usd: float
    spent_usd: float
    alert_threshold: float
    when_exhausted: str

    @property
    def ratio(self) -> float:
        return self.spent_usd / self.daily_usd

    @property
    def alerting(self) -> bool:
        return self.ratio >= self.alert_threshold

    @property
    def exhausted(self) -> bool:
        return self.spent_usd >= self.daily_usd


class BudgetGuard:
    """Knows whether today's budget is spent, and keeps the budget gauges current."""

    def __init__(
        self,
        budget: Budget,
        ledger: UsageLedger,
        metrics: RouterMetrics,
        *,
        cache_seconds: float = 5.0,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._budget = budget
        self._ledger = ledger
        self._metrics = metrics
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._lock = asyncio.Lock()
        self._day: date | None = None
        self._spent: float | None = None
        self._read_at = float("-inf")

    async def state(self, *, refresh: bool = False) -> BudgetState:
        """Today's spend against the budget, from the cache when it is fresh (or read
        from the ledger now when ``refresh``).

        If the ledger cannot be read and nothing is cached, the day counts as spent:
        routing to ``whenExhausted`` (the local model) is the safe side of not knowing.
        """
        today = self._clock().date()
        if refresh or not self._fresh(today):
            async with self._lock:
                if refresh or not self._fresh(today):
                    await self._refresh(today)
        return self._publish(today)

    def add(self, cost: float) -> None:
        """Count a call this replica just made, before the next read of the ledger."""
        today = self._clock().date()
        if self._day == today and self._spent is not None:
            self._spent += cost
            self._publish(today)

    def _fresh(self, today: date) -> bool:
        return (
            self._day == today
            and self._spent is not None
            and time.monotonic() - self._read_at < self._cache_seconds
        )

    async def _refresh(self, today: date) -> None:
        since = datetime.combine(today, day_start(0), tzinfo=UTC)
        try:
            spent = await self._ledger.spent_since(since)
        except psycopg.Error as exc:
            log.warning("budget: cannot read today's spend (%s)", type(exc).__name__)
            if self._day != today or self._spent is None:
                self._day, self._spent = today, self._budget.daily_usd
            return
        self._day, self._spent, self._read_at = today, spent, time.monotonic()

    def _publish(self, today: date) -> BudgetState:
        state = BudgetState(
            day=today,
            daily_usd=self._budget.daily_usd,
            spent_usd=self._spent if self._spent is not None else 0.0,
            alert_threshold=self._budget.alert_threshold,
            when_exhausted=self._budget.when_exhausted,
        )
        self._metrics.budget_ratio.set(state.ratio)
        self._metrics.budget_exhausted.set(1 if state.exhausted else 0)
        return state
