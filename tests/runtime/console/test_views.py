"""The pieces of the console that need no fleet: triage's decision read defensively,
the try-it form made from schemas, the cost chart's geometry, and the session's checks."""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest
from starlette.requests import Request

from runtime.console.assets import Assets
from runtime.console.charts import cost_chart
from runtime.console.forms import ToolForm, read_arguments
from runtime.console.pages.ask import DecisionView
from runtime.console.pages.entry import safe_next
from runtime.console.rendering import Pages
from runtime.console.session import csrf_token, csrf_valid, same_origin
from runtime.store import Principal


def _request(path: str = "/ask", headers: dict[str, str] | None = None) -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    return Request(
        {"type": "http", "method": "GET", "path": path, "headers": raw, "query_string": b""}
    )


def _viewer() -> SimpleNamespace:
    principal = Principal("operator", None, None, admin=True)
    return SimpleNamespace(principal=principal, name="operator", admin=True, token="t", csrf="c")


def _render_ask(decision: DecisionView) -> str:
    pages = Pages(Assets())
    response = pages.render(
        _request(),
        "ask.html",
        {"viewer": _viewer(), "section": "ask", "q": "x", "decision": decision},
    )
    return bytes(response.body).decode()


TODAY_DECISION = {
    "route": "tool",
    "confidence": 0.91,
    "candidates": [
        {"server": "homelab", "tool": "disk_usage", "score": 0.6, "description": "df"},
        {"server": "homelab", "tool": "uptime", "score": 0.2, "description": "up"},
    ],
    "arguments": {"path": "/"},
    "missingArguments": [],
    "routeScores": {"tool": 0.5, "direct": 0.3},
    "decidedBy": "classifier",
    "timings": {"totalMs": 9.1},
}


def test_a_decision_of_todays_triage_renders_without_the_newer_fields() -> None:
    view = DecisionView.of(TODAY_DECISION)
    assert view.would_execute is None and view.extra == {}
    html = _render_ask(view)
    assert "What would execute" not in html
    assert '<th scope="col" class="num">Confidence</th>' not in html
    assert "homelab/disk_usage" in html and "91 %" in html


def test_fields_a_newer_triage_adds_are_shown_when_present_in_either_spelling() -> None:
    newer = {
        **TODAY_DECISION,
        "candidates": [
            {**c, "confidence": 0.8 - i * 0.5} for i, c in enumerate(TODAY_DECISION["candidates"])
        ],
        "would_execute": {"server": "homelab", "tool": "disk_usage", "arguments": {"path": "/"}},
        "abstained": False,
    }
    view = DecisionView.of(newer)
    assert view.would_execute["tool"] == "disk_usage"
    assert [c.confidence for c in view.candidates] == [0.8, 0.30000000000000004]
    assert view.extra == {"abstained": False}
    html = _render_ask(view)
    assert "What would execute" in html and "<strong>homelab/disk_usage</strong>" in html
    assert '<th scope="col" class="num">Confidence</th>' in html
    assert '<td class="num">80 %</td>' in html
    assert "More from triage" in html and "abstained" in html
    camel = DecisionView.of({"route": "direct", "wouldExecute": False, "decided_by": "llm:x"})
    assert camel.would_execute is False and camel.decided_by == "llm:x"
    assert "Nothing would run by itself." in _render_ask(camel)


def test_a_decision_with_missing_or_odd_fields_still_renders() -> None:
    view = DecisionView.of({"candidates": [{"tool": 3}, "junk"], "confidence": "high"})
    assert view.route == "?" and view.confidence is None
    assert len(view.candidates) == 1 and view.candidates[0].score is None
    assert "Decision" in _render_ask(view)


SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "description": "who"},
        "count": {"type": "integer", "minimum": 1, "maximum": 5, "default": 2},
        "ratio": {"type": "number"},
        "mode": {"type": "string", "enum": ["fast", "slow"]},
        "dry": {"type": "boolean"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "query": {"type": "string", "description": "the SQL query to run"},
    },
    "required": ["name", "mode"],
    "additionalProperties": False,
}


def test_the_form_has_a_control_per_property_of_the_schemas_type() -> None:
    form = ToolForm.of(SCHEMA)
    kinds = {f.prop: f.kind for f in form.fields}
    assert kinds == {
        "name": "text",
        "count": "integer",
        "ratio": "number",
        "mode": "select",
        "dry": "boolean",
        "tags": "json",
        "query": "textarea",
    }
    by = {f.prop: f for f in form.fields}
    assert by["count"].value == "2" and by["count"].minimum == 1 and by["count"].maximum == 5
    assert by["mode"].required and by["mode"].options == [('"fast"', "fast"), ('"slow"', "slow")]
    assert by["dry"].options[0] == ("", "— not set —")
    assert by["name"].name == "arg.name"


def test_form_values_become_typed_arguments_checked_against_the_schema() -> None:
    values = {
        "arg.name": "n",
        "arg.count": "3",
        "arg.ratio": "0.5",
        "arg.mode": '"slow"',
        "arg.dry": "true",
        "arg.tags": '["a", "b"]',
        "arg.query": "",
    }
    arguments, problems = read_arguments(SCHEMA, values)
    assert problems == {}
    assert arguments == {
        "name": "n",
        "count": 3,
        "ratio": 0.5,
        "mode": "slow",
        "dry": True,
        "tags": ["a", "b"],
    }


def test_each_problem_is_reported_beside_its_own_field() -> None:
    _, problems = read_arguments(
        SCHEMA, {"arg.count": "many", "arg.tags": "[", "arg.mode": '"slow"'}
    )
    assert problems == {
        "name": "required",
        "count": "must be a whole number",
        "tags": "not valid JSON: Expecting value",
    }
    _, problems = read_arguments(SCHEMA, {"arg.name": "n", "arg.mode": '"slow"', "arg.count": "9"})
    assert problems == {"count": "9 is greater than the maximum of 5"}
    _, problems = read_arguments(SCHEMA, {"arg.name": "n", "arg.mode": '"medium"'})
    assert "medium" in problems["mode"]
    form = ToolForm.of(SCHEMA, {"arg.count": "many"}, {"count": "must be a whole number"})
    count = next(f for f in form.fields if f.prop == "count")
    assert count.value == "many" and count.error == "must be a whole number"


def test_a_schema_without_properties_takes_one_json_object() -> None:
    form = ToolForm.of({"type": "object"})
    assert [f.name for f in form.fields] == ["arguments"]
    assert read_arguments({"type": "object"}, {"arguments": '{"a": 1}'}) == ({"a": 1}, {})
    assert read_arguments({}, {"arguments": "[1]"})[1] == {"arguments": "must be a JSON object"}
    assert read_arguments({}, {})[0] == {}


def test_the_cost_chart_stacks_models_per_day_under_the_budget_line() -> None:
    report = {
        "first": "2026-05-01",
        "last": "2026-05-03",
        "days": [
            {
                "day": "2026-05-01",
                "models": [{"model": "a", "cost_usd": 2.0}, {"model": "b", "cost_usd": 1.0}],
            },
            {"day": "2026-05-03", "models": [{"model": "b", "cost_usd": 4.0}]},
        ],
        "budget": {"daily_usd": 5.0, "alert_threshold": 0.8},
    }
    chart = cost_chart(report)
    assert [t.label for t in chart.x_ticks] == ["05-01", "05-02", "05-03"]
    assert [(b.series, b.title) for b in chart.bars] == [
        (0, "2026-05-01 a: $2.0000"),
        (1, "2026-05-01 b: $1.0000"),
        (1, "2026-05-03 b: $4.0000"),
    ]
    first, second, third = chart.bars
    assert second.y + second.height == pytest.approx(first.y, abs=0.02)  # stacked
    assert abs(third.height - 4 * first.height / 2) < 0.01  # to scale
    assert chart.budget_y is not None and chart.alert_y is not None
    assert chart.plot_top <= chart.budget_y < chart.alert_y < chart.plot_bottom
    assert chart.legend == [(0, "a"), (1, "b")]
    assert [r["day"] for r in chart.rows] == [date(2026, 5, 1), date(2026, 5, 1), date(2026, 5, 3)]


def test_an_empty_report_still_draws_axes() -> None:
    chart = cost_chart({})
    assert chart.bars == [] and chart.budget_y is None and chart.x_ticks


def test_axis_labels_are_round_and_distinct_at_any_scale() -> None:
    for cost, budget in ((2.0, 10.0), (0.013, 0.0), (0.3, 0.0), (950.0, 10.0)):
        report = {"days": [{"day": "2026-05-01", "models": [{"model": "a", "cost_usd": cost}]}]}
        labels = [t.label for t in cost_chart({**report, "budget": {"daily_usd": budget}}).y_ticks]
        assert len(labels) == len(set(labels)) >= 2, labels
        highest = float(labels[-1].lstrip("$").replace(",", ""))
        assert highest >= max(cost, budget), labels


def test_the_form_token_is_bound_to_the_session_token() -> None:
    assert csrf_token("mcpf_a") == csrf_token("mcpf_a") != csrf_token("mcpf_b")
    assert csrf_valid("mcpf_a", csrf_token("mcpf_a"))
    assert not csrf_valid("mcpf_a", csrf_token("mcpf_b"))
    assert not csrf_valid("mcpf_a", None) and not csrf_valid(None, "x")


def test_a_post_must_name_this_host_as_its_origin() -> None:
    assert same_origin(_request(headers={"host": "gw:8080", "origin": "http://gw:8080"}))
    assert same_origin(_request(headers={"host": "gw:8080", "origin": "https://gw:8080"}))
    assert not same_origin(_request(headers={"host": "gw:8080", "origin": "http://evil"}))
    assert not same_origin(_request(headers={"host": "gw:8080", "origin": "null"}))
    assert same_origin(_request(headers={"host": "gw:8080", "referer": "http://gw:8080/tools"}))
    behind_proxy = _request(headers={"host": "10.0.0.5:8080", "origin": "https://mcp.example"})
    assert same_origin(behind_proxy, "https://mcp.example")
    assert same_origin(_request(headers={"host": "gw"}))  # not a browser: the CSRF token decides


def test_sign_in_only_returns_to_paths_on_this_site() -> None:
    assert safe_next("/audit?server=x") == "/audit?server=x"
    for bad in (None, "", "https://evil", "//evil", "/\\evil", "audit"):
        assert safe_next(bad) == "/"


def test_the_when_filter_shows_utc_to_the_second() -> None:
    pages = Pages(Assets())
    when = pages.env.filters["when"]
    assert when(datetime(2026, 5, 1, 12, 0, 3, tzinfo=UTC)) == "2026-05-01 12:00:03 UTC"
    assert when("2026-05-01T12:00:03Z") == "2026-05-01 12:00:03 UTC"
    assert when(None) == "—"
