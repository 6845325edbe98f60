"""The router's one error hierarchy; the HTTP layer turns it into JSON in one handler."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any, ClassVar

from runtime.contracts import CompletionFailed

__all__ = [
    "AllModelsFailed",
    "Attempt",
    "AttemptStatus",
    "InvalidRequest",
    "PolicyError",
    "ProviderError",
    "RouterError",
    "RouterUnreachable",
    "Unauthorized",
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

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "status": self.status.value}


class RouterError(Exception):
    """Base of every error the router raises on purpose; ``status`` and ``code`` are what
    an HTTP client sees, in the gateway's error shape ``{"error": {"code", "reason"}}``."""

    status: ClassVar[int] = 500
    code: ClassVar[str] = "router_error"

    def detail(self) -> dict[str, Any]:
        """Extra fields of the JSON error body."""
        return {}

    def headers(self) -> Mapping[str, str]:
        """Extra HTTP headers of the error answer."""
        return {}


class PolicyError(RouterError):
    """``models.yaml`` names something the router cannot use (an unknown model, ...)."""

    code = "policy_error"


class InvalidRequest(RouterError):
    """The request itself is wrong (unknown task type, ...): no model is tried."""

    status, code = 422, "invalid_request"


class ProviderError(RouterError):
    """A provider call failed; ``outcome`` says whether it timed out, was throttled, ...

    The message is safe to show: adapters build it from the status code and the
    provider's error message, never from request headers, so no key can leak into it.
    """

    def __init__(self, outcome: AttemptStatus, reason: str) -> None:
        super().__init__(reason)
        self.outcome = outcome  # not ``status``: that is the HTTP status of router errors
        self.reason = reason


class AllModelsFailed(RouterError, CompletionFailed):
    """Every model in the chain failed or was skipped; ``attempts`` says why, in order."""

    status, code = 502, "all_models_failed"

    def __init__(self, attempts: Sequence[Attempt]) -> None:
        self.attempts = list(attempts)
        summary = "; ".join(f"{a.model}: {a.status.value} ({a.reason})" for a in self.attempts)
        super().__init__(f"all models failed: {summary}")

    def detail(self) -> dict[str, Any]:
        return {"attempts": [attempt.as_json() for attempt in self.attempts]}


class RouterUnreachable(RouterError, CompletionFailed):
    """The router service could not be asked (a client in another process)."""

    status, code = 502, "router_unreachable"


class Unauthorized(RouterError):
    """The standalone service was called without a valid bearer token."""

    status, code = 401, "unauthorized"

    def headers(self) -> Mapping[str, str]:
        return {"WWW-Authenticate": 'Bearer error="invalid_token"'}
