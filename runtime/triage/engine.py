"""The triage decision for one question: embed, retrieve tools, choose a route, read arguments.

``Triage.decide`` is what ``POST /api/v1/triage`` and the eval command run. The embedding
classifier and keyword/vector retrieval decide by default; when a local LLM decider is
configured and answers, it chooses among the retrieved candidates instead (never the whole
tool list) and fills arguments from the tool's input schema.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from runtime.triage.arguments import fill
from runtime.triage.decision import Candidate, Decision, Route
from runtime.triage.documents import ToolDocument
from runtime.triage.embedding import Embedder
from runtime.triage.query import Query
from runtime.triage.retrieval import (
    ToolIndex,
    Weights,
    index_documents,
    tool_texts,
)
from runtime.triage.routing import RouteClassifier
from runtime.triage.server_prior import server_text
from runtime.triage.toolset import ServerTools

__all__ = ["LlmDecider", "Triage", "build_index", "embed_tools"]


class LlmDecider(Protocol):
    """A local LLM that picks the route and the tool among retrieved candidates.

    Returns None when it cannot answer (unreachable, malformed output): the deterministic
    decision stands then.
    """

    async def decide(
        self, text: str, candidates: Sequence[Candidate], schemas: Mapping[str, object]
    ) -> Decision | None: ...


async def embed_tools(documents: Sequence[ToolDocument], embedder: Embedder) -> np.ndarray:
    """One vector per tool document: the mean of its name and summary embeddings."""
    if not documents:
        return np.zeros((0, embedder.dimension), dtype=np.float32)
    texts = [t for d in documents for t in tool_texts(d)]
    matrix = await embedder.embed(texts)
    return ((matrix[0::2] + matrix[1::2]) / 2).astype(np.float32)


async def build_index(
    servers: Sequence[ServerTools],
    embedder: Embedder,
    weights: Weights | None = None,
    tool_vectors: np.ndarray | None = None,
) -> ToolIndex:
    """An in-memory index of ``servers``; embeds every tool unless ``tool_vectors`` given."""
    server_vectors = await embedder.embed([server_text(s) for s in servers])
    if tool_vectors is None:
        tool_vectors = await embed_tools(index_documents(servers), embedder)
    return ToolIndex(servers, server_vectors, tool_vectors, weights or Weights())


@dataclass
class Triage:
    """Decides routes; holds the model, the tool index and the classifier for the process."""

    embedder: Embedder
    index: ToolIndex
    classifier: RouteClassifier
    llm: LlmDecider | None = None
    candidates: int = 10

    async def decide(
        self,
        text: str,
        *,
        allowed: Collection[str] | None = None,
        vector_scores: Mapping[str, float] | None = None,
        vector: np.ndarray | None = None,
        query: Query | None = None,
        k: int | None = None,
        use_llm: bool = True,
    ) -> Decision:
        """Decide for ``text``; see :meth:`decide_vector` for the parameters.

        ``use_llm=False`` skips the local LLM (tool search needs the ranking only).
        """
        started = time.perf_counter()
        if vector is None:
            vector = (await self.embedder.embed([text]))[0]
        embedded = time.perf_counter()
        decision = self.decide_vector(
            text, vector, allowed=allowed, vector_scores=vector_scores, query=query, k=k
        )
        timings = dict(decision.timings)
        timings["embedMs"] = (embedded - started) * 1000
        if use_llm and self.llm is not None and decision.candidates:
            llm_started = time.perf_counter()
            schemas = {
                c.key: self.index.schemas[self.index.position[c.key]] for c in decision.candidates
            }
            chosen = await self.llm.decide(text, decision.candidates, schemas)
            timings["llmMs"] = (time.perf_counter() - llm_started) * 1000
            if chosen is not None:
                decision = chosen
        timings["totalMs"] = (time.perf_counter() - started) * 1000
        return decision.model_copy(update={"timings": timings})

    def decide_vector(
        self,
        text: str,
        vector: np.ndarray,
        *,
        allowed: Collection[str] | None = None,
        vector_scores: Mapping[str, float] | None = None,
        query: Query | None = None,
        k: int | None = None,
    ) -> Decision:
        """The deterministic decision for an already embedded question.

        ``allowed`` limits candidates to tools the caller may use; ``vector_scores`` are
        pgvector's similarities for the nearest tools (else the in-memory vectors are used);
        ``query``, the question already prepared by this index (else it is prepared here).
        """
        started = time.perf_counter()
        query = query or self.index.prepare(text, vector)
        candidates = self.index.rank(
            query, k or self.candidates, vector_scores=vector_scores, allowed=allowed
        )
        retrieved = time.perf_counter()
        evidence = candidates[0].score if candidates else 0.0
        route, confidence, scores = self.classifier.classify(
            text, vector, evidence, names_value=bool(query.entities)
        )
        arguments: dict[str, object] = {}
        missing: list[str] = []
        if candidates:
            schema = self.index.schemas[self.index.position[candidates[0].key]]
            arguments, missing = fill(query.entities, schema)
        if route is Route.TOOL and len(candidates) > 1:
            # How clearly the first tool beats the second says how sure the tool choice is.
            margin = candidates[0].score - candidates[1].score
            confidence *= float(min(1.0, 0.5 + margin * 10))
        done = time.perf_counter()
        return Decision(
            route=route,
            confidence=round(confidence, 4),
            candidates=candidates,
            arguments=arguments,
            missing_arguments=missing,
            route_scores={r.value: round(s, 4) for r, s in scores.items()},
            decided_by="classifier",
            timings={
                "retrieveMs": (retrieved - started) * 1000,
                "classifyMs": (done - retrieved) * 1000,
            },
        )
