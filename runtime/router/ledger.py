"""The usage ledger in PostgreSQL: the ``model_usage`` table of the data layer.

Days are UTC days, in SQL as in the budget, so every replica agrees on when a day ends.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from runtime.db.database import Database
from runtime.router.usage import DayModelCost, UsageRow

__all__ = ["PgUsageLedger"]

_INSERT = """
INSERT INTO model_usage
    (at, model, provider, task_type, input_tokens, output_tokens, cost_usd, latency_ms,
     status, error)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
"""

_SPENT = "SELECT coalesce(sum(cost_usd), 0) FROM model_usage WHERE at >= %s"

_BY_DAY_AND_MODEL = """
SELECT (at AT TIME ZONE 'UTC')::date AS day,
       model,
       count(*),
       count(*) FILTER (WHERE status <> 'ok'),
       coalesce(sum(input_tokens), 0),
       coalesce(sum(output_tokens), 0),
       coalesce(sum(cost_usd), 0)
FROM model_usage
WHERE at >= %s AND at < %s
GROUP BY 1, 2
ORDER BY 1, 2
"""


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


class PgUsageLedger:
    """Writes one row per model call and sums them for the budget and ``/api/v1/costs``."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(self, row: UsageRow) -> None:
        async with self._db.connection() as conn:
            await conn.execute(
                _INSERT,
                (
                    row.at,
                    row.model,
                    row.provider,
                    row.task_type,
                    row.input_tokens,
                    row.output_tokens,
                    row.cost_usd,
                    row.latency_ms,
                    row.status.value,
                    row.error,
                ),
            )

    async def spent_since(self, since: datetime) -> float:
        async with self._db.connection() as conn:
            cursor = await conn.execute(_SPENT, (since,))
            found = await cursor.fetchone()
        return float(found[0]) if found else 0.0

    async def by_day_and_model(self, first: date, last: date) -> list[DayModelCost]:
        """Every (UTC day, model) with calls between ``first`` and ``last`` inclusive."""
        async with self._db.connection() as conn:
            cursor = await conn.execute(
                _BY_DAY_AND_MODEL, (_midnight(first), _midnight(last + timedelta(days=1)))
            )
            rows = await cursor.fetchall()
        return [
            DayModelCost(
                day=day,
                model=model,
                calls=calls,
                failed=failed,
                input_tokens=int(tokens_in),
                output_tokens=int(tokens_out),
                cost_usd=float(cost),
            )
            for day, model, calls, failed, tokens_in, tokens_out, cost in rows
        ]
