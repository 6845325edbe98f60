"""The triage decision for one question, as a pipeline a newcomer can follow:

    candidates → features → scorer → calibrated decision → action

1. ``candidates``: the tools worth scoring (embedding neighbours, keyword hits, every
   query-language tool, tools of remembered questions).
2. ``features``: what is measured about each (question, tool) pair.
3. ``scorer``: the learned weights rank them (``ranking``).
4. ``calibration`` + ``routing``: the probability that the first tool is right, and the
   probability of each route; together the decision's confidence.
5. ``policy``: whether the first tool may run by itself (read-only, confident, nothing
   missing) — the action itself is ``execution``'s.

When a local LLM is configured and answers, it chooses among the ranked candidates (never
the whole fleet); its choice is kept, but the confidence stays the calibrated one.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from runtime.triage.actions import Action
from runtime.triage.arguments import fill
from runtime.triage.candidates import from_similarities, in_memory
from runtime.triage.decision import Candidate, Decision, Route
from runtime.triage.documents import ToolDocument
from runtime.triage.embedding import Embedder
from runtime.triage.index import ToolIndex, index_documents, tool_texts
from runtime.triage.policy import ExecutionPolicy
from runtime.triage.query import Query
from runtime.triage.ranking import Ranking, rank
from runtime.triage.routing import ROUTES
from runtime.triage.server_prior import server_text
from runtime.triage.toolset import ServerTools
from runtime.triage.training import TriageModel, route_row

__all__ = ["LlmDecider", "Triage", "build_index", "embed_tools"]


class LlmDecider(Protocol):
    """A local LLM that picks the route and the tool among ranked candidates.

    Returns None when it cannot answer (unreachable, malformed output): the model's
    decision stands then.
    """

    async def decide(
        self, text: str, candidates: Sequence[Candidate], schemas: Mapping[str, object]
    ) -> Decision | None: ...


async def embed_tools(documents: Sequence[ToolDocument], embedder: Embedder) -> np.ndarray:
    """One vector per tool document: the mean of its two texts' embeddings."""
    if not documents:
        return np.zeros((0, embedder.dimension), dtype=np.float32)
    texts = [t for d in documents for t in tool_texts(d)]
    matrix = await embedder.embed(texts)
    return ((matrix[0::2] + matrix[1::2]) / 2).astype(np.float32)


async def build_index(
    servers: Sequence[ServerTools], embedder: Embedder, tool_vectors: np.ndarray | None = None
) -> ToolIndex:
    """An in-memory index of ``servers``; embeds every tool unless ``tool_vectors`` given."""
    server_vectors = await embedder.embed([server_text(s) for s in servers])
    if tool_vectors is None:
        tool_vectors = await embed_tools(index_documents(servers), embedder)
    return ToolIndex(servers, server_vectors, tool_vectors)


@dataclass
class Triage:
    """Decides routes; holds the model, the tool index and the trained model for the process."""

    embedder: Embedder
    index: ToolIndex
    model: TriageModel
    llm: LlmDecider | None = None
    policy: ExecutionPolicy = field(default_factory=ExecutionPolicy)
    candidates: int = 10

    async def decide(
        self,
        text: str,
        *,
        allowed: Collection[str] | None = None,
        vector_scores: Mapping[str, float] | None = None,
        vector: np.ndarray | None = None,
        query: Query | None = None,
        memory: Mapping[str, float] | None = None,
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
            text,
            vector,
            allowed=allowed,
            vector_scores=vector_scores,
            query=query,
            memory=memory,
            k=k,
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
                decision = self.policy.apply(_with_llm(decision, chosen))
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
        memory: Mapping[str, float] | None = None,
        k: int | None = None,
    ) -> Decision:
        """The model's decision for an already embedded question.

        ``allowed`` limits candidates to tools the caller may use; ``vector_scores`` are
        pgvector's similarities for the tools it found nearest (else the in-memory vectors
        are used); ``memory`` maps tools of remembered questions to their similarity.
        """
        started = time.perf_counter()
        index = self.index
        query = query or index.prepare(text, vector)
        remembered = {key: s for key, s in (memory or {}).items() if key in index.position}
        if vector_scores is None:
            found = in_memory(index, query, extra=remembered, allowed=allowed)
        else:
            found = from_similarities(index, vector_scores, allowed)
        ranking = rank(index, self.model.scorer, query, found, remembered)
        ranked = time.perf_counter()
        tool_confidence = (
            float(self.model.calibrator.probability(ranking.evidence())[0]) if len(ranking) else 0.0
        )
        near = self.model.routes.near(vector)
        row = route_row(near, text, query, index, ranking, tool_confidence)
        probabilities = self.model.routes.probabilities(row)
        if not len(ranking):
            probabilities = _without_tool(probabilities)
        route = max(ROUTES, key=lambda r: probabilities[r])
        confidence = probabilities[route] * (tool_confidence if route is Route.TOOL else 1.0)
        candidates = self._candidates(ranking, k or self.candidates)
        arguments: dict[str, object] = {}
        missing: list[str] = []
        if candidates:
            arguments, missing = fill(query.entities, index.schemas[int(ranking.positions[0])])
        decision = Decision(
            route=route,
            confidence=round(float(confidence), 4),
            candidates=candidates,
            tool_confidence=round(tool_confidence, 4),
            route_probabilities={r.value: round(p, 4) for r, p in probabilities.items()},
            arguments=arguments,
            missing_arguments=missing,
            asks_change=Action.READ not in query.actions,
            decided_by="model",
            timings={
                "rankMs": (ranked - started) * 1000,
                "decideMs": (time.perf_counter() - ranked) * 1000,
            },
        )
        return self.policy.apply(decision)

    def _candidates(self, ranking: Ranking, k: int) -> list[Candidate]:
        out = []
        for j in range(min(k, len(ranking))):
            position = int(ranking.positions[j])
            document = self.index.documents[position]
            required = self.index.schemas[position].get("required")
            out.append(
                Candidate(
                    server=document.server,
                    tool=document.tool,
                    score=round(float(ranking.probabilities[j]), 4),
                    description=document.summary,
                    read_only=bool(self.index.read_only[position]),
                    required=[str(r) for r in required] if isinstance(required, list) else [],
                )
            )
        return out


def _without_tool(probabilities: dict[Route, float]) -> dict[Route, float]:
    """No tool the caller may use: the tool route is out; the others share its mass."""
    rest = {r: p for r, p in probabilities.items() if r is not Route.TOOL}
    total = sum(rest.values()) or 1.0
    return {**{r: p / total for r, p in rest.items()}, Route.TOOL: 0.0}


def _with_llm(decision: Decision, chosen: Decision) -> Decision:
    """The LLM's route, tool order and arguments; the confidence stays calibrated.

    Agreement with the model keeps its confidence; a different choice gets the model's own
    probability for that choice, so an LLM's guess is shown, never run on its say alone.
    """
    top = chosen.top
    same_tool = chosen.route is not Route.TOOL or (
        top is not None and decision.top is not None and top.key == decision.top.key
    )
    if chosen.route is decision.route and same_tool:
        confidence = decision.confidence
    else:
        confidence = decision.route_probabilities.get(chosen.route.value, 0.0)
        if chosen.route is Route.TOOL and top is not None:
            confidence *= decision.tool_confidence if same_tool else top.score
    return chosen.model_copy(
        update={
            "confidence": round(confidence, 4),
            "tool_confidence": decision.tool_confidence,
            "route_probabilities": decision.route_probabilities,
            "timings": decision.timings,
        }
    )
