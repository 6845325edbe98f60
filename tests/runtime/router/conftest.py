"""Fixtures for router tests: the fake provider servers of ``fakes``, one set per session."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.runtime.router.fakes import (
    Fakes,
    Script,
    anthropic_app,
    google_app,
    ollama_app,
    serve,
)


@pytest.fixture(scope="session")
async def fake_servers() -> AsyncIterator[Fakes]:
    scripts = Script(), Script(), Script()
    async with (
        serve(anthropic_app(scripts[0]), scripts[0]) as anthropic,
        serve(google_app(scripts[1]), scripts[1]) as google,
        serve(ollama_app(scripts[2]), scripts[2]) as ollama,
    ):
        yield Fakes(anthropic=anthropic, google=google, ollama=ollama)


@pytest.fixture
async def fakes(fake_servers: Fakes) -> AsyncIterator[Fakes]:
    """The fake providers with empty scripts; hung requests are released afterwards."""
    fake_servers.reset()
    yield fake_servers
    fake_servers.reset()
