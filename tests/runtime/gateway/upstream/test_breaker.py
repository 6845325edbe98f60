"""The circuit breaker's state machine, driven by a hand-held clock."""

from __future__ import annotations

import pytest

from runtime.gateway.upstream.breaker import CircuitBreaker, CircuitState


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def breaker(clock: Clock) -> CircuitBreaker:
    return CircuitBreaker(threshold=3, cool_down=10.0, clock=clock)


def test_it_stays_closed_below_the_failure_threshold() -> None:
    b = breaker(Clock())
    b.record_failure()
    b.record_failure()
    assert b.state is CircuitState.CLOSED and b.acquire()


def test_a_success_resets_the_count_of_consecutive_failures() -> None:
    b = breaker(Clock())
    b.record_failure()
    b.record_failure()
    b.record_success()
    b.record_failure()
    b.record_failure()
    assert b.state is CircuitState.CLOSED


def test_it_opens_after_threshold_failures_and_refuses_calls() -> None:
    b = breaker(Clock())
    for _ in range(3):
        b.record_failure()
    assert b.state is CircuitState.OPEN
    assert not b.available() and not b.acquire()


def test_after_the_cool_down_exactly_one_probe_is_let_through() -> None:
    clock = Clock()
    b = breaker(clock)
    for _ in range(3):
        b.record_failure()
    clock.now += 10.0
    assert b.state is CircuitState.HALF_OPEN and b.available()
    assert b.acquire()
    assert not b.acquire(), "a second caller must not join the probe"
    assert not b.available()


def test_a_successful_probe_closes_the_circuit() -> None:
    clock = Clock()
    b = breaker(clock)
    for _ in range(3):
        b.record_failure()
    clock.now += 10.0
    assert b.acquire()
    b.record_success()
    assert b.state is CircuitState.CLOSED and b.failures == 0


def test_a_failed_probe_opens_it_for_another_cool_down() -> None:
    clock = Clock()
    b = breaker(clock)
    for _ in range(3):
        b.record_failure()
    clock.now += 10.0
    assert b.acquire()
    b.record_failure()
    assert b.state is CircuitState.OPEN
    clock.now += 9.9
    assert b.state is CircuitState.OPEN
    clock.now += 0.1
    assert b.state is CircuitState.HALF_OPEN


def test_a_probe_released_without_verdict_can_be_claimed_again() -> None:
    clock = Clock()
    b = breaker(clock)
    for _ in range(3):
        b.record_failure()
    clock.now += 10.0
    assert b.acquire()
    b.release()
    assert b.acquire()


@pytest.mark.parametrize(("threshold", "cool_down"), [(0, 1.0), (1, 0.0)])
def test_nonsense_settings_are_refused(threshold: int, cool_down: float) -> None:
    with pytest.raises(ValueError, match="threshold"):
        CircuitBreaker(threshold=threshold, cool_down=cool_down)
