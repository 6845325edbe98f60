"""Open and close a :class:`ModelRouter` in a host's lifespan (the router's own app, the
gateway's, or the local fleet's single process)."""

# Hosting the router in the gateway's process:
#
#     GatewayExtension(routers=[create_router_api()], lifespan=hosted_model_router(spec))
#
# The gateway's security middleware then guards the routes, its /metrics shows the
# router's series, and ``app.state.model_router`` is the Completer triage escalates to.

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from datetime import datetime

import httpx2
from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from catalog.model import ModelsFile
from runtime.db.database import Database
from runtime.router.budget import BudgetGuard, utc_now
from runtime.router.ledger import PgUsageLedger
from runtime.router.metrics import RouterMetrics
from runtime.router.policy import Policy
from runtime.router.providers import ProviderSet
from runtime.router.service import ModelRouter

__all__ = ["RouterSettings", "hosted_model_router", "open_model_router"]


class RouterSettings(BaseSettings):
    """Tuning the catalog does not carry, from ``MCPFLEET_ROUTER_*`` variables."""

    model_config = SettingsConfigDict(env_prefix="MCPFLEET_ROUTER_", extra="ignore", frozen=True)

    timeout: float = Field(default=60.0, gt=0, description="Seconds one model call may take.")
    budget_cache_seconds: float = Field(
        default=5.0, ge=0, description="How long today's spend is trusted without the DB."
    )
    ledger_timeout: float = Field(
        default=2.0, gt=0, description="Seconds a usage write or budget read may wait."
    )


@contextlib.asynccontextmanager
async def open_model_router(
    spec: ModelsFile,
    db: Database,
    registry: CollectorRegistry,
    *,
    settings: RouterSettings | None = None,
    env: Mapping[str, str] | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> AsyncIterator[ModelRouter]:
    """Yield a router over ``spec``'s providers, its usage in ``db``, its series in
    ``registry``; close every provider client on exit.

    API keys come from ``env`` (default: the process environment, where the secrets
    backend puts them), read here once and never logged.

    Raises:
        PolicyError: ``spec`` names a model the router cannot use.
    """
    settings = settings or RouterSettings()
    policy = Policy(spec)
    metrics = RouterMetrics(registry)
    ledger = PgUsageLedger(db)
    budget = BudgetGuard(
        spec.budget,
        ledger,
        metrics,
        cache_seconds=settings.budget_cache_seconds,
        ledger_timeout=settings.ledger_timeout,
        clock=clock,
    )
    async with httpx2.AsyncClient() as http:
        providers = ProviderSet(
            spec,
            env=os.environ if env is None else env,
            timeout=settings.timeout,
            http_client=http,
        )
        try:
            yield ModelRouter(
                policy,
                providers,
                ledger,
                budget,
                metrics,
                timeout=settings.timeout,
                ledger_timeout=settings.ledger_timeout,
                clock=clock,
            )
        finally:
            await providers.aclose()


def hosted_model_router(
    spec: ModelsFile,
    *,
    settings: RouterSettings | None = None,
    env: Mapping[str, str] | None = None,
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """A lifespan for a host app that has already opened ``app.state.database`` and keeps
    its Prometheus registry at ``app.state.metrics.registry`` (the gateway does both):
    the router lives on ``app.state.model_router`` while the host runs."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db: Database = app.state.database
        registry: CollectorRegistry = app.state.metrics.registry
        async with open_model_router(spec, db, registry, settings=settings, env=env) as router:
            app.state.model_router = router
            try:
                yield
            finally:
                app.state.model_router = None

    return lifespan
