"""The pgvector tool index against real PostgreSQL + pgvector and the real local model."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from mcp.types import Tool

from runtime.db import Database
from runtime.triage.embedding import MiniLMEmbedder
from runtime.triage.engine import embed_tools
from runtime.triage.index import index_documents
from runtime.triage.tool_store import ToolVectorStore
from runtime.triage.toolset import ServerTools, load_tool_dir


class CountingEmbedder:
    """The real model, counting how many texts it was asked to embed."""

    def __init__(self, inner: MiniLMEmbedder) -> None:
        self.inner = inner
        self.name = inner.name
        self.dimension = inner.dimension
        self.texts = 0

    async def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.texts += len(texts)
        return await self.inner.embed(texts)


class FailingAfter(CountingEmbedder):
    """The real model for the first ``calls`` calls, then an error (a process killed)."""

    def __init__(self, inner: MiniLMEmbedder, calls: int) -> None:
        super().__init__(inner)
        self.calls = calls

    async def embed(self, texts: Sequence[str]) -> np.ndarray:
        if self.calls == 0:
            raise RuntimeError("stopped halfway")
        self.calls -= 1
        return await super().embed(texts)


def _with_tools(server: ServerTools, tools: list[Tool]) -> ServerTools:
    return ServerTools(name=server.name, tools=tuple(tools), description=server.description)


async def test_unchanged_tools_are_not_embedded_again(
    db: Database, minilm: MiniLMEmbedder, tiny_tools: Path
) -> None:
    servers = load_tool_dir(tiny_tools)
    embedder = CountingEmbedder(minilm)
    store = ToolVectorStore(db, "minilm")
    first = await store.sync(index_documents(servers), embedder)
    assert (first.added, first.changed, first.removed, first.unchanged) == (7, 0, 0, 0)
    assert embedder.texts == 14  # two texts per tool
    again = await store.sync(index_documents(servers), embedder)
    assert (again.added, again.changed, again.removed, again.unchanged) == (0, 0, 0, 7)
    assert embedder.texts == 14
    assert await store.count() == 7


async def test_a_changed_tool_is_re_embedded_and_removed_ones_are_dropped(
    db: Database, minilm: MiniLMEmbedder, tiny_tools: Path
) -> None:
    router, dns = load_tool_dir(tiny_tools, ["router", "dnsfilter"])
    embedder = CountingEmbedder(minilm)
    store = ToolVectorStore(db, "minilm")
    await store.sync(index_documents([router, dns]), embedder)
    changed = router.tools[0].model_copy(update={"description": "Show DHCP leases, fresh text."})
    router2 = _with_tools(router, [changed, *router.tools[1:3]])  # one changed, one gone
    before = embedder.texts
    report = await store.sync(index_documents([router2]), embedder)  # dnsfilter went away
    assert (report.added, report.changed, report.removed, report.unchanged) == (0, 1, 4, 2)
    assert embedder.texts - before == 2
    assert await store.count() == 3


async def test_a_sync_stopped_halfway_keeps_its_finished_batches(
    db: Database, minilm: MiniLMEmbedder, tiny_tools: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("runtime.triage.tool_store.SYNC_BATCH", 3)
    documents = index_documents(load_tool_dir(tiny_tools))  # 7 tools: batches of 3, 3, 1
    store = ToolVectorStore(db, "minilm")
    with pytest.raises(RuntimeError, match="stopped halfway"):
        await store.sync(documents, FailingAfter(minilm, calls=2))
    assert await store.count() == 6
    embedder = CountingEmbedder(minilm)
    resumed = await store.sync(documents, embedder)
    assert (resumed.added, resumed.unchanged) == (1, 6)
    assert embedder.texts == 2  # only the tool that was never written


async def test_a_new_embedding_model_re_embeds_everything(
    db: Database, minilm: MiniLMEmbedder, tiny_tools: Path
) -> None:
    documents = index_documents(load_tool_dir(tiny_tools))
    await ToolVectorStore(db, "minilm").sync(documents, minilm)
    report = await ToolVectorStore(db, "another-model").sync(documents, minilm)
    assert report.changed == 7


async def test_nearest_tools_come_back_with_their_similarity(
    db: Database, minilm: MiniLMEmbedder, tiny_tools: Path
) -> None:
    documents = index_documents(load_tool_dir(tiny_tools))
    store = ToolVectorStore(db, "minilm")
    await store.sync(documents, minilm)
    query = minilm.embed_sync(["ping a host from the router"])[0]
    near = await store.near(query, 2)
    assert len(near) == 2
    assert max(near, key=near.__getitem__) == "router/ping_host"
    expected = (await embed_tools(documents, minilm)) @ query
    position = [d.key for d in documents].index("router/ping_host")
    assert near["router/ping_host"] == pytest.approx(float(expected[position]), abs=1e-4)
    with_extra = await store.near(query, 2, also=["dnsfilter/query_log"])
    assert "dnsfilter/query_log" in with_extra
    only_dns = await store.near(query, 5, servers=["dnsfilter"])
    assert set(only_dns) == {
        "dnsfilter/query_log",
        "dnsfilter/add_blocklist",
        "dnsfilter/check_host",
    }


async def test_stored_vectors_come_back_in_document_order(
    db: Database, minilm: MiniLMEmbedder, tiny_tools: Path
) -> None:
    documents = index_documents(load_tool_dir(tiny_tools))
    store = ToolVectorStore(db, "minilm")
    await store.sync(documents, minilm)
    np.testing.assert_allclose(
        await store.vectors(documents), await embed_tools(documents, minilm), atol=1e-5
    )
