"""Spend per model per day against the daily budget, as the geometry of an SVG chart.

The numbers come from the router's ``GET /api/v1/costs``; this module only lays them
out (stacked bars, the budget and alert lines, axis ticks) for the template to draw, so
the chart is server-rendered and needs no script. A table under it carries the same data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

__all__ = ["Bar", "CostChart", "Tick", "cost_chart"]

WIDTH, HEIGHT = 720.0, 260.0
LEFT, RIGHT, TOP, BOTTOM = 56.0, 12.0, 14.0, 40.0
SERIES = 8  # colours in the style sheet: .series-0 … .series-7


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    series: int
    title: str


@dataclass(frozen=True)
class Tick:
    at: float
    label: str


@dataclass
class CostChart:
    width: float = WIDTH
    height: float = HEIGHT
    plot_left: float = LEFT
    plot_right: float = WIDTH - RIGHT
    plot_top: float = TOP
    plot_bottom: float = HEIGHT - BOTTOM
    bars: list[Bar] = field(default_factory=list)
    x_ticks: list[Tick] = field(default_factory=list)
    y_ticks: list[Tick] = field(default_factory=list)
    budget_y: float | None = None
    alert_y: float | None = None
    budget_usd: float = 0.0
    alert_usd: float = 0.0
    legend: list[tuple[int, str]] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    """One per day and model, for the table under the chart."""


def cost_chart(report: dict[str, Any]) -> CostChart:
    """Lay out ``report`` (the costs API's body; unknown or missing fields tolerated)."""
    first = _day(report.get("first"))
    last = _day(report.get("last")) or first
    raw_budget = report.get("budget")
    budget: dict[str, Any] = raw_budget if isinstance(raw_budget, dict) else {}
    daily = _float(_get(budget, "daily_usd", "dailyUsd"))
    threshold = _float(_get(budget, "alert_threshold", "alertThreshold"))
    spend: dict[date, list[tuple[str, float]]] = {}
    chart = CostChart()
    for entry in report.get("days") or []:
        day = _day(entry.get("day")) if isinstance(entry, dict) else None
        if day is None:
            continue
        models = [m for m in entry.get("models") or [] if isinstance(m, dict)]
        spend[day] = [(str(m.get("model")), _float(_get(m, "cost_usd", "costUsd"))) for m in models]
        for m in models:
            chart.rows.append(
                {
                    "day": day,
                    "model": str(m.get("model")),
                    "calls": m.get("calls", 0),
                    "failed": m.get("failed", 0),
                    "input_tokens": _get(m, "input_tokens", "inputTokens") or 0,
                    "output_tokens": _get(m, "output_tokens", "outputTokens") or 0,
                    "cost_usd": _float(_get(m, "cost_usd", "costUsd")),
                }
            )
    if first is None:
        first = min(spend, default=date.today())
        last = max(spend, default=first)
    assert last is not None
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)] or [first]
    names = sorted({name for entries in spend.values() for name, _ in entries})
    series = {name: i % SERIES for i, name in enumerate(names)}
    chart.legend = [(series[n], n) for n in names]
    totals = [sum(cost for _, cost in spend.get(d, [])) for d in days]
    highest = max([*totals, daily]) * 1.1
    step = _nice_step(highest / 4) if highest > 0 else 0.25
    top = step * max(1, math.ceil(highest / step))
    plot_h = chart.plot_bottom - chart.plot_top
    slot = (chart.plot_right - chart.plot_left) / len(days)

    def y_of(usd: float) -> float:
        return chart.plot_bottom - usd / top * plot_h

    for i, day in enumerate(days):
        x = chart.plot_left + i * slot + slot * 0.15
        base = 0.0
        for name, cost in sorted(spend.get(day, []), key=lambda e: series[e[0]]):
            if cost <= 0:
                continue
            y_top = y_of(base + cost)
            chart.bars.append(
                Bar(
                    x=round(x, 2),
                    y=round(y_top, 2),
                    width=round(slot * 0.7, 2),
                    height=round(y_of(base) - y_top, 2),
                    series=series[name],
                    title=f"{day.isoformat()} {name}: ${cost:,.4f}",
                )
            )
            base += cost
    every = max(1, len(days) // 10)
    chart.x_ticks = [
        Tick(round(chart.plot_left + (i + 0.5) * slot, 2), d.strftime("%m-%d"))
        for i, d in enumerate(days)
        if i % every == 0 or i == len(days) - 1
    ]
    decimals = 2 if step >= 0.05 else math.ceil(-math.log10(step)) + 1
    chart.y_ticks = [
        Tick(round(y_of(step * i), 2), f"${step * i:,.{decimals}f}")
        for i in range(round(top / step) + 1)
    ]
    if daily > 0:
        chart.budget_usd = daily
        chart.budget_y = round(y_of(daily), 2)
        if 0 < threshold < 1:
            chart.alert_usd = daily * threshold
            chart.alert_y = round(y_of(daily * threshold), 2)
    return chart


def _nice_step(rough: float) -> float:
    """1, 2, 2.5 or 5 times a power of ten, at least ``rough``: round axis labels."""
    power = 10 ** math.floor(math.log10(rough))
    for nice in (1, 2, 2.5, 5, 10):
        if rough <= nice * power:
            return nice * power
    return 10 * power


def _get(data: dict[str, Any], *names: str) -> Any:
    for name in names:
        if name in data:
            return data[name]
    return None


def _float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def _day(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None
