"""When triage may run a tool by itself: read-only, a read request, confident, complete."""

from __future__ import annotations

import pytest

from runtime.triage.decision import Candidate, Decision, Route
from runtime.triage.policy import ExecutionPolicy


def _decision(
    *,
    read_only: bool = True,
    confidence: float = 0.95,
    route: Route = Route.TOOL,
    missing: tuple[str, ...] = (),
    asks_change: bool = False,
) -> Decision:
    top = Candidate(server="s", tool="t", score=0.9, read_only=read_only)
    return Decision(
        route=route,
        confidence=confidence,
        candidates=[top],
        missing_arguments=list(missing),
        asks_change=asks_change,
    )


def test_a_confident_read_only_read_with_every_argument_runs() -> None:
    run, why = ExecutionPolicy(0.8).judge(_decision())
    assert run is True
    assert "read-only" in why


@pytest.mark.parametrize("confidence", [0.5, 0.8, 0.95, 1.0])
def test_a_tool_that_is_not_read_only_never_runs_by_itself_however_sure(
    confidence: float,
) -> None:
    run, why = ExecutionPolicy(0.5).judge(_decision(read_only=False, confidence=confidence))
    assert run is False
    assert "not declared read-only" in why


@pytest.mark.parametrize(
    ("decision", "reason"),
    [
        (_decision(confidence=0.79), "below 0.80"),
        (_decision(missing=("host",)), "needs host"),
        (_decision(asks_change=True), "asks for a change"),
        (_decision(route=Route.DIRECT), "route is direct"),
    ],
)
def test_anything_less_is_shown_not_run(decision: Decision, reason: str) -> None:
    run, why = ExecutionPolicy(0.8).judge(decision)
    assert run is False
    assert reason in why


def test_apply_records_the_verdict_on_the_decision() -> None:
    decided = ExecutionPolicy(0.99).apply(_decision(confidence=0.9))
    assert decided.would_execute is False
    assert "below 0.99" in decided.execution
