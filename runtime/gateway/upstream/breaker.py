"""A per-endpoint circuit breaker: stop sending to a failing endpoint, probe it back later.

Closed → (``threshold`` consecutive failures) → open → (``cool_down`` elapsed) →
half-open, where exactly one probe is let through: success closes the circuit, failure
opens it again for another cool-down. The clock is injected so tests drive time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import StrEnum

__all__ = ["CircuitBreaker", "CircuitState"]


class CircuitState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    """Consecutive-failure breaker with a single half-open probe."""

    def __init__(
        self,
        *,
        threshold: int = 3,
        cool_down: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if threshold < 1 or cool_down <= 0:
            raise ValueError("threshold must be >= 1 and cool_down > 0")
        self.threshold = threshold
        self.cool_down = cool_down
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._probing = False

    @property
    def state(self) -> CircuitState:
        if self._opened_at is None:
            return CircuitState.CLOSED
        if self._probing or self._clock() - self._opened_at >= self.cool_down:
            return CircuitState.HALF_OPEN
        return CircuitState.OPEN

    @property
    def failures(self) -> int:
        return self._failures

    def available(self) -> bool:
        """Whether a call may be sent now, without claiming the half-open probe."""
        state = self.state
        if state is CircuitState.HALF_OPEN:
            return not self._probing
        return state is CircuitState.CLOSED

    def acquire(self) -> bool:
        """Claim the right to send one call; in half-open only the first caller gets it."""
        state = self.state
        if state is CircuitState.CLOSED:
            return True
        if state is CircuitState.HALF_OPEN and not self._probing:
            self._probing = True
            return True
        return False

    def record_success(self) -> None:
        self._failures = 0
        self._opened_at = None
        self._probing = False

    def record_failure(self) -> None:
        self._failures += 1
        if self._probing or self._failures >= self.threshold:
            self._opened_at = self._clock()
        self._probing = False

    def release(self) -> None:
        """Give back a claimed probe whose call ended without a verdict (e.g. a tool error)."""
        self._probing = False
