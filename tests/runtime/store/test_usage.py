"""Model usage sums per UTC day and model, and the running spend behind the daily budget."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from runtime.db import Database
from runtime.store import DailyUsage, ModelUsage


async def test_usage_is_summed_per_utc_day_and_model(db: Database) -> None:
    usage = ModelUsage(db)
    day = datetime(2026, 3, 1, tzinfo=UTC)
    calls = [
        ("claude-sonnet", day + timedelta(hours=1), "ok", 1000, 200, 0.006),
        ("claude-sonnet", day + timedelta(hours=23, minutes=59), "ok", 500, 100, 0.003),
        ("claude-sonnet", day + timedelta(hours=5), "error", 0, 0, 0.0),
        ("gemini-flash", day + timedelta(hours=2), "ok", 100, 10, 0.00001),
        ("gemini-flash", day + timedelta(days=1, minutes=1), "ok", 100, 10, 0.00001),
    ]
    for model, at, status, tin, tout, cost in calls:
        await usage.add(
            model,
            provider="x",
            task_type="chat",
            status=status,
            input_tokens=tin,
            output_tokens=tout,
            cost_usd=cost,
            at=at,
        )
    first = await usage.daily(date(2026, 3, 1))
    assert first == [
        DailyUsage(date(2026, 3, 1), "claude-sonnet", 3, 1, 1500, 300, pytest.approx(0.009)),
        DailyUsage(date(2026, 3, 1), "gemini-flash", 1, 0, 100, 10, pytest.approx(0.00001)),
    ]
    both = await usage.daily(date(2026, 3, 1), date(2026, 3, 2))
    assert [(u.day.day, u.model) for u in both] == [
        (1, "claude-sonnet"),
        (1, "gemini-flash"),
        (2, "gemini-flash"),
    ]
    assert await usage.spent_since(day + timedelta(hours=3)) == pytest.approx(0.00301)


async def test_a_call_without_a_time_is_stamped_now(db: Database) -> None:
    usage = ModelUsage(db)
    await usage.add("llama-local", provider="ollama", task_type="chat", status="ok")
    today = await usage.daily(datetime.now(UTC).date())
    assert [(u.model, u.calls, u.cost_usd) for u in today] == [("llama-local", 1, 0.0)]
