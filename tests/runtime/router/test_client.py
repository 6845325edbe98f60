"""The HTTP Completer (what triage in another pod escalates through) against the router's
real REST API in-process; the providers behind it are the fakes of ``fakes``."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from runtime.contracts import Completer
from runtime.router import (
    AllModelsFailed,
    AttemptStatus,
    InvalidRequest,
    RouterClient,
    RouterUnreachable,
    install_router_api,
)
from tests.runtime.router.conftest import RouterUnderTest
from tests.runtime.router.fakes import Answer, Fail

SONNET, GEMINI, LLAMA = "claude-sonnet-4-6", "gemini-2.0-flash", "llama3.1:8b"


@pytest.fixture
async def client(routed: RouterUnderTest) -> AsyncIterator[RouterClient]:
    app = FastAPI()
    install_router_api(app)
    app.state.model_router = routed.router
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as http:
        yield RouterClient("http://router:8083/", http)


async def test_a_completion_over_http_carries_the_routers_accounting(
    client: RouterClient, routed: RouterUnderTest
) -> None:
    routed.fakes.anthropic.script.push(SONNET, Fail(500))
    routed.fakes.google.script.push(GEMINI, Answer(text="ok", input_tokens=7, output_tokens=3))
    completer: Completer = client

    completion = await completer.complete("hi", task_type="analysis", max_tokens=32)

    assert (completion.text, completion.model) == ("ok", "gemini-flash")
    assert (completion.input_tokens, completion.output_tokens) == (7, 3)
    assert completion.cost_usd == pytest.approx((7 * 0.1 + 3 * 0.4) / 1e6)
    assert completion.fallbacks_tried == ["claude-sonnet"]


async def test_all_models_failing_comes_back_as_the_same_exception(
    client: RouterClient, routed: RouterUnderTest
) -> None:
    routed.fakes.google.script.push(GEMINI, Fail(429))
    routed.fakes.anthropic.script.push("claude-haiku-4-5", Fail(500, "down"))
    routed.fakes.ollama.script.push(LLAMA, Fail(500, "no gpu"))

    with pytest.raises(AllModelsFailed) as caught:
        await client.complete("hi")

    assert [(a.model, a.status) for a in caught.value.attempts] == [
        ("gemini-flash", AttemptStatus.RATE_LIMITED),
        ("claude-haiku", AttemptStatus.ERROR),
        ("llama-local", AttemptStatus.ERROR),
    ]


async def test_a_request_the_router_refuses_is_an_invalid_request(client: RouterClient) -> None:
    with pytest.raises(InvalidRequest, match="task_type"):
        await client.complete("hi", task_type="poetry")


async def test_an_unreachable_router_is_reported_as_such() -> None:
    async with httpx.AsyncClient() as http:
        client = RouterClient("http://127.0.0.1:9", http)
        with pytest.raises(RouterUnreachable, match="cannot reach the router"):
            await client.complete("hi")
