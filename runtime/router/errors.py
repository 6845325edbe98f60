"""The router's one error hierarchy; the HTTP layer turns it into JSON in one handler."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "AllModelsFailed",
    "Attempt",
    "AttemptStatus",
    "PolicyError",
    "ProviderError",
    "RouterError",
]


class AttemptStatus(StrEnum):
    """How one call to one model ended; also the ``status`` column of ``model_usage``."""

    OK = "ok"
    ERROR = "error"
    TIMEOUT = "timeout"
    RATE_LIMITED = "rate_limited"
    UNAVAILABLE = "unavailable"  # not called: no key, no adapter, prompt too large, ...


@dataclass(frozen=True)
class Attempt:
    """One model the router tried (or skipped) for one request, with why it ended."""

    model: str
    provider: str
    status: AttemptStatus
    reason: str | None = None
    latency_ms: float = 0.0


class RouterError(Exception):
    """Base of every error the router raises on purpose."""


class PolicyError(RouterError):
    """``models.yaml`` names something the router cannot use (an unknown model, ...)."""


class ProviderError(RouterError):
    """A provider call failed; ``status`` says whether it timed out, was throttled, ...

    The message is safe to show: adapters build it from the status code and the
    provider's error message, never from request headers, so no key can leak into it.
    """

    def __init__(self, status: AttemptStatus, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class AllModelsFailed(RouterError):
    """Every model in the chain failed or was skipped; ``attempts`` says why, in order."""

    def __init__(self, attempts: Sequence[Attempt]) -> None:
        self.attempts = list(attempts)
        summary = "; ".join(f"{a.model}: {a.status.value} ({a.reason})" for a in self.attempts)
        super().__init__(f"all models failed: {summary}")
