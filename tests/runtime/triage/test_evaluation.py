"""Scoring predictions against labelled cases, and reading labelled files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runtime.triage.evaluation import EvalCase, EvalFileError, Prediction, load_cases, score

CASES = [
    EvalCase("a", "q", "tool", "s1/x", ("s1/y",)),
    EvalCase("b", "q", "tool", "s1/z"),
    EvalCase("c", "q", "tool", "s2/w"),
    EvalCase("d", "q", "direct"),
]


def test_figures_follow_the_scoring_rules_of_the_eval_readme() -> None:
    predictions = [
        Prediction("a", "tool", ("s1/y", "s1/x"), 10.0),  # alternative first: top-1 hit
        Prediction("b", "direct", ("s1/q", "s1/z"), 20.0),  # wrong route, tool in top-5
        Prediction("c", "tool", (*[f"s2/{i}" for i in range(5)], "s2/w"), 30.0),
        Prediction("d", "direct", (), 40.0),
    ]
    report = score(CASES, predictions)
    assert report.queries == 4
    assert report.tool_queries == 3
    assert report.route_accuracy == pytest.approx(3 / 4)
    assert report.tool_top1 == pytest.approx(1 / 3)
    assert report.tool_top5 == pytest.approx(2 / 3)  # c's tool is sixth
    assert report.latency_p50_ms == pytest.approx(25.0)
    assert report.per_server["s1"].queries == 2
    assert report.per_server["s1"].top1 == pytest.approx(1 / 2)
    assert report.per_server["s1"].top5 == pytest.approx(1.0)
    assert report.per_server["s2"].top5 == 0.0
    assert report.confusion["tool"] == {"tool": 2, "direct": 1}


def test_a_case_without_a_prediction_counts_as_wrong() -> None:
    report = score(CASES, [Prediction("a", "tool", ("s1/x",))])
    assert report.route_accuracy == pytest.approx(1 / 4)
    assert report.tool_top1 == pytest.approx(1 / 3)
    assert report.latency_p50_ms is None


def test_prediction_lines_carry_id_route_candidates_confidence_and_execution() -> None:
    line = Prediction("a", "tool", ("s/x", "s/y"), 3.0, 0.91, True).to_json()
    assert json.loads(line) == {
        "id": "a",
        "route": "tool",
        "candidates": ["s/x", "s/y"],
        "confidence": 0.91,
        "would_execute": True,
    }


def test_wrong_executions_count_a_wrong_tool_and_a_tool_run_for_a_non_tool_question() -> None:
    predictions = [
        Prediction("a", "tool", ("s1/x",), confidence=0.95, would_execute=True),  # right
        Prediction("b", "tool", ("s1/q",), confidence=0.9, would_execute=True),  # wrong tool
        Prediction("c", "tool", ("s2/w",), confidence=0.5, would_execute=False),
        Prediction("d", "tool", ("s1/x",), confidence=0.85, would_execute=True),  # not a tool q
    ]
    report = score(CASES, predictions, threshold=0.8)
    assert report.trust is not None
    assert (report.trust.executions, report.trust.wrong_executions) == (3, 2)
    # Tool questions decided `tool` at ≥ 0.8: a and b of a, b, c; one of those right.
    assert report.trust.coverage == pytest.approx(2 / 3)
    assert report.trust.precision == pytest.approx(1 / 2)
    figures = report.as_dict()
    assert figures["wrongExecutions"] == 2
    assert [p["threshold"] for p in figures["coverageCurve"]][:2] == [0.3, 0.4]


def test_calibration_error_is_zero_when_confidence_matches_the_hit_rate() -> None:
    cases = [EvalCase(str(i), "q", "tool", "s/x") for i in range(10)]
    half_right = [
        Prediction(str(i), "tool", ("s/x",) if i % 2 else ("s/y",), confidence=0.5)
        for i in range(10)
    ]
    assert score(cases, half_right).trust.ece == pytest.approx(0.0)  # type: ignore[union-attr]
    overconfident = [Prediction(p.id, "tool", p.candidates, confidence=0.9) for p in half_right]
    assert score(cases, overconfident).trust.ece == pytest.approx(0.4)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("not json", "2: not JSON"),
        ('{"id": "x", "query": "q"}', "2: `route` must be a non-empty string"),
        ('{"id": "x", "query": "q", "route": "maybe"}', "route 'maybe' is not one of"),
        ('{"id": "x", "query": "q", "route": "tool"}', "a `tool` route needs `tool`"),
        ('{"id": "x", "query": "q", "route": "tool", "tool": "x"}', 'is not "server/tool"'),
        ('{"id": "ok", "query": "q", "route": "direct"}', "id 'ok' appears twice"),
    ],
)
def test_bad_lines_are_reported_with_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "cases.jsonl"
    path.write_text('{"id": "ok", "query": "q", "route": "direct"}\n' + line + "\n")
    with pytest.raises(EvalFileError) as caught:
        load_cases(path)
    assert str(path) in str(caught.value)
    assert message in str(caught.value)
