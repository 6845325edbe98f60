"""The router's REST API in-process over ASGI, on a real database, with the provider
SDKs talking to the fakes (which stand for Anthropic, Gemini and Ollama)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any, get_args

import httpx
import pytest
from fastapi import Depends, FastAPI, HTTPException

from runtime.db import Database
from runtime.router import AttemptStatus, create_app, install_router_api
from runtime.router.api import TaskTypeName
from runtime.router.ledger import PgUsageLedger
from runtime.router.policy import TASK_TYPES
from runtime.router.usage import UsageRow
from runtime.settings import Settings
from runtime.store.tokens import TokenStore
from tests.runtime.router.conftest import RouterUnderTest
from tests.runtime.router.fakes import ANTHROPIC_KEY, GOOGLE_KEY, Answer, Fail

SONNET, GEMINI, LLAMA = "claude-sonnet-4-6", "gemini-2.0-flash", "llama3.1:8b"


def app_for(routed: RouterUnderTest, **install: Any) -> FastAPI:
    app = FastAPI()
    install_router_api(app, **install)
    app.state.model_router = routed.router
    return app


@pytest.fixture
async def client(routed: RouterUnderTest) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app_for(routed))
    async with httpx.AsyncClient(transport=transport, base_url="http://router") as http:
        yield http


async def test_complete_answers_with_the_model_and_its_accounting(
    client: httpx.AsyncClient, routed: RouterUnderTest
) -> None:
    routed.fakes.anthropic.script.push(SONNET, Fail(429))
    routed.fakes.google.script.push(GEMINI, Answer(text="42", input_tokens=10, output_tokens=2))

    response = await client.post(
        "/api/v1/complete", json={"prompt": "six times seven?", "task_type": "reasoning"}
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["text"], body["model"], body["rule"]) == ("42", "gemini-flash", "deep-work")
    assert (body["input_tokens"], body["output_tokens"]) == (10, 2)
    assert body["cost_usd"] == pytest.approx((10 * 0.1 + 2 * 0.4) / 1e6)
    assert [(a["model"], a["status"]) for a in body["attempts"]] == [
        ("claude-sonnet", "rate_limited"),
        ("gemini-flash", "ok"),
    ]


async def test_when_all_models_fail_the_error_lists_each_attempt_and_no_key(
    client: httpx.AsyncClient, routed: RouterUnderTest
) -> None:
    routed.fakes.anthropic.script.push(SONNET, Fail(500, f"upstream said {ANTHROPIC_KEY}"))
    routed.fakes.google.script.push(GEMINI, Fail(429))
    routed.fakes.ollama.script.push(LLAMA, Fail(503, "loading model"))

    response = await client.post("/api/v1/complete", json={"prompt": "hi", "task_type": "code"})

    assert response.status_code == 502
    error = response.json()["error"]
    assert error["code"] == "all_models_failed"
    assert [(a["model"], a["status"]) for a in error["attempts"]] == [
        ("claude-sonnet", "error"),
        ("gemini-flash", "rate_limited"),
        ("llama-local", "error"),
    ]
    assert all(a["reason"] for a in error["attempts"])
    assert ANTHROPIC_KEY not in response.text and GOOGLE_KEY not in response.text


@pytest.mark.parametrize(
    "body",
    [{"prompt": "hi", "task_type": "poetry"}, {"prompt": ""}, {"task_type": "chat"}, []],
    ids=["unknown-task-type", "empty-prompt", "no-prompt", "not-an-object"],
)
async def test_a_malformed_request_is_a_json_422_with_reasons(
    client: httpx.AsyncClient, routed: RouterUnderTest, body: Any
) -> None:
    response = await client.post("/api/v1/complete", json=body)

    assert response.status_code == 422
    assert response.json()["detail"]
    assert routed.fakes.google.script.requests == []


async def record(db: Database, rows: list[UsageRow]) -> None:
    ledger = PgUsageLedger(db)
    for row in rows:
        await ledger.record(row)


def row(days_ago: int, model: str, status: str, tokens: tuple[int, int], cost: float) -> UsageRow:
    at = datetime.now(UTC).replace(hour=12, minute=0) - timedelta(days=days_ago)
    return UsageRow(
        at=at,
        model=model,
        provider="x",
        task_type="chat",
        status=AttemptStatus(status),
        input_tokens=tokens[0],
        output_tokens=tokens[1],
        cost_usd=cost,
    )


async def sql_sums(db: Database, days: int) -> dict[tuple[str, str], tuple[int, ...]]:
    """The ground truth, summed by a query written independently of the ledger's."""
    async with db.connection() as conn:
        cursor = await conn.execute(
            "SELECT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), model, count(*),"
            " sum(CASE WHEN status = 'ok' THEN 0 ELSE 1 END), sum(input_tokens),"
            " sum(output_tokens), round(sum(cost_usd)::numeric, 9)"
            " FROM model_usage WHERE at >= date_trunc('day', now() AT TIME ZONE 'UTC')"
            " AT TIME ZONE 'UTC' - make_interval(days => %s) GROUP BY 1, 2",
            (days - 1,),
        )
        return {(d, m): tuple(rest) for d, m, *rest in await cursor.fetchall()}


async def test_costs_per_day_and_model_equal_the_sum_of_the_rows(
    client: httpx.AsyncClient, routed: RouterUnderTest
) -> None:
    await record(
        routed.db,
        [
            row(0, "claude-sonnet", "ok", (1000, 200), 0.006),
            row(0, "claude-sonnet", "timeout", (0, 0), 0.0),
            row(0, "gemini-flash", "ok", (50, 5), 0.000007),
            row(1, "claude-sonnet", "ok", (300, 30), 0.00135),
            row(3, "gemini-flash", "rate_limited", (0, 0), 0.0),
            row(3, "gemini-flash", "ok", (10, 10), 0.000005),
            row(20, "claude-sonnet", "ok", (9, 9), 5.0),  # outside the 7 days asked for
        ],
    )
    routed.fakes.anthropic.script.push(SONNET, Answer(input_tokens=400, output_tokens=40))
    await client.post("/api/v1/complete", json={"prompt": "and one real call", "task_type": "code"})

    report = (await client.get("/api/v1/costs", params={"days": 7})).json()

    seen = {
        (day["day"], m["model"]): (
            m["calls"],
            m["failed"],
            m["input_tokens"],
            m["output_tokens"],
            pytest.approx(m["cost_usd"]),
        )
        for day in report["days"]
        for m in day["models"]
    }
    truth = await sql_sums(routed.db, 7)
    assert seen == {k: (*v[:4], float(v[4])) for k, v in truth.items()}
    assert report["totals"]["calls"] == sum(v[0] for v in truth.values()) == 7
    assert report["totals"]["cost_usd"] == pytest.approx(float(sum(v[4] for v in truth.values())))
    for day in report["days"]:
        assert day["totals"]["cost_usd"] == pytest.approx(sum(m["cost_usd"] for m in day["models"]))
    by_model = {m["model"]: m["calls"] for m in report["models"]}
    assert by_model == {"claude-sonnet": 4, "gemini-flash": 3}
    today = datetime.now(UTC).date().isoformat()
    today_cost = sum(float(v[4]) for (d, _), v in truth.items() if d == today)
    budget = report["budget"]
    assert budget["spent_usd"] == pytest.approx(today_cost)
    assert budget["spent_ratio"] == pytest.approx(today_cost / 10)
    assert (budget["daily_usd"], budget["when_exhausted"], budget["exhausted"]) == (
        10.0,
        "llama-local",
        False,
    )


async def test_costs_of_an_empty_ledger_are_zero_with_the_budget(
    client: httpx.AsyncClient,
) -> None:
    report = (await client.get("/api/v1/costs")).json()

    assert report["days"] == [] and report["models"] == []
    assert report["totals"]["cost_usd"] == 0
    assert report["budget"]["spent_ratio"] == 0


async def test_the_hosts_dependencies_guard_the_routes(routed: RouterUnderTest) -> None:
    def deny() -> None:
        raise HTTPException(status_code=401, detail="no token")

    app = app_for(routed, dependencies=[Depends(deny)])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://router") as http:
        costs = await http.get("/api/v1/costs")
        complete = await http.post("/api/v1/complete", json={"prompt": "hi"})

    assert (costs.status_code, complete.status_code) == (401, 401)
    assert routed.fakes.google.script.requests == []


async def test_a_host_without_a_router_answers_503_in_json() -> None:
    app = FastAPI()
    install_router_api(app)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://router") as http:
        response = await http.get("/api/v1/costs")

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "router_not_ready"


async def test_the_standalone_service_opens_everything_in_its_lifespan(
    runtime_settings: Settings, db: Database
) -> None:
    """The shipped catalog with no keys set: the cloud providers are reported unusable."""
    token = (await TokenStore(db).create("ops")).token
    app = create_app(runtime_settings)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://router") as http,
    ):
        health = (await http.get("/api/v1/health")).json()
        costs = await http.get("/api/v1/costs", headers={"Authorization": f"Bearer {token}"})
        metrics = await http.get("/metrics")
        schema = (await http.get("/openapi.json")).json()

    assert health["status"] == "ok"
    assert costs.status_code == 200
    assert "mcpfleet_budget_spent_ratio 0.0" in metrics.text
    assert {"/api/v1/costs", "/api/v1/complete"} <= set(schema["paths"])


@pytest.mark.parametrize(
    "authorization", [None, "Bearer mcpf_not-a-real-token", "Basic dXNlcjpwYXNz"]
)
async def test_the_standalone_service_refuses_calls_without_a_valid_token(
    runtime_settings: Settings, authorization: str | None
) -> None:
    app = create_app(runtime_settings)
    headers = {"Authorization": authorization} if authorization else {}
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://router", headers=headers) as http,
    ):
        costs = await http.get("/api/v1/costs")
        complete = await http.post("/api/v1/complete", json={"prompt": "hi"})

    for response in (costs, complete):
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthorized"
        assert response.headers["www-authenticate"].startswith("Bearer")


async def test_without_auth_the_standalone_service_answers_anyone(
    runtime_settings: Settings,
) -> None:
    app = create_app(runtime_settings, auth=False)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://router") as http,
    ):
        costs = await http.get("/api/v1/costs")

    assert costs.status_code == 200


async def test_an_unexpected_failure_in_the_service_is_json_without_a_trace(
    runtime_settings: Settings,
) -> None:
    def broken() -> None:
        raise RuntimeError("internal detail /etc/secret")

    app = create_app(runtime_settings, auth=False, dependencies=[Depends(broken)])
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://router") as http,
    ):
        response = await http.get("/api/v1/costs")

    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal"
    assert "secret" not in response.text


def test_the_api_offers_exactly_the_task_types_the_policy_knows() -> None:
    assert set(get_args(TaskTypeName)) == set(TASK_TYPES)
