"""Model usage (``model_usage``): one row per model call, summed per UTC day and model.

Days are UTC days in SQL, so every replica agrees on when a day's budget resets.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from runtime.db import Database

__all__ = ["DailyUsage", "ModelUsage"]


@dataclass(frozen=True)
class DailyUsage:
    """The calls to one model on one UTC day, summed."""

    day: date
    model: str
    calls: int
    failed: int
    input_tokens: int
    output_tokens: int
    cost_usd: float


class ModelUsage:
    """Writes and sums ``model_usage``."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(
        self,
        model: str,
        *,
        provider: str,
        task_type: str,
        status: str,
        input_tokens: int = 0,
        output_tokens: int = 0,
        cost_usd: float = 0.0,
        latency_ms: float = 0.0,
        error: str | None = None,
        at: datetime | None = None,
    ) -> None:
        async with self._db.connection() as conn:
            await conn.execute(
                """
                INSERT INTO model_usage
                    (at, model, provider, task_type, input_tokens, output_tokens, cost_usd,
                     latency_ms, status, error)
                VALUES (coalesce(%s, now()), %s, %s, %s, %s, %s, %s, %s, %s, %s)
                """,
                (
                    at,
                    model,
                    provider,
                    task_type,
                    input_tokens,
                    output_tokens,
                    cost_usd,
                    latency_ms,
                    status,
                    error,
                ),
            )

    async def spent_since(self, since: datetime) -> float:
        """Total cost of calls at or after ``since`` (the daily budget's running total)."""
        async with self._db.connection() as conn:
            cur = await conn.execute(
                "SELECT coalesce(sum(cost_usd), 0) FROM model_usage WHERE at >= %s", (since,)
            )
            row = await cur.fetchone()
        return float(row[0]) if row else 0.0

    async def daily(self, first: date, last: date | None = None) -> list[DailyUsage]:
        """Per (UTC day, model) totals from ``first`` to ``last`` (default ``first``)."""
        end = (last or first) + timedelta(days=1)
        async with self._db.connection() as conn:
            cur = await conn.execute(
                """
                SELECT (at AT TIME ZONE 'UTC')::date, model, count(*),
                       count(*) FILTER (WHERE status <> 'ok'),
                       coalesce(sum(input_tokens), 0), coalesce(sum(output_tokens), 0),
                       coalesce(sum(cost_usd), 0)
                FROM model_usage
                WHERE at >= %s AND at < %s
                GROUP BY 1, 2
                ORDER BY 1, 2
                """,
                (_midnight(first), _midnight(end)),
            )
            rows = await cur.fetchall()
        return [
            DailyUsage(day, model, int(calls), int(failed), int(tin), int(tout), float(cost))
            for day, model, calls, failed, tin, tout, cost in rows
        ]


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)
