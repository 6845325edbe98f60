"""The triage service object: the model, the fleet index and the executor of one process.

``open_triage`` loads the model once, builds the index from the registry and keeps it
fresh; ``TriageService`` answers ``decide``, ``embed``, ``query`` and ``find_tools``.
Collaborators (the gateway's ``ToolCaller``, the router's ``Completer``) are passed in,
so this package imports neither. The REST routes are in :mod:`runtime.triage.api`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import numpy as np
import ollama

from catalog import Catalog, parse_duration
from runtime.contracts import Completer, ToolCaller
from runtime.db import Database
from runtime.store import AppContexts, Principal, QueryHistory
from runtime.triage.decision import Decision, Route
from runtime.triage.embedding import Embedder, EmbeddingError, MiniLMEmbedder
from runtime.triage.execution import Answer, CachePolicy, QueryExecutor
from runtime.triage.fleet import FleetIndex
from runtime.triage.follow_up import RecentSearches
from runtime.triage.local_llm import OllamaLlm
from runtime.triage.policy import ExecutionPolicy
from runtime.triage.remote_embedding import OllamaEmbedder, embedder_for
from runtime.triage.schemas import FoundTool, QueryRequest, QueryResponse, SourceOut

__all__ = ["TriageError", "TriageService", "open_triage"]

log = logging.getLogger(__name__)


class TriageError(Exception):
    """A request triage cannot serve; ``status`` and ``reason`` go to the client as JSON."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass
class TriageService:
    """Everything triage holds for one process."""

    db: Database
    embedder: Embedder
    fleet: FleetIndex
    executor: QueryExecutor
    llm: OllamaLlm | None = None
    tool_caller: ToolCaller | None = None
    completer: Completer | None = None
    searches: RecentSearches = field(default_factory=RecentSearches)
    _learning: set[asyncio.Task[None]] = field(default_factory=set, repr=False)

    async def embed(self, text: str) -> np.ndarray:
        """Raises: TriageError 503 when the embedding model fails."""
        try:
            return (await self.embedder.embed([text]))[0]
        except EmbeddingError as exc:
            raise TriageError(503, f"embedding model unavailable: {exc}") from exc

    def require_index(self) -> None:
        """Raises: TriageError 503 while the first tool index is still being built."""
        if not self.fleet.ready:
            raise TriageError(
                503, "the tool index is still being built (first start); try again shortly"
            )

    async def decide(self, text: str, access: Principal | None = None) -> Decision:
        self.require_index()
        started = time.perf_counter()
        vector = await self.embed(text)
        embedded = time.perf_counter()
        decision = await self.fleet.decide(text, vector, access=access)
        timings = {**decision.timings, "embedMs": (embedded - started) * 1000}
        timings["totalMs"] = (time.perf_counter() - started) * 1000
        return decision.model_copy(update={"timings": timings})

    async def find_tools(
        self,
        query: str,
        k: int = 10,
        access: Principal | None = None,
        *,
        client: str | None = None,
    ) -> list[FoundTool]:
        """The ``k`` tools best fitting ``query`` among those ``access`` may call (None: all).

        With ``client``, the search is kept for a while: if that client then calls one of
        the tools offered, the pair is remembered (see :meth:`tool_called`).
        """
        self.require_index()
        vector = await self.embed(query)
        triage = self.fleet.triage
        if triage is None:
            return []
        index = triage.index
        decision = await self.fleet.decide(query, vector, access=access, k=k, use_llm=False)
        found = []
        for candidate in decision.candidates[:k]:
            position = index.position[candidate.key]
            tool = index.servers[int(index.doc_server[position])].tool(candidate.tool)
            found.append(
                FoundTool(
                    name=f"{candidate.server}__{candidate.tool}",
                    server=candidate.server,
                    tool=candidate.tool,
                    description=tool.description or "",
                    input_schema=tool.input_schema,
                    score=candidate.score,
                )
            )
        if client is not None and found:
            self.searches.searched(client, query, vector, [f"{f.server}/{f.tool}" for f in found])
        return found

    def tool_called(self, server: str, tool: str, *, client: str) -> None:
        """The gateway's :class:`~runtime.contracts.CallObserver` hook: a successful call that
        follows ``client``'s ``find_tools`` search teaches memory the search's words."""
        search = self.searches.follow_up(client, server, tool)
        if search is None:
            return
        remember = self.fleet.memory.remember(
            search.query, search.vector, server, tool, client=client, source="find_tools"
        )
        task = asyncio.create_task(remember, name="triage-remember-find-tools")
        self._learning.add(task)
        task.add_done_callback(self._learned)

    def _learned(self, task: asyncio.Task[None]) -> None:
        self._learning.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("could not remember a find_tools follow-up: %s", task.exception())

    async def settle(self) -> None:
        """Wait for pending memory writes (shutdown, tests)."""
        if self._learning:
            await asyncio.gather(*self._learning, return_exceptions=True)

    async def query(
        self,
        request: QueryRequest,
        *,
        client: str,
        access: Principal | None,
        tool_caller: ToolCaller | None,
        completer: Completer | None,
    ) -> QueryResponse:
        self.require_index()
        started = time.perf_counter()
        try:
            vector: np.ndarray | None = (await self.embedder.embed([request.text]))[0]
        except EmbeddingError:
            vector = None
        if vector is not None:
            decision = await self.fleet.decide(request.text, vector, access=access)
        else:  # still answer (and record) what can be answered without a vector
            decision = Decision(route=Route.DIRECT, confidence=0.0, decided_by="no-embedding")
        answer = await self.executor.run(
            request.text,
            vector,
            decision,
            client=client,
            tool_caller=tool_caller or self.tool_caller,
            completer=completer or self.completer,
            confirm=request.confirm,
            arguments=request.arguments,
            tool=request.tool,
            access=access,
            started=started,
        )
        return _response(answer)


def _response(answer: Answer) -> QueryResponse:
    return QueryResponse(
        id=answer.history_id,
        route=answer.decision.route.value,
        answer=answer.answer,
        result=answer.result,
        sources=[
            SourceOut(kind=s.kind, id=s.id, title=s.title, text=s.text, similarity=s.similarity)
            for s in answer.sources
        ],
        model=answer.model,
        servers=answer.servers,
        needs=answer.needs,
        cached=answer.cached_from is not None,
        cached_from=answer.cached_from,
        input_tokens=answer.input_tokens,
        output_tokens=answer.output_tokens,
        cost_usd=answer.cost_usd,
        latency_ms=answer.latency_ms,
        decision=answer.decision,
    )


@contextlib.asynccontextmanager
async def open_triage(
    catalog: Catalog,
    db: Database,
    *,
    embedder: Embedder | None = None,
    tool_caller: ToolCaller | None = None,
    completer: Completer | None = None,
    refresh_interval: float = 15.0,
    startup_wait: float = 10.0,
    http: httpx.AsyncClient | None = None,
) -> AsyncIterator[TriageService]:
    """Load the model once, build the index from the registry, keep it fresh until exit.

    Waits up to ``startup_wait`` seconds for the first index, then serves regardless.

    Raises:
        EmbeddingError: the catalog's embedding model cannot be used.
    """
    async with contextlib.AsyncExitStack() as stack:
        if embedder is None:
            embedder = embedder_for(catalog, http)
            if isinstance(embedder, OllamaEmbedder):
                stack.push_async_callback(embedder.aclose)
        if isinstance(embedder, MiniLMEmbedder):
            await asyncio.to_thread(embedder.load)
        llm = await _local_llm(catalog)
        if llm is not None:
            stack.push_async_callback(llm.aclose)
        fleet = FleetIndex(
            db,
            embedder,
            llm=llm,
            policy=ExecutionPolicy(catalog.platform.triage.execute_threshold),
            read_only_tools={s.name: s.read_only_tools for s in catalog.servers},
        )
        # The first index of a large fleet takes a while to embed and train (≈1 min for
        # 700 tools on one core): serve meanwhile — triage answers 503 until it is there —
        # rather than hold up the process past its liveness probe.
        refresher = asyncio.create_task(fleet.run(refresh_interval), name="triage-index-refresh")
        stack.push_async_callback(_cancel, refresher)
        try:
            async with asyncio.timeout(startup_wait):
                await fleet.wait_ready()
        except TimeoutError:
            log.info("tool index still building after %.0f s; serving meanwhile", startup_wait)
        semantic = catalog.platform.triage.semantic_cache
        executor = QueryExecutor(
            fleet,
            QueryHistory(db),
            AppContexts(db),
            CachePolicy(semantic.enabled, semantic.threshold, parse_duration(semantic.ttl)),
            llm=llm,
        )
        yield TriageService(db, embedder, fleet, executor, llm, tool_caller, completer)


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _local_llm(catalog: Catalog) -> OllamaLlm | None:
    """The catalog's Ollama chat model if a provider is configured and answers now."""
    provider = next((p for p in catalog.models.providers if p.type == "ollama"), None)
    if provider is None:
        return None
    host = os.environ.get("MCPFLEET_OLLAMA_URL") or provider.base_url
    llm = OllamaLlm(
        ollama.AsyncClient(host=host, timeout=60.0), catalog.platform.triage.ollama_model
    )
    try:
        reachable = await asyncio.wait_for(llm.probe(), timeout=5.0)
    except TimeoutError:
        llm.mark_down()
        reachable = False
    log.info("local LLM %s at %s: %s", llm.model, host, "ready" if reachable else "unreachable")
    return llm
