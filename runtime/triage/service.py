"""The triage service: ``POST /api/v1/triage``, ``/embed``, ``/query`` and ``find_tools``.

``create_triage()`` gives the router to mount (in the gateway's process or alone) and
``triage_lifespan(...)`` the resources it needs on ``app.state.triage``. Collaborators
come from the host app's state when present — ``calls`` (the gateway's audited
``ToolCaller``) and ``model_router`` (the router's ``Completer``) — or are passed in,
so this package imports neither the gateway nor the router. ``create_app`` is the
standalone service (``mcpfleet serve triage``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import AsyncIterator, Callable, Collection
from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np
import ollama
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from catalog import Catalog, parse_duration
from runtime.contracts import Completer, ToolCaller
from runtime.db import Database, open_database
from runtime.settings import Settings
from runtime.store import AppContexts, Principal, QueryHistory, TokenError, TokenStore
from runtime.triage.decision import Decision
from runtime.triage.embedding import Embedder, EmbeddingError, MiniLMEmbedder
from runtime.triage.execution import Answer, CachePolicy, QueryExecutor
from runtime.triage.fleet import FleetIndex
from runtime.triage.local_llm import OllamaLlm
from runtime.triage.remote_embedding import OllamaEmbedder, embedder_for
from runtime.triage.routing import RouteClassifier

__all__ = [
    "FoundTool",
    "TriageError",
    "TriageService",
    "create_app",
    "create_triage",
    "open_triage",
    "triage_lifespan",
]

log = logging.getLogger(__name__)


class TriageError(Exception):
    """A request triage cannot serve; ``status`` and ``reason`` go to the client as JSON."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class _Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class TextRequest(_Model):
    text: str = Field(min_length=1, max_length=8000)


class QueryRequest(TextRequest):
    confirm: bool = Field(default=False, description="Allow a state-changing tool call.")
    arguments: dict[str, Any] = Field(
        default_factory=dict, description="Tool arguments to use on top of those read."
    )


class EmbedResponse(_Model):
    model: str
    dimension: int
    vector: list[float]


class SourceOut(_Model):
    kind: str
    id: int
    title: str
    text: str
    similarity: float


class QueryResponse(_Model):
    id: int | None
    route: str
    answer: str
    result: Any = None
    sources: list[SourceOut] = []
    model: str | None = None
    servers: list[str] = []
    needs: dict[str, Any] = {}
    cached: bool = False
    cached_from: int | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    latency_ms: float
    decision: Decision


class FoundTool(_Model):
    """One ``find_tools`` hit: the name to call on the gateway's /mcp and its schema."""

    name: str
    server: str
    tool: str
    description: str
    input_schema: dict[str, Any]
    score: float


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

    async def embed(self, text: str) -> np.ndarray:
        """Raises: TriageError 503 when the embedding model fails."""
        try:
            return (await self.embedder.embed([text]))[0]
        except EmbeddingError as exc:
            raise TriageError(503, f"embedding model unavailable: {exc}") from exc

    async def decide(self, text: str, servers: Collection[str] | None = None) -> Decision:
        started = time.perf_counter()
        vector = await self.embed(text)
        embedded = time.perf_counter()
        decision = await self.fleet.decide(text, vector, servers=servers)
        timings = {**decision.timings, "embedMs": (embedded - started) * 1000}
        timings["totalMs"] = (time.perf_counter() - started) * 1000
        return decision.model_copy(update={"timings": timings})

    async def find_tools(
        self, query: str, k: int = 10, servers: Collection[str] | None = None
    ) -> list[FoundTool]:
        """The ``k`` tools best fitting ``query`` among ``servers`` (None: all)."""
        vector = await self.embed(query)
        index = self.fleet.triage.index
        decision = await self.fleet.decide(query, vector, servers=servers, k=k)
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
        return found

    async def query(
        self,
        request: QueryRequest,
        *,
        client: str,
        servers: Collection[str] | None,
        tool_caller: ToolCaller | None,
        completer: Completer | None,
    ) -> QueryResponse:
        started = time.perf_counter()
        try:
            vector: np.ndarray | None = (await self.embedder.embed([request.text]))[0]
        except EmbeddingError:
            vector = None
        if vector is not None:
            decision = await self.fleet.decide(request.text, vector, servers=servers)
        else:  # still answer (and record) what can be answered without a vector
            decision = Decision(route="direct", confidence=0.0, decided_by="no-embedding")
        answer = await self.executor.run(
            request.text,
            vector,
            decision,
            client=client,
            tool_caller=tool_caller or self.tool_caller,
            completer=completer or self.completer,
            confirm=request.confirm,
            arguments=request.arguments,
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


def _principal(request: Request) -> Principal | None:
    principal = request.scope.get("state", {}).get("principal")
    return principal if isinstance(principal, Principal) else None


def _service(request: Request) -> TriageService:
    service = getattr(request.app.state, "triage", None)
    if not isinstance(service, TriageService):
        raise TriageError(503, "triage is starting")
    return service


def create_triage() -> APIRouter:
    """The triage REST routes; they read ``app.state.triage`` (see :func:`triage_lifespan`)."""
    router = APIRouter(prefix="/api/v1", tags=["triage"])

    @router.post("/triage", response_model=Decision, response_model_by_alias=True)
    async def triage(body: TextRequest, request: Request) -> Decision:
        """The decision alone: route, ranked candidates with scores, arguments, timings."""
        principal = _principal(request)
        return await _service(request).decide(body.text, principal.scopes if principal else None)

    @router.post("/embed", response_model=EmbedResponse, response_model_by_alias=True)
    async def embed(body: TextRequest, request: Request) -> EmbedResponse:
        """The query's embedding, for troubleshooting."""
        service = _service(request)
        vector = await service.embed(body.text)
        return EmbedResponse(
            model=service.embedder.name, dimension=len(vector), vector=vector.tolist()
        )

    @router.post("/query", response_model=QueryResponse, response_model_by_alias=True)
    async def query(body: QueryRequest, request: Request) -> QueryResponse:
        """Decide and answer; recorded in query_history with cost and latency."""
        principal = _principal(request)
        state = request.app.state
        return await _service(request).query(
            body,
            client=principal.name if principal else "anonymous",
            servers=principal.scopes if principal else None,
            tool_caller=getattr(state, "calls", None),
            completer=getattr(state, "model_router", None),
        )

    return router


def install_error_handler(app: FastAPI) -> None:
    """TriageError → its status with a JSON reason (the standalone app's one handler)."""

    async def handle(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, TriageError)
        return JSONResponse({"error": "triage", "reason": exc.reason}, status_code=exc.status)

    app.add_exception_handler(TriageError, handle)


@contextlib.asynccontextmanager
async def open_triage(
    catalog: Catalog,
    db: Database,
    *,
    embedder: Embedder | None = None,
    tool_caller: ToolCaller | None = None,
    completer: Completer | None = None,
    refresh_interval: float = 15.0,
    http: httpx.AsyncClient | None = None,
) -> AsyncIterator[TriageService]:
    """Load the model once, build the index from the registry, keep it fresh until exit.

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
        classifier = await RouteClassifier.build(embedder)
        fleet = FleetIndex(db, embedder, classifier, llm=llm)
        await fleet.refresh()
        semantic = catalog.platform.triage.semantic_cache
        executor = QueryExecutor(
            fleet,
            QueryHistory(db),
            AppContexts(db),
            CachePolicy(semantic.enabled, semantic.threshold, parse_duration(semantic.ttl)),
            llm=llm,
        )
        service = TriageService(db, embedder, fleet, executor, llm, tool_caller, completer)
        refresher = asyncio.create_task(fleet.run(refresh_interval), name="triage-index-refresh")
        try:
            yield service
        finally:
            refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await refresher


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


def triage_lifespan(
    settings: Settings, **options: Any
) -> Callable[[FastAPI], contextlib.AbstractAsyncContextManager[None]]:
    """A lifespan for a host app that already has ``app.state.database`` (the gateway's)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db: Database = app.state.database
        async with open_triage(settings.loaded_catalog, db, **options) as service:
            app.state.triage = service
            yield
            app.state.triage = None

    return lifespan


def create_app(settings: Settings, *, auth: bool = True, **options: Any) -> FastAPI:
    """Triage as a service of its own: the REST routes and ``/api/v1/health``.

    With ``auth`` every triage route needs a bearer token from the shared token store;
    its scopes limit the servers triage may pick.
    """

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with (
            open_database(settings) as db,
            open_triage(settings.loaded_catalog, db, **options) as service,
        ):
            app.state.triage = service
            app.state.token_store = TokenStore(db, cache_ttl=settings.token_cache_ttl)
            yield

    app = FastAPI(title="mcpfleet triage", version="0.1.0", lifespan=lifespan)
    install_error_handler(app)

    if auth:

        @app.middleware("http")
        async def bearer(request: Request, call_next: Any) -> Any:
            if not request.url.path.startswith("/api/v1/") or request.url.path.endswith("/health"):
                return await call_next(request)
            store: TokenStore = request.app.state.token_store
            scheme, _, token = request.headers.get("authorization", "").partition(" ")
            try:
                principal = await store.verify(
                    token.strip() if scheme.lower() == "bearer" else None
                )
            except TokenError as exc:
                return JSONResponse({"error": "unauthorized", "reason": str(exc)}, status_code=401)
            request.scope.setdefault("state", {})["principal"] = principal
            return await call_next(request)

    app.include_router(create_triage())

    @app.get("/api/v1/health", tags=["triage"])
    async def health(request: Request) -> dict[str, Any]:
        service = getattr(request.app.state, "triage", None)
        if not isinstance(service, TriageService):
            return {"status": "starting"}
        return {
            "status": "ok",
            "embeddingModel": service.embedder.name,
            "tools": len(service.fleet.triage.index),
            "localLlm": service.llm is not None and service.llm.available,
        }

    return app
