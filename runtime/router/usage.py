"""What one model call cost, and the ledger the router writes it to.

The ledger is PostgreSQL (``model_usage``, through :mod:`runtime.store.usage`), so the
budget holds across replicas and restarts; :class:`UsageLedger` is the seam the router
and the costs API read it through.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from catalog.model import Model
from runtime.router.errors import AttemptStatus
from runtime.store.usage import DailyUsage

__all__ = ["UsageLedger", "UsageRow", "cost_usd"]


def cost_usd(model: Model, input_tokens: int, output_tokens: int) -> float:
    """Price a call at the catalog's USD-per-million-token rates."""
    return (
        input_tokens * model.input_usd_per_mtok + output_tokens * model.output_usd_per_mtok
    ) / 1_000_000


@dataclass(frozen=True)
class UsageRow:
    """One call to one model: answered or not, with its tokens, cost and latency."""

    at: datetime
    model: str
    provider: str
    task_type: str
    status: AttemptStatus
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    latency_ms: float = 0.0
    error: str | None = None


class UsageLedger(Protocol):
    """Where usage rows go and how they are summed (PostgreSQL in every deployment)."""

    async def record(self, row: UsageRow) -> None: ...

    async def spent_since(self, since: datetime) -> float: ...

    async def daily(self, first: date, last: date) -> list[DailyUsage]: ...
