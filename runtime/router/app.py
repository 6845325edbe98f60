"""The router as a service of its own (``mcpfleet serve router``).

The gateway and the local fleet do not use this app: they call
:func:`~runtime.router.lifecycle.open_model_router` in their own lifespan and
:func:`~runtime.router.api.install_router_api` on their own app.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any

from fastapi import Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from runtime.db.lifecycle import open_database
from runtime.router.api import install_router_api
from runtime.router.auth import require_token
from runtime.router.lifecycle import RouterSettings, open_model_router
from runtime.settings import Settings
from runtime.store.tokens import TokenStore

__all__ = ["create_app"]

log = logging.getLogger(__name__)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    """The last resort: log the trace here, give the client JSON without it."""
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    body = {"error": {"code": "internal", "reason": "internal error; see the router's log"}}
    return JSONResponse(body, status_code=500)


def create_app(
    settings: Settings,
    *,
    router_settings: RouterSettings | None = None,
    auth: bool = True,
    dependencies: Sequence[Any] = (),
) -> FastAPI:
    """The router's REST API, ``/api/v1/health`` and ``/metrics``; the database, the
    catalog and the provider clients open in the lifespan.

    With ``auth`` the REST API (not health or metrics) needs a bearer token from the
    shared token store; ``dependencies`` add further guards.
    """
    registry = CollectorRegistry()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        catalog = settings.loaded_catalog
        async with (
            open_database(settings) as db,
            open_model_router(catalog.models, db, registry, settings=router_settings) as router,
        ):
            app.state.model_router = router
            app.state.token_store = TokenStore(db, cache_ttl=settings.token_cache_ttl)
            yield
            app.state.model_router = None

    app = FastAPI(title="mcpfleet model router", lifespan=lifespan)
    guards = [Depends(require_token), *dependencies] if auth else list(dependencies)
    install_router_api(app, dependencies=guards)
    app.add_exception_handler(Exception, _unexpected)

    @app.get("/api/v1/health", tags=["router"])
    async def health() -> dict[str, Any]:
        """Liveness plus which providers have a key (names only, never the keys)."""
        router = getattr(app.state, "model_router", None)
        if router is None:
            return {"status": "starting"}
        return {
            "status": "ok",
            "providers": router.providers.usable,
            "unusable": router.providers.unusable,
        }

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return app
