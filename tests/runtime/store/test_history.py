"""Query history and app contexts: real pgvector k-NN by cosine distance through HNSW."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from runtime.db import Database, EmbeddingDimensionError
from runtime.store import AppContexts, QueryHistory

DIM = 384


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


async def _fill_with_noise(db: Database, rng: np.random.Generator, n: int) -> None:
    """``n`` random unit vectors, loaded with COPY (the store's add() is one row at a time)."""
    async with db.connection() as conn:
        cur = conn.cursor()
        async with cur.copy("COPY query_history (query, route, embedding) FROM STDIN") as copy:
            for i in range(n):
                text = "[" + ",".join(map(str, _unit(rng.standard_normal(DIM)))) + "]"
                await copy.write_row((f"noise {i}", "direct", text))


async def test_nearest_returns_the_planted_neighbours_in_order_through_the_hnsw_index(
    db: Database,
) -> None:
    rng = np.random.default_rng(7)
    await _fill_with_noise(db, rng, 800)
    history = QueryHistory(db)
    query = _unit(rng.standard_normal(DIM))
    planted = []
    for i, scale in enumerate([0.05, 0.1, 0.2, 0.3, 0.4]):  # increasingly far from the query
        near = _unit(query + scale * _unit(rng.standard_normal(DIM)))
        planted.append(await history.add(f"planted {i}", embedding=near, route="tool"))

    matches = await history.nearest(query, k=5)
    assert [m.record.id for m in matches] == planted
    distances = [m.distance for m in matches]
    assert distances == sorted(distances)
    assert matches[0].similarity > 0.99

    async with db.connection() as conn:
        cur = await conn.execute(
            "EXPLAIN SELECT id FROM query_history ORDER BY embedding <=> %s LIMIT 5",
            (db.vector(query),),
        )
        plan = "\n".join(row[0] for row in await cur.fetchall())
    assert "query_history_embedding" in plan


async def test_filters_still_return_k_rows_and_max_distance_drops_far_ones(db: Database) -> None:
    rng = np.random.default_rng(11)
    history = QueryHistory(db)
    query = _unit(rng.standard_normal(DIM))
    await _fill_with_noise(db, rng, 300)
    answered = [
        await history.add(
            f"answered {i}",
            embedding=_unit(query + 0.1 * (i + 1) * _unit(rng.standard_normal(DIM))),
            route="direct",
            answer=f"answer {i}",
            model="gemini-flash",
            servers=["adguard"],
            cost_usd=0.001,
        )
        for i in range(3)
    ]
    matches = await history.nearest(query, k=3, answered_only=True)
    assert [m.record.id for m in matches] == answered
    assert matches[0].record.answer == "answer 0" and matches[0].record.servers == ["adguard"]

    close = await history.nearest(query, k=3, answered_only=True, max_distance=0.01)
    assert [m.record.id for m in close] == answered[:1]

    later = await history.nearest(query, k=3, since=datetime.now(UTC) + timedelta(minutes=1))
    assert later == []


async def test_a_query_without_an_embedding_is_recorded_but_never_matched(
    db: Database,
) -> None:
    history = QueryHistory(db)
    await history.add("could not embed", embedding=None, route="escalate")
    assert [r.query for r in await history.recent()] == ["could not embed"]
    assert await history.nearest(np.ones(DIM), k=3) == []


async def test_an_embedding_of_the_wrong_dimension_is_refused_with_both_numbers(
    db: Database,
) -> None:
    with pytest.raises(EmbeddingDimensionError, match="has 3 dimensions; this database stores 384"):
        await QueryHistory(db).add("q", embedding=[0.1, 0.2, 0.3], route="direct")
    with pytest.raises(EmbeddingDimensionError, match="not an embedding"):
        await QueryHistory(db).nearest(["a", "b"], k=1)  # type: ignore[list-item]


async def test_contexts_are_replaced_by_title_and_found_by_meaning_within_an_app(
    db: Database,
) -> None:
    rng = np.random.default_rng(3)
    contexts = AppContexts(db)
    topic = _unit(rng.standard_normal(DIM))
    other = _unit(rng.standard_normal(DIM))
    await contexts.put("grafana", "dashboards", "old body", embedding=other)
    saved = await contexts.put(
        "grafana", "dashboards", "where dashboards live", embedding=topic, metadata={"v": 2}
    )
    await contexts.put("proxmox", "backups", "vzdump at 03:00", embedding=topic)
    await contexts.put("grafana", "alerts", "alertmanager routes", embedding=other)

    assert saved.body == "where dashboards live" and saved.metadata == {"v": 2}
    assert len(await contexts.list_contexts("grafana")) == 2
    in_app = await contexts.nearest(topic, k=1, app="grafana")
    assert [(m.context.app, m.context.title) for m in in_app] == [("grafana", "dashboards")]
    anywhere = await contexts.nearest(topic, k=2)
    assert {m.context.app for m in anywhere} == {"grafana", "proxmox"}
    assert all(m.distance < 1e-5 for m in anywhere)
    assert await contexts.delete("grafana", "alerts")
    assert await contexts.get("grafana", "alerts") is None


async def test_a_question_or_answer_holding_nul_is_recorded_not_lost(db: Database) -> None:
    """PostgreSQL text cannot hold NUL; a tool's answer (or a question) may carry one."""
    history = QueryHistory(db)
    row = await history.add("echo a\x00b", embedding=None, route="tool", answer="Echo: a\x00b")
    async with db.connection() as conn:
        cur = await conn.execute("SELECT query, answer FROM query_history WHERE id = %s", (row,))
        assert await cur.fetchone() == ("echo a\ufffdb", "Echo: a\ufffdb")
