"""The router end to end: policy → real SDK → fake provider → rows in PostgreSQL and
Prometheus series. The fakes stand for Anthropic, Gemini and Ollama (see ``fakes``)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import pytest

from runtime.contracts import Completer
from runtime.db import Database
from runtime.gateway.logs import JsonFormatter
from runtime.router import AllModelsFailed, AttemptStatus, InvalidRequest
from tests.runtime.router.conftest import UNCACHED, RouterUnderTest, router_on
from tests.runtime.router.fakes import ANTHROPIC_KEY, GOOGLE_KEY, Answer, Fail, Fakes, Hang

SONNET, HAIKU, GEMINI, LLAMA = (
    "claude-sonnet-4-6",
    "claude-haiku-4-5",
    "gemini-2.0-flash",
    "llama3.1:8b",
)


async def usage_rows(db: Database) -> list[tuple]:
    async with db.connection() as conn:
        cursor = await conn.execute(
            "SELECT model, provider, task_type, status, input_tokens, output_tokens, cost_usd,"
            " error FROM model_usage ORDER BY id"
        )
        return await cursor.fetchall()


async def spend(db: Database, usd: float) -> None:
    """A call made earlier today by another replica (or before a restart)."""
    async with db.connection() as conn:
        await conn.execute(
            "INSERT INTO model_usage (at, model, provider, task_type, cost_usd, status)"
            " VALUES (%s, 'claude-sonnet', 'anthropic', 'reasoning', %s, 'ok')",
            (datetime.now(UTC), usd),
        )


@pytest.mark.parametrize(
    ("task_type", "model", "fake_model"),
    [
        ("reasoning", "claude-sonnet", SONNET),
        ("classification", "claude-haiku", HAIKU),
        ("summarization", "gemini-flash", GEMINI),
        ("chat", "gemini-flash", GEMINI),
    ],
)
async def test_each_task_type_is_answered_by_the_model_its_rule_names(
    routed: RouterUnderTest, task_type: str, model: str, fake_model: str
) -> None:
    completion = await routed.router.complete("tell me something", task_type=task_type)

    assert completion.model == model
    assert completion.fallbacks_tried == []
    fakes = routed.fakes
    seen = [
        r["model"] for f in (fakes.anthropic, fakes.google, fakes.ollama) for r in f.script.requests
    ]
    assert seen == [fake_model]


async def test_a_long_prompt_goes_to_the_long_context_model_whatever_the_task(
    routed: RouterUnderTest,
) -> None:
    prompt = "word " * 80_000  # 400 000 characters, about 100 000 tokens

    completion = await routed.router.complete(prompt, task_type="code")

    assert completion.model == "gemini-flash"
    assert routed.fakes.anthropic.script.requests == []


@pytest.mark.parametrize(
    ("failure", "status"),
    [
        (Fail(500), AttemptStatus.ERROR),
        (Fail(429), AttemptStatus.RATE_LIMITED),
        (Hang(), AttemptStatus.TIMEOUT),
    ],
    ids=["server-error", "rate-limited", "timeout"],
)
async def test_a_failing_model_falls_back_to_the_next_in_catalog_order(
    db: Database, fakes: Fakes, failure: Fail | Hang, status: AttemptStatus
) -> None:
    # A hung model costs the whole timeout, and the answer after it must fit in one too:
    # 5 s is short enough to wait and long enough for a loaded machine's local fake.
    settings = UNCACHED.model_copy(update={"timeout": 5.0}) if isinstance(failure, Hang) else None
    async with router_on(db, fakes, settings=settings or UNCACHED) as routed:
        routed.fakes.anthropic.script.push(SONNET, failure)

        routed_answer = await routed.router.route("why is the sky blue", task_type="reasoning")

    assert routed_answer.completion.model == "gemini-flash"
    assert routed_answer.completion.fallbacks_tried == ["claude-sonnet"]
    assert [(a.model, a.status) for a in routed_answer.attempts] == [
        ("claude-sonnet", status),
        ("gemini-flash", AttemptStatus.OK),
    ]
    assert [(r[0], r[3]) for r in await usage_rows(db)] == [
        ("claude-sonnet", status.value),
        ("gemini-flash", "ok"),
    ]


async def test_when_every_model_fails_each_attempts_reason_is_reported(
    routed: RouterUnderTest,
) -> None:
    routed.fakes.anthropic.script.push(SONNET, Fail(529, "overloaded"))
    routed.fakes.google.script.push(GEMINI, Fail(429, "quota exhausted"))
    routed.fakes.ollama.script.push(LLAMA, Fail(500, "model not loaded"))

    with pytest.raises(AllModelsFailed) as caught:
        await routed.router.complete("hi", task_type="reasoning")

    reasons = {a.model: (a.status, a.reason) for a in caught.value.attempts}
    assert reasons == {
        "claude-sonnet": (AttemptStatus.ERROR, "HTTP 529: overloaded"),
        "gemini-flash": (AttemptStatus.RATE_LIMITED, "HTTP 429: quota exhausted"),
        "llama-local": (AttemptStatus.ERROR, "HTTP 500: model not loaded"),
    }
    assert ANTHROPIC_KEY not in str(caught.value) and GOOGLE_KEY not in str(caught.value)
    assert len(await usage_rows(routed.db)) == 3


async def test_a_provider_without_its_key_is_skipped_and_costs_no_row(
    db: Database, fakes: Fakes
) -> None:
    async with router_on(db, fakes, env={"GEMINI_API_KEY": GOOGLE_KEY}) as under_test:
        answer = await under_test.router.route("hi", task_type="reasoning")

    assert answer.completion.model == "gemini-flash"
    first = answer.attempts[0]
    assert (first.model, first.status, first.reason) == (
        "claude-sonnet",
        AttemptStatus.UNAVAILABLE,
        "ANTHROPIC_API_KEY is not set",
    )
    assert fakes.anthropic.script.requests == []
    assert [r[0] for r in await usage_rows(db)] == ["gemini-flash"]


async def test_every_call_is_a_priced_row_in_model_usage(routed: RouterUnderTest) -> None:
    routed.fakes.anthropic.script.push(SONNET, Fail(500, "boom"))
    routed.fakes.google.script.push(GEMINI, Answer(input_tokens=1_000, output_tokens=500))

    completion = await routed.router.complete("hi", task_type="code")

    expected_cost = (1_000 * 0.10 + 500 * 0.40) / 1_000_000
    assert completion.cost_usd == pytest.approx(expected_cost)
    assert await usage_rows(routed.db) == [
        ("claude-sonnet", "anthropic", "code", "error", 0, 0, 0.0, "HTTP 500: boom"),
        ("gemini-flash", "google", "code", "ok", 1_000, 500, pytest.approx(expected_cost), None),
    ]


async def test_tokens_cost_and_durations_are_counted_in_prometheus(
    routed: RouterUnderTest,
) -> None:
    routed.fakes.anthropic.script.push(
        SONNET, Answer(input_tokens=2_000, output_tokens=100), Fail(429)
    )
    routed.fakes.google.script.push(GEMINI, Answer(input_tokens=10, output_tokens=20))

    await routed.router.complete("one", task_type="reasoning")
    await routed.router.complete("two", task_type="reasoning")  # 429, then gemini

    s = routed.sample
    assert s("llm_tokens_total", model="claude-sonnet", direction="input") == 2_000
    assert s("llm_tokens_total", model="claude-sonnet", direction="output") == 100
    assert s("llm_tokens_total", model="gemini-flash", direction="output") == 20
    assert s("llm_cost_usd_total", model="claude-sonnet") == pytest.approx(
        (2_000 * 3 + 100 * 15) / 1e6
    )
    assert s("llm_cost_usd_total", model="gemini-flash") == pytest.approx(
        (10 * 0.1 + 20 * 0.4) / 1e6
    )
    assert s("llm_request_duration_seconds_count", model="claude-sonnet") == 2
    assert s("llm_requests_total", model="claude-sonnet", status="rate_limited") == 1
    assert s("llm_requests_total", model="claude-sonnet", status="ok") == 1


async def test_a_spent_budget_sends_every_request_to_the_local_model(
    routed: RouterUnderTest,
) -> None:
    await spend(routed.db, 10.0)

    answer = await routed.router.route("prove it", task_type="reasoning")

    assert answer.completion.model == "llama-local"
    assert answer.route.budget_exhausted
    assert routed.fakes.anthropic.script.requests == []
    assert routed.sample("mcpfleet_budget_spent_ratio") == pytest.approx(1.0)
    assert routed.sample("mcpfleet_budget_exhausted") == 1


async def test_an_ollama_call_is_timed_for_the_llm_latency_alert_and_logged_as_json(
    routed: RouterUnderTest, caplog: pytest.LogCaptureFixture
) -> None:
    """``ollama_request_duration_seconds{caller="router"}`` feeds LLMHighLatency; the JSON
    log line per call is what the seed's LogQL example filters on (model, cost)."""
    labels = {"caller": "router", "model": LLAMA}
    before = routed.sample("ollama_request_duration_seconds_count", **labels)
    await spend(routed.db, 10.0)  # the budget is spent: llama-local (Ollama) answers
    with caplog.at_level(logging.INFO, logger="runtime.router.service"):
        answer = await routed.router.route("prove it", task_type="reasoning")
    assert answer.completion.model == "llama-local"
    assert routed.sample("ollama_request_duration_seconds_count", **labels) == before + 1
    (record,) = [r for r in caplog.records if r.getMessage() == "model call"]
    line = json.loads(JsonFormatter().format(record))
    assert (line["model"], line["cost"], line["task_type"]) == ("llama-local", 0.0, "reasoning")


async def test_the_spent_ratio_gauge_follows_todays_spend_below_the_budget(
    routed: RouterUnderTest,
) -> None:
    await spend(routed.db, 8.5)
    routed.fakes.anthropic.script.push(SONNET, Answer(input_tokens=100_000, output_tokens=0))

    answer = await routed.router.route("hi", task_type="reasoning")

    assert answer.completion.model == "claude-sonnet"
    assert routed.sample("mcpfleet_budget_spent_ratio") == pytest.approx((8.5 + 0.3) / 10)
    assert answer.budget.alerting and not answer.budget.exhausted


async def test_the_budget_holds_across_replicas_sharing_the_database(
    routed: RouterUnderTest, db: Database, fakes: Fakes
) -> None:
    routed.fakes.anthropic.script.push(
        SONNET, Answer(input_tokens=3_000_000, output_tokens=100_000)
    )
    await routed.router.complete("expensive", task_type="reasoning")  # $9 + $1.5

    async with router_on(db, fakes) as other_replica:
        answer = await other_replica.router.route("next", task_type="reasoning")

    assert answer.completion.model == "llama-local"


async def test_a_replica_counts_its_own_spend_before_the_cache_expires(
    db: Database, fakes: Fakes
) -> None:
    cached = UNCACHED.model_copy(update={"budget_cache_seconds": 3600})
    async with router_on(db, fakes, settings=cached) as under_test:
        fakes.anthropic.script.push(SONNET, Answer(input_tokens=4_000_000, output_tokens=0))
        await under_test.router.complete("expensive", task_type="reasoning")  # $12

        answer = await under_test.router.route("next", task_type="reasoning")

    assert answer.completion.model == "llama-local"


async def test_when_the_ledger_is_down_the_router_answers_locally(
    routed: RouterUnderTest,
) -> None:
    await routed.db.close()

    answer = await routed.router.route("hi", task_type="reasoning")

    assert answer.completion.model == "llama-local"
    assert answer.route.budget_exhausted and not answer.budget.known
    assert routed.sample("llm_usage_unrecorded_total", model="llama-local") == 1
    assert routed.sample("llm_tokens_total", model="llama-local", direction="output") == 5
    assert routed.sample("mcpfleet_budget_spent_ratio") == 0  # no false cost alert
    assert routed.sample("mcpfleet_budget_exhausted") == 1


async def test_the_budget_gauges_start_the_new_utc_day_at_zero_without_traffic(
    db: Database, fakes: Fakes
) -> None:
    now = [datetime.now(UTC)]
    await spend(db, 9.0)
    async with router_on(db, fakes, clock=lambda: now[0]) as under_test:
        await under_test.router.complete("hi", task_type="chat")
        assert under_test.sample("mcpfleet_budget_spent_ratio") == pytest.approx(0.9, abs=1e-3)

        now[0] += timedelta(days=1)

        assert under_test.sample("mcpfleet_budget_spent_ratio") == 0
        assert under_test.sample("mcpfleet_budget_exhausted") == 0
        assert (await under_test.router.budget.state()).spent_usd == 0


async def test_a_prompt_too_large_for_the_only_model_left_fails_clearly(
    routed: RouterUnderTest,
) -> None:
    await spend(routed.db, 10.0)

    with pytest.raises(AllModelsFailed) as caught:
        await routed.router.complete("x" * 600_000, task_type="chat")

    (attempt,) = caught.value.attempts
    assert attempt.status is AttemptStatus.UNAVAILABLE
    assert "131072-token window" in (attempt.reason or "")
    assert routed.fakes.ollama.script.requests == []


async def test_an_unknown_task_type_is_refused_before_any_call(routed: RouterUnderTest) -> None:
    with pytest.raises(InvalidRequest, match="unknown task_type `poetry`"):
        await routed.router.complete("hi", task_type="poetry")

    assert await usage_rows(routed.db) == []


async def test_the_router_is_the_completer_triage_escalates_through(
    routed: RouterUnderTest,
) -> None:
    completer: Completer = routed.router

    completion = await completer.complete("hi", system="be brief", max_tokens=16)

    assert completion.text.startswith("gemini-2.0-flash answers")
    body = routed.fakes.google.script.requests[0]["body"]
    assert body["generationConfig"]["maxOutputTokens"] == 16
