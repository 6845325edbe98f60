"""``mcpfleet triage eval``: the command end to end with the real local embedding model.

The tiny hand-made fleet and file check the output shape and that the printed figures are
exactly what the written predictions score to. The figures on the real sets are in
test_eval_sets.py (one trained model for all of them).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mcpfleet.cli import app

DATA = Path(__file__).resolve().parent / "data"
runner = CliRunner()


def _score_independently(cases_file: Path, predictions_file: Path) -> dict[str, float]:
    """The README's rules, re-implemented here so the command's own scorer is checked."""
    cases = [json.loads(line) for line in cases_file.read_text().splitlines() if line.strip()]
    preds = {
        p["id"]: p for p in (json.loads(line) for line in predictions_file.read_text().splitlines())
    }
    tool_cases = [c for c in cases if c["route"] == "tool"]

    def accepted(case: dict[str, object]) -> set[str]:
        return {str(case["tool"]), *map(str, case.get("alternatives") or [])}

    def right_tool(case: dict[str, object]) -> bool:
        return case["route"] == "tool" and preds[case["id"]]["candidates"][:1][0] in accepted(case)

    return {
        "wrongExecutions": sum(
            preds[c["id"]]["would_execute"] and not right_tool(c) for c in cases
        ),
        "executions": sum(preds[c["id"]]["would_execute"] for c in cases),
        "routeAccuracy": sum(preds[c["id"]]["route"] == c["route"] for c in cases) / len(cases),
        "toolTop1": sum(preds[c["id"]]["candidates"][:1][0] in accepted(c) for c in tool_cases)
        / len(tool_cases),
        "toolTop5": sum(
            bool(set(preds[c["id"]]["candidates"][:5]) & accepted(c)) for c in tool_cases
        )
        / len(tool_cases),
    }


def test_json_figures_are_what_the_written_predictions_score_to(tmp_path: Path) -> None:
    cases = DATA / "tiny-eval.jsonl"
    out = tmp_path / "predictions.jsonl"
    result = runner.invoke(
        app,
        [
            "triage",
            "eval",
            str(cases),
            "--tools",
            str(DATA / "tiny-tools"),
            "--json",
            "--predictions",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert figures["queries"] == 7
    assert figures["toolQueries"] == 4
    assert figures["servers"] == 2
    assert figures["tools"] == 7
    assert set(figures["perServer"]) == {"router", "dnsfilter"}
    assert figures["latencyP50Ms"] > 0
    assert figures["latencyP95Ms"] >= figures["latencyP50Ms"]
    for key in ("toolTop3", "toolTop10", "ece", "coverage", "precision", "threshold"):
        assert 0 <= figures[key] <= 1, key
    assert figures["threshold"] == 0.7  # the policy's default (the catalog's is used live)
    assert figures["training"]["tools"] == 7
    assert [c["threshold"] for c in figures["coverageCurve"]] == sorted(
        c["threshold"] for c in figures["coverageCurve"]
    )
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [p["id"] for p in lines] == [f"t{i}" for i in range(1, 8)]
    assert all(
        set(p) == {"id", "route", "candidates", "confidence", "would_execute"} for p in lines
    )
    assert all(0 <= p["confidence"] <= 1 and isinstance(p["would_execute"], bool) for p in lines)
    assert all(len(p["candidates"]) == 7 for p in lines)  # every tool, up to ten
    assert all(c.count("/") == 1 for p in lines for c in p["candidates"])
    expected = _score_independently(cases, out)
    for name, value in expected.items():
        assert figures[name] == pytest.approx(value)
    assert figures["toolTop5"] == 1.0  # a 7-tool fleet: the right tool is always in the top 5


def test_the_table_names_every_measure(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["triage", "eval", str(DATA / "tiny-eval.jsonl"), "--tools", str(DATA / "tiny-tools")]
    )
    assert result.exit_code == 0, result.output
    for label in (
        "route accuracy",
        "tool top-1",
        "tool top-5",
        "tool top-10",
        "calibration error",
        "coverage at 0.70",
        "would execute",
        "latency p50",
        "router (2)",
    ):
        assert label in result.output


def test_the_learning_curve_replays_history_and_scores_the_rest(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "triage",
            "eval",
            str(DATA / "tiny-eval.jsonl"),
            "--tools",
            str(DATA / "tiny-tools"),
            "--json",
            "--learning-curve",
            "--threshold",
            "0.9",
        ],
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert figures["threshold"] == 0.9
    curve = figures["learningCurve"]
    assert [p["remembered"] for p in curve] == [0, 1, 2, 3]  # 4 tool questions
    assert all(p["scored"] == 1 for p in curve)  # the fixed quarter nobody remembers


def test_a_broken_file_is_reported_without_a_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x", "query": "q", "route": "sometimes"}\n')
    result = runner.invoke(app, ["triage", "eval", str(bad), "--tools", str(DATA / "tiny-tools")])
    assert result.exit_code == 1
    assert "bad.jsonl:1" in result.output
    assert "Traceback" not in result.output


def test_a_missing_tools_directory_is_reported(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["triage", "eval", str(DATA / "tiny-eval.jsonl"), "--tools", str(tmp_path / "no")]
    )
    assert result.exit_code == 1
    assert "not a directory" in result.output
