"""Each provider adapter drives the real SDK against a fake server speaking its API.

The fakes in ``fakes`` stand for the Anthropic Messages API, the Gemini API and an Ollama
server; the clients are the real ``anthropic``, ``google-genai`` and ``ollama`` packages.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import httpx2
import pytest

from runtime.router.errors import AttemptStatus, ProviderError
from runtime.router.providers import (
    AnthropicProvider,
    ChatProvider,
    GoogleProvider,
    OllamaProvider,
)
from tests.runtime.router.fakes import (
    ANTHROPIC_KEY,
    GOOGLE_KEY,
    Answer,
    Fail,
    Fakes,
    FakeServer,
    Garbage,
    Hang,
)

TIMEOUT = 60.0
"""Generous: a loaded machine must not turn an answer into a timeout."""
HANG_TIMEOUT = 0.5
"""For the fake that never answers: any timeout fires, a short one keeps the test short."""


@dataclass(frozen=True)
class Case:
    name: str
    model_id: str
    fake: Callable[[Fakes], FakeServer]
    build: Callable[[str, httpx2.AsyncClient, float], ChatProvider]
    key: str | None


CASES = [
    Case(
        "anthropic",
        "claude-sonnet-4-6",
        lambda f: f.anthropic,
        lambda url, http, timeout: AnthropicProvider(
            "anthropic", api_key=ANTHROPIC_KEY, timeout=timeout, base_url=url, http_client=http
        ),
        ANTHROPIC_KEY,
    ),
    Case(
        "google",
        "gemini-2.0-flash",
        lambda f: f.google,
        lambda url, http, timeout: GoogleProvider(
            "google", api_key=GOOGLE_KEY, timeout=timeout, base_url=url, http_client=http
        ),
        GOOGLE_KEY,
    ),
    Case(
        "ollama",
        "llama3.1:8b",
        lambda f: f.ollama,
        lambda url, http, timeout: OllamaProvider("ollama", timeout=timeout, host=url),
        None,
    ),
]


KEYED = [c for c in CASES if c.key is not None]


async def _open(
    case: Case, fakes: Fakes, provider_timeout: float = TIMEOUT
) -> AsyncIterator[tuple[Case, ChatProvider, FakeServer]]:
    fake = case.fake(fakes)
    async with httpx2.AsyncClient() as http:
        provider = case.build(fake.url, http, provider_timeout)
        yield case, provider, fake
        await provider.aclose()


@pytest.fixture(params=CASES, ids=[c.name for c in CASES])
async def adapter(
    request: pytest.FixtureRequest, fakes: Fakes
) -> AsyncIterator[tuple[Case, ChatProvider, FakeServer]]:
    async for opened in _open(request.param, fakes):
        yield opened


@pytest.fixture(params=KEYED, ids=[c.name for c in KEYED])
async def keyed_adapter(
    request: pytest.FixtureRequest, fakes: Fakes
) -> AsyncIterator[tuple[Case, ChatProvider, FakeServer]]:
    """Only the providers that need a key (Ollama takes none unless the catalog names one)."""
    async for opened in _open(request.param, fakes):
        yield opened


async def test_an_answer_carries_the_text_and_the_providers_token_counts(adapter) -> None:
    case, provider, fake = adapter
    fake.script.push(case.model_id, Answer(text="forty-two", input_tokens=123, output_tokens=45))

    reply = await provider.generate(
        case.model_id, "what is six times seven", system="be brief", max_tokens=64
    )

    assert (reply.text, reply.input_tokens, reply.output_tokens) == ("forty-two", 123, 45)


async def test_the_prompt_system_prompt_and_token_limit_reach_the_provider(adapter) -> None:
    case, provider, fake = adapter

    await provider.generate(case.model_id, "hello there", system="be brief", max_tokens=64)

    (seen,) = fake.script.requests
    body = str(seen["body"])
    assert "hello there" in body and "be brief" in body and "64" in body


async def test_the_api_key_travels_in_the_providers_header(keyed_adapter) -> None:
    case, provider, fake = keyed_adapter

    await provider.generate(case.model_id, "hi", system=None, max_tokens=8)

    headers = fake.script.requests[0]["headers"]
    sent = [headers.get(h, "") for h in ("x-api-key", "x-goog-api-key", "authorization")]
    assert case.key in sent or f"Bearer {case.key}" in sent


@pytest.mark.parametrize(
    ("failure", "status"),
    [(Fail(500), AttemptStatus.ERROR), (Fail(429), AttemptStatus.RATE_LIMITED)],
    ids=["server-error", "rate-limited"],
)
async def test_an_http_failure_becomes_a_provider_error_with_its_status(
    adapter, failure: Fail, status: AttemptStatus
) -> None:
    case, provider, fake = adapter
    fake.script.push(case.model_id, failure)

    with pytest.raises(ProviderError) as caught:
        await provider.generate(case.model_id, "hi", system=None, max_tokens=8)

    assert caught.value.outcome is status
    assert str(failure.status) in caught.value.reason
    assert failure.message in caught.value.reason


@pytest.mark.parametrize(
    "garbage", [Garbage(), Garbage('{"unexpected": true}')], ids=["not-json", "wrong-json"]
)
async def test_an_answer_that_is_not_the_providers_format_is_an_error(
    adapter, garbage: Garbage
) -> None:
    case, provider, fake = adapter
    fake.script.push(case.model_id, garbage)

    with pytest.raises(ProviderError) as caught:
        await provider.generate(case.model_id, "hi", system=None, max_tokens=8)

    assert caught.value.outcome is AttemptStatus.ERROR


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_a_provider_that_does_not_answer_in_time_is_a_timeout(
    case: Case, fakes: Fakes
) -> None:
    async for _, provider, fake in _open(case, fakes, HANG_TIMEOUT):
        fake.script.push(case.model_id, Hang())

        with pytest.raises(ProviderError) as caught:
            await provider.generate(case.model_id, "hi", system=None, max_tokens=8)

        assert caught.value.outcome is AttemptStatus.TIMEOUT


async def test_an_error_body_that_echoes_the_key_is_redacted(keyed_adapter) -> None:
    case, provider, fake = keyed_adapter
    fake.script.push(case.model_id, Fail(400, f"bad request for key {case.key}"))

    with pytest.raises(ProviderError) as caught:
        await provider.generate(case.model_id, "hi", system=None, max_tokens=8)

    assert case.key not in caught.value.reason
    assert "[redacted]" in caught.value.reason


async def test_an_unreachable_provider_is_an_error_not_a_crash() -> None:
    async with httpx2.AsyncClient() as http:
        for provider in (
            AnthropicProvider(
                "a",
                api_key="k" * 8,
                timeout=TIMEOUT,
                base_url="http://127.0.0.1:9",
                http_client=http,
            ),
            GoogleProvider(
                "g",
                api_key="k" * 8,
                timeout=TIMEOUT,
                base_url="http://127.0.0.1:9",
                http_client=http,
            ),
            OllamaProvider("o", timeout=TIMEOUT, host="http://127.0.0.1:9"),
        ):
            with pytest.raises(ProviderError) as caught:
                await provider.generate("m", "hi", system=None, max_tokens=8)
            assert caught.value.outcome is AttemptStatus.ERROR
            assert "cannot reach" in caught.value.reason
            await provider.aclose()
