"""Embeddings from a server: Ollama (``/api/embed``) or an OpenAI-compatible ``/v1/embeddings``,
and the choice among them and the local model from the catalog.

``platform.triage.embeddingModel`` names a models.yaml entry with ``purpose: embedding``;
its provider's type picks the implementation. Vectors are L2-normalised here whatever the
server returns, so cosine and inner product agree across providers.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np
import ollama

from catalog import Catalog
from runtime.triage.embedding import Embedder, EmbeddingError, MiniLMEmbedder, normalise

__all__ = ["OllamaEmbedder", "OpenAICompatibleEmbedder", "embedder_for"]


def _matrix(
    rows: Sequence[Sequence[float]], expected: int, dimension: int, source: str
) -> np.ndarray:
    if len(rows) != expected:
        raise EmbeddingError(f"{source} returned {len(rows)} embeddings for {expected} texts")
    matrix = np.asarray(rows, dtype=np.float32)
    if matrix.ndim != 2 or matrix.shape[1] != dimension:
        raise EmbeddingError(
            f"{source} returned vectors of shape {matrix.shape}; the catalog says {dimension} "
            "dimensions"
        )
    return normalise(matrix)


@dataclass
class OllamaEmbedder:
    """An Ollama embedding model (e.g. ``nomic-embed-text``) through the official client."""

    client: ollama.AsyncClient
    model: str
    dimension: int

    @property
    def name(self) -> str:
        return self.model

    async def aclose(self) -> None:
        await self.client.close()

    async def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Raises: EmbeddingError: Ollama is unreachable, refuses, or returns bad vectors."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        try:
            response = await self.client.embed(model=self.model, input=list(texts))
        except ollama.ResponseError as exc:
            raise EmbeddingError(f"ollama refused to embed with {self.model}: {exc.error}") from exc
        except (httpx.HTTPError, ConnectionError) as exc:  # the client raises both
            raise EmbeddingError(f"cannot reach ollama ({type(exc).__name__})") from exc
        return _matrix(response.embeddings, len(texts), self.dimension, "ollama")


@dataclass
class OpenAICompatibleEmbedder:
    """Any server speaking OpenAI's ``POST /v1/embeddings`` (vLLM, llama.cpp, LocalAI, ...)."""

    http: httpx.AsyncClient
    base_url: str
    model: str
    dimension: int
    api_key: str | None = None

    @property
    def name(self) -> str:
        return self.model

    async def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Raises: EmbeddingError: unreachable, an error status, or a malformed answer."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        url = self.base_url.rstrip("/")
        url = url if url.endswith("/v1") else f"{url}/v1"
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        try:
            response = await self.http.post(
                f"{url}/embeddings",
                json={"model": self.model, "input": list(texts)},
                headers=headers,
            )
        except httpx.HTTPError as exc:
            raise EmbeddingError(
                f"cannot reach the embedding server ({type(exc).__name__})"
            ) from exc
        if response.status_code != 200:
            raise EmbeddingError(
                f"the embedding server answered HTTP {response.status_code}: {_reason(response)}"
            )
        try:
            data = sorted(response.json()["data"], key=lambda item: item["index"])
            rows = [item["embedding"] for item in data]
        except (ValueError, KeyError, TypeError) as exc:
            raise EmbeddingError("the embedding server's answer is not OpenAI's shape") from exc
        return _matrix(rows, len(texts), self.dimension, "the embedding server")


def _reason(response: httpx.Response) -> str:
    try:
        body: Any = response.json()
        error = body.get("error") if isinstance(body, dict) else None
        message = error.get("message") if isinstance(error, dict) else error
        return str(message or body)[:200]
    except ValueError:
        return response.text[:200]


def embedder_for(catalog: Catalog, http: httpx.AsyncClient | None = None) -> Embedder:
    """The embedder ``platform.triage.embeddingModel`` names.

    Raises:
        EmbeddingError: the model or its provider is unknown, not an embedding model, or
            needs an HTTP client that was not given.
    """
    name = catalog.platform.triage.embedding_model
    try:
        model = catalog.model(name)
    except KeyError as exc:
        raise EmbeddingError(f"embedding model {name!r} is not in models.yaml") from exc
    if model.purpose != "embedding" or model.dimension is None:
        raise EmbeddingError(f"model {name!r} is not an embedding model (purpose: embedding)")
    provider = next((p for p in catalog.models.providers if p.name == model.provider), None)
    if provider is None:
        raise EmbeddingError(f"model {name!r} names an unknown provider {model.provider!r}")
    if provider.type == "local":
        if model.model_id != "all-MiniLM-L6-v2" or model.dimension != 384:
            raise EmbeddingError(
                f"the local provider runs all-MiniLM-L6-v2 (384 dimensions), not {model.model_id}"
            )
        return MiniLMEmbedder()
    if provider.type == "ollama":
        host = os.environ.get("MCPFLEET_OLLAMA_URL") or provider.base_url
        return OllamaEmbedder(ollama.AsyncClient(host=host), model.model_id, model.dimension)
    if provider.type == "openai-compatible":
        if http is None or not provider.base_url:
            raise EmbeddingError(f"provider {provider.name!r} needs a baseUrl and an HTTP client")
        key = os.environ.get(provider.api_key_env) if provider.api_key_env else None
        return OpenAICompatibleEmbedder(
            http, provider.base_url, model.model_id, model.dimension, key
        )
    raise EmbeddingError(f"provider type {provider.type!r} does not serve embeddings here")
