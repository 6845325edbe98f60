"""A first start with many tools: triage serves (503 with a reason) while its index builds.

Real PostgreSQL + pgvector and the real local model; the embedder is slowed down by a gate
the test opens, standing for the ≈1 min a 700-tool fleet takes to embed and train on one
core.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from pathlib import Path

import httpx
import numpy as np
import pytest
from fastapi import FastAPI

from catalog import load_catalog
from runtime.db import Database, DatabaseUnavailable
from runtime.triage.api import create_triage, install_error_handler
from runtime.triage.embedding import MiniLMEmbedder
from runtime.triage.fleet import FleetIndex
from runtime.triage.service import open_triage
from runtime.triage.tool_store import SyncReport
from tests.runtime.triage.conftest import register_tiny_fleet
from tests.waiting import eventually

REPO = Path(__file__).resolve().parents[3]


class GatedEmbedder:
    """The real model; embedding the fleet's tool texts (the index build) waits for ``gate``.

    Tool texts start with their server's name; the route model's example questions and the
    synthetic training questions do not, so only the index build is held.
    """

    def __init__(self, inner: MiniLMEmbedder) -> None:
        self.inner = inner
        self.name = inner.name
        self.dimension = inner.dimension
        self.gate = asyncio.Event()

    async def embed(self, texts: Sequence[str]) -> np.ndarray:
        if any(t.startswith("dnsfilter") for t in texts):
            await self.gate.wait()
        return await self.inner.embed(texts)


async def test_triage_answers_503_until_the_first_index_is_built(
    db: Database, minilm: MiniLMEmbedder, tiny_tools: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MCPFLEET_OLLAMA_URL", "http://127.0.0.1:9")
    await register_tiny_fleet(db, tiny_tools)
    embedder = GatedEmbedder(minilm)
    app = FastAPI()
    install_error_handler(app)
    app.include_router(create_triage())
    question = {"text": "is ads.example.com blocked"}
    async with open_triage(
        load_catalog(REPO / "catalog"),
        db,
        embedder=embedder,
        refresh_interval=3600,
        startup_wait=0.2,
    ) as service:
        assert not service.fleet.ready  # served after 0.2 s, index still building
        app.state.triage = service
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://triage") as http:
            waiting = await http.post("/api/v1/triage", json=question)
            assert waiting.status_code == 503
            assert "still being built" in waiting.json()["reason"]
            embedder.gate.set()
            await eventually(lambda: service.fleet.ready, within=300, what="the first tool index")
            decided = await http.post("/api/v1/triage", json=question)
            assert decided.status_code == 200, decided.text
            assert decided.json()["candidates"][0]["server"] == "dnsfilter"


async def test_a_failed_refresh_is_logged_and_retried(
    db: Database, minilm: MiniLMEmbedder, caplog: pytest.LogCaptureFixture
) -> None:
    """A refresh that fails (the database away) must not end the refresher for good."""
    fleet = FleetIndex(db, minilm)
    attempts = 0
    build = fleet.refresh

    async def flaky() -> SyncReport | None:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            raise DatabaseUnavailable("connection refused")
        return await build()

    fleet.refresh = flaky  # type: ignore[method-assign]
    refresher = asyncio.create_task(fleet.run(0.05))
    try:
        await eventually(lambda: fleet.ready, within=300, what="an index after the failed refresh")
    finally:
        refresher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await refresher
    assert attempts >= 2
    assert "tool index refresh failed" in caplog.text
