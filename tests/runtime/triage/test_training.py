"""Training at index build: reproducible, stored by fingerprint, never repeated for an
unchanged fleet. Real PostgreSQL + pgvector and the real local model, the tiny fleet."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from mcp.types import Tool

from runtime.db import Database
from runtime.store import ServerRegistry
from runtime.triage.embedding import MiniLMEmbedder
from runtime.triage.engine import build_index
from runtime.triage.fleet import FleetIndex
from runtime.triage.index import index_documents
from runtime.triage.synthesis import synthesize
from runtime.triage.toolset import load_tool_dir
from runtime.triage.training import fingerprint, train
from tests.runtime.triage.conftest import register_tiny_fleet


class CountingEmbedder:
    """The real model, counting the texts it embeds."""

    def __init__(self, inner: MiniLMEmbedder) -> None:
        self.inner = inner
        self.name = inner.name
        self.dimension = inner.dimension
        self.texts = 0

    async def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.texts += len(texts)
        return await self.inner.embed(texts)


def test_training_questions_are_reproducible_and_cover_every_tool(tiny_tools: Path) -> None:
    servers = load_tool_dir(tiny_tools)
    documents = index_documents(servers)
    schemas = [t.input_schema for s in servers for t in s.tools]
    names = {s.name: [s.name] for s in servers}
    first = synthesize(documents, schemas, names, per_tool=3)
    assert first == synthesize(documents, schemas, names, per_tool=3)
    assert {q.key for q in first} == {d.key for d in documents}
    assert first != synthesize(documents, schemas, names, per_tool=3, seed=1)


async def test_the_fingerprint_follows_what_training_reads(
    tiny_tools: Path, minilm: MiniLMEmbedder
) -> None:
    servers = load_tool_dir(tiny_tools)
    index = await build_index(servers, minilm)
    same = await build_index(load_tool_dir(tiny_tools), minilm)
    assert fingerprint(index, minilm.name) == fingerprint(same, minilm.name)
    changed_tool = servers[0].tools[0].model_copy(update={"description": "something else"})
    changed = [
        servers[0].__class__(name=servers[0].name, tools=(changed_tool, *servers[0].tools[1:])),
        *servers[1:],
    ]
    assert fingerprint(await build_index(changed, minilm), minilm.name) != fingerprint(
        index, minilm.name
    )
    assert fingerprint(index, "another-model") != fingerprint(index, minilm.name)


async def test_a_restart_with_the_same_fleet_loads_the_stored_model_instead_of_training(
    db: Database, minilm: MiniLMEmbedder, tiny_tools: Path
) -> None:
    await register_tiny_fleet(db, tiny_tools)
    first = CountingEmbedder(minilm)
    await FleetIndex(db, first).refresh()
    trained = first.texts
    again = CountingEmbedder(minilm)
    fleet = FleetIndex(db, again)
    await fleet.refresh()
    assert fleet.triage is not None
    # Only the servers' texts are embedded again: no tool text, no training question.
    assert again.texts == 2 < trained
    async with db.connection() as conn:
        cur = await conn.execute("SELECT count(*) FROM triage_models")
        assert (await cur.fetchone()) == (1,)


async def test_a_changed_tool_list_trains_a_new_model(
    db: Database, minilm: MiniLMEmbedder, tiny_tools: Path
) -> None:
    await register_tiny_fleet(db, tiny_tools)
    fleet = FleetIndex(db, minilm)
    await fleet.refresh()
    assert fleet.triage is not None
    before = fleet.triage.model.fingerprint
    registry = ServerRegistry(db)
    router = await registry.get("router")
    assert router is not None
    extra = Tool(
        name="wake_on_lan", description="Wake a host by MAC.", input_schema={"type": "object"}
    )
    await registry.set_tools("router", [*router.tools, extra])
    await fleet.refresh()
    assert fleet.triage.model.fingerprint != before
    assert "router/wake_on_lan" in fleet.triage.index.position


@pytest.mark.parametrize("seed", [1, 2])
async def test_a_tiny_fleet_still_gets_a_calibrated_model(
    tiny_tools: Path, minilm: MiniLMEmbedder, seed: int
) -> None:
    index = await build_index(load_tool_dir(tiny_tools), minilm)
    model = await train(index, minilm, seed=seed)
    probability = float(model.calibrator.probability(np.array([0.9, 3.0, 0.8, 0.7]))[0])
    assert 0.0 < probability < 1.0
