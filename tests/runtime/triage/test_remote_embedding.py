"""Embeddings from servers, and choosing the embedder from the catalog. The Ollama side
talks to a small HTTP server speaking Ollama's API; the OpenAI-compatible side to one
speaking ``POST /v1/embeddings`` (vLLM, llama.cpp and LocalAI speak it)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import numpy as np
import ollama
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from catalog import Catalog, load_catalog
from runtime.triage.embedding import EmbeddingError, MiniLMEmbedder
from runtime.triage.remote_embedding import (
    OllamaEmbedder,
    OpenAICompatibleEmbedder,
    embedder_for,
)
from tests.runtime.triage.fake_ollama import FakeOllama, serve_fake_ollama

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
async def fake_ollama() -> AsyncIterator[FakeOllama]:
    async with serve_fake_ollama(FakeOllama()) as fake:
        yield fake


async def test_ollama_embeddings_come_back_normalised_in_one_batch(fake_ollama: FakeOllama) -> None:
    client = ollama.AsyncClient(host=fake_ollama.url)
    embedder = OllamaEmbedder(client, "nomic-embed-text", 768)
    try:
        vectors = await embedder.embed(["a", "b", "c"])
    finally:
        await embedder.aclose()
    assert vectors.shape == (3, 768)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert [p for p, _ in fake_ollama.requests] == ["/api/embed"]
    assert fake_ollama.requests[0][1]["input"] == ["a", "b", "c"]


async def test_ollama_vectors_of_another_size_than_the_catalog_says_are_refused(
    fake_ollama: FakeOllama,
) -> None:
    embedder = OllamaEmbedder(ollama.AsyncClient(host=fake_ollama.url), "nomic-embed-text", 384)
    try:
        with pytest.raises(EmbeddingError, match="384 dimensions"):
            await embedder.embed(["a"])
    finally:
        await embedder.aclose()


async def test_an_unreachable_ollama_is_an_embedding_error() -> None:
    embedder = OllamaEmbedder(ollama.AsyncClient(host="http://127.0.0.1:9"), "nomic", 768)
    try:
        with pytest.raises(EmbeddingError, match="cannot reach ollama"):
            await embedder.embed(["a"])
    finally:
        await embedder.aclose()


def _openai_app(seen: list[dict[str, object]]) -> FastAPI:
    app = FastAPI()

    @app.post("/v1/embeddings")
    async def embeddings(request: Request) -> JSONResponse:
        body = await request.json()
        seen.append({"body": body, "auth": request.headers.get("authorization")})
        if body["model"] == "missing":
            return JSONResponse({"error": {"message": "model not found"}}, 404)
        data = [
            {"object": "embedding", "index": i, "embedding": [float(i + 1)] * 4}
            for i, _ in enumerate(body["input"])
        ]
        return JSONResponse({"object": "list", "data": list(reversed(data))})

    return app


async def test_openai_compatible_embeddings_keep_input_order_and_send_the_key() -> None:
    seen: list[dict[str, object]] = []
    transport = httpx.ASGITransport(app=_openai_app(seen))
    async with httpx.AsyncClient(transport=transport) as http:
        embedder = OpenAICompatibleEmbedder(http, "http://emb.local", "bge", 4, api_key="k")
        vectors = await embedder.embed(["x", "y"])
        np.testing.assert_allclose(vectors, np.full((2, 4), 0.5, dtype=np.float32))
        assert seen[0]["auth"] == "Bearer k"
        missing = OpenAICompatibleEmbedder(http, "http://emb.local/v1", "missing", 4)
        with pytest.raises(EmbeddingError, match="HTTP 404: model not found"):
            await missing.embed(["x"])


def _with_embedding(catalog: Catalog, model: str, providers: list[dict[str, object]]) -> Catalog:
    models = catalog.models.model_copy(
        update={
            "providers": [type(catalog.models.providers[0]).model_validate(p) for p in providers]
            + list(catalog.models.providers),
        }
    )
    triage = catalog.platform.triage.model_copy(update={"embedding_model": model})
    platform = catalog.platform.model_copy(update={"triage": triage})
    return catalog.model_copy(update={"models": models, "platform": platform})


def test_the_catalog_picks_the_embedder() -> None:
    catalog = load_catalog(REPO / "catalog")
    assert isinstance(embedder_for(catalog), MiniLMEmbedder)
    nomic = embedder_for(_with_embedding(catalog, "nomic-embed", []))
    assert isinstance(nomic, OllamaEmbedder)
    assert (nomic.model, nomic.dimension) == ("nomic-embed-text", 768)
    with pytest.raises(EmbeddingError, match="not an embedding model"):
        embedder_for(_with_embedding(catalog, "claude-sonnet", []))
    with pytest.raises(EmbeddingError, match=r"not in models\.yaml"):
        embedder_for(_with_embedding(catalog, "nope", []))
