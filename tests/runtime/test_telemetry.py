"""The series several services observe: triage's own Ollama calls (LLMHighLatency sees
them) and every vector search the data layer runs (the dashboard's database panel).

Ollama is ``tests/runtime/triage/fake_ollama.py``, a small server speaking its API (no
Ollama can run here), reached by the official client; PostgreSQL + pgvector are real.
"""

from __future__ import annotations

import ollama
from prometheus_client import CollectorRegistry

from runtime.db import Database
from runtime.store.history import QueryHistory
from runtime.telemetry import register_process_series
from runtime.triage.local_llm import OllamaLlm
from tests.runtime.triage.fake_ollama import FakeOllama, serve_fake_ollama


def _sample(name: str, **labels: str) -> float:
    registry = CollectorRegistry()
    register_process_series(registry)
    return registry.get_sample_value(name, labels) or 0.0


async def test_triages_ollama_calls_are_timed_whether_they_answer_or_fail() -> None:
    labels = {"caller": "triage", "model": "llama3.1:8b"}
    before = _sample("ollama_request_duration_seconds_count", **labels)
    async with serve_fake_ollama(FakeOllama()) as fake:
        llm = OllamaLlm(ollama.AsyncClient(host=fake.url), "llama3.1:8b")
        answer = await llm.answer("what is a pod?")
        await llm.aclose()
    assert answer is not None and answer.text == "A local answer."
    assert _sample("ollama_request_duration_seconds_count", **labels) == before + 1

    down = OllamaLlm(ollama.AsyncClient(host="http://127.0.0.1:9"), "llama3.1:8b")
    assert await down.answer("anyone there?") is None  # refused: the deterministic path
    await down.aclose()
    assert _sample("ollama_request_duration_seconds_count", **labels) == before + 2
    assert _sample("ollama_request_duration_seconds_bucket", le="30.0", **labels) >= 2


async def test_vector_searches_are_timed_by_table_where_the_data_layer_runs_them(
    db: Database, embedding_dim: int
) -> None:
    before = _sample("pgvector_query_duration_seconds_count", table="query_history")
    history = QueryHistory(db)
    vector = [1.0] + [0.0] * (embedding_dim - 1)
    await history.nearest(vector, k=3)
    after = _sample("pgvector_query_duration_seconds_count", table="query_history")
    assert after == before + 1
    async with db.connection() as conn:
        await conn.execute("SELECT count(*) FROM query_history")  # not a vector search
    assert _sample("pgvector_query_duration_seconds_count", table="query_history") == after
