"""The triage REST API: ``POST /api/v1/triage``, ``/embed``, ``/query``; the standalone app.

``create_triage()`` is mounted by a host (the gateway, behind its own auth middleware,
which leaves the caller's principal in the request state) or by :func:`create_app`, the
service of its own that ``mcpfleet serve triage`` runs.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse

from runtime.db import open_database
from runtime.settings import Settings
from runtime.store import Principal, TokenError, TokenStore
from runtime.triage.decision import Decision
from runtime.triage.schemas import EmbedResponse, QueryRequest, QueryResponse, TextRequest
from runtime.triage.service import TriageError, TriageService, open_triage

__all__ = ["create_app", "create_triage", "install_error_handler"]


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
        return await _service(request).decide(body.text, principal)

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
            access=principal,
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


def create_app(
    settings: Settings,
    *,
    auth: bool = True,
    closers: Sequence[Callable[[], Awaitable[None]]] = (),
    **options: Any,
) -> FastAPI:
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
            try:
                yield
            finally:
                for close in closers:
                    await close()

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
            "tools": len(service.fleet.triage.index) if service.fleet.triage else 0,
            "localLlm": service.llm is not None and service.llm.available,
        }

    return app
