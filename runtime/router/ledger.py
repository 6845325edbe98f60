"""The usage ledger in PostgreSQL: the data layer's ``model_usage`` store, fed
:class:`~runtime.router.usage.UsageRow` objects."""

from __future__ import annotations

from datetime import date, datetime

from runtime.db.database import Database
from runtime.router.usage import UsageRow
from runtime.store.usage import DailyUsage, ModelUsage

__all__ = ["PgUsageLedger"]


class PgUsageLedger:
    """Writes one row per model call and sums them (UTC days) for the budget and
    ``/api/v1/costs``."""

    def __init__(self, db: Database) -> None:
        self._usage = ModelUsage(db)

    async def record(self, row: UsageRow) -> None:
        await self._usage.add(
            row.model,
            provider=row.provider,
            task_type=row.task_type,
            status=row.status.value,
            input_tokens=row.input_tokens,
            output_tokens=row.output_tokens,
            cost_usd=row.cost_usd,
            latency_ms=row.latency_ms,
            error=row.error,
            at=row.at,
        )

    async def spent_since(self, since: datetime) -> float:
        return await self._usage.spent_since(since)

    async def daily(self, first: date, last: date) -> list[DailyUsage]:
        """Every (UTC day, model) with calls between ``first`` and ``last`` inclusive."""
        return await self._usage.daily(first, last)
