"""Fixtures for router tests: the fake provider servers of ``fakes`` (one set per session)
and a router on a fresh database (the shared ``db`` fixture) pointed at them."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime

import pytest
from prometheus_client import CollectorRegistry

from catalog.model import ModelsFile
from runtime.db import Database
from runtime.router import ModelRouter, RouterSettings, open_model_router
from runtime.router.budget import utc_now
from tests.runtime.router.fakes import (
    ANTHROPIC_KEY,
    GOOGLE_KEY,
    Fakes,
    Script,
    anthropic_app,
    google_app,
    models_spec,
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


@dataclass
class RouterUnderTest:
    """A router on a fresh database with its providers pointed at the fakes."""

    router: ModelRouter
    registry: CollectorRegistry
    db: Database
    fakes: Fakes

    def sample(self, name: str, **labels: str) -> float:
        """A Prometheus sample of this router's registry (0 when never set)."""
        return self.registry.get_sample_value(name, labels) or 0.0


KEYS = {"ANTHROPIC_API_KEY": ANTHROPIC_KEY, "GEMINI_API_KEY": GOOGLE_KEY}
UNCACHED = RouterSettings(timeout=60, budget_cache_seconds=0)
"""No budget cache; a generous call timeout, so a loaded machine never turns an answer
into a timeout (tests of the timeout set a short one against a fake that never answers)."""


@contextlib.asynccontextmanager
async def router_on(
    db: Database,
    fakes: Fakes,
    *,
    spec: ModelsFile | None = None,
    env: dict[str, str] | None = None,
    settings: RouterSettings = UNCACHED,
    clock: Callable[[], datetime] = utc_now,
) -> AsyncIterator[RouterUnderTest]:
    registry = CollectorRegistry()
    async with open_model_router(
        spec or models_spec(fakes),
        db,
        registry,
        settings=settings,
        env=KEYS if env is None else env,
        clock=clock,
    ) as router:
        yield RouterUnderTest(router, registry, db, fakes)


@pytest.fixture
async def routed(db: Database, fakes: Fakes) -> AsyncIterator[RouterUnderTest]:
    """The router under test, with both API keys set and no budget cache."""
    async with router_on(db, fakes) as under_test:
        yield under_test
