"""``mcpfleet triage eval``: the command end to end with the real local embedding model.

The tiny hand-made fleet and file check the output shape and that the printed figures are
exactly what the written predictions score to; the dev-set run is what CI records.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mcpfleet.cli import app
from runtime.triage.eval_run import EVAL_FLEET

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

    return {
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
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [p["id"] for p in lines] == [f"t{i}" for i in range(1, 8)]
    assert all(set(p) == {"id", "route", "candidates"} for p in lines)
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
    for label in ("route accuracy", "tool top-1", "tool top-5", "latency p50", "router (2)"):
        assert label in result.output


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


def test_the_dev_set_runs_against_the_eval_fleet(eval_dir: Path, tmp_path: Path) -> None:
    """What CI records: the 150 dev queries over the 11-server, 680-tool fleet.

    The floors are regression guards a query or two below the figures recorded in
    docs/benchmarks/triage.md (the decision is deterministic, but a near-tie could flip on
    another CPU's float rounding).
    """
    out = tmp_path / "dev-predictions.jsonl"
    result = runner.invoke(
        app,
        [
            "triage",
            "eval",
            str(eval_dir / "dev" / "triage-dev.jsonl"),
            "--json",
            "--predictions",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert (figures["queries"], figures["servers"], figures["tools"]) == (150, 11, 680)
    assert figures["routeAccuracy"] >= 0.95
    assert figures["toolTop1"] >= 0.85
    assert figures["toolTop5"] >= 0.97
    print(
        json.dumps(
            {
                k: figures[k]
                for k in ("routeAccuracy", "toolTop1", "toolTop5", "latencyP50Ms", "latencyP95Ms")
            }
        )
    )


def test_the_held_out_probe_set_runs_against_the_eval_fleet(eval_dir: Path, tmp_path: Path) -> None:
    """Queries written after tuning and never tuned on (docs/benchmarks/triage.md).

    ``--tools`` gets a directory holding exactly the eval fleet's eleven tool lists.
    """
    tools = tmp_path / "tools"
    tools.mkdir()
    for name in EVAL_FLEET:
        (tools / f"{name}.json").write_bytes((eval_dir / "mcp-tools" / f"{name}.json").read_bytes())
    result = runner.invoke(
        app,
        ["triage", "eval", str(DATA / "probe-queries.jsonl"), "--tools", str(tools), "--json"],
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert (figures["queries"], figures["servers"], figures["tools"]) == (62, 11, 680)
    assert figures["routeAccuracy"] >= 0.83
    assert figures["toolTop1"] >= 0.8
    assert figures["toolTop5"] >= 0.95
