"""Runtime services hosted in the gateway's process, wired in one place.

The runtime packages never import each other; this module (part of the CLI, the
composition root) turns triage, the model router and discovery into gateway extensions,
so the local fleet and a single-pod deployment share the same wiring.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
from fastapi import FastAPI, Request

from runtime.console import ConsoleHost, Denied
from runtime.contracts import Completer
from runtime.discovery.api import registry_namespace, registry_router
from runtime.discovery.app import running_discovery
from runtime.discovery.config import DiscoveryConfig
from runtime.gateway import GatewayConfig, GatewayError, GatewayExtension, GatewayTool, create_app
from runtime.gateway.auth import BearerTokens
from runtime.gateway.security import Guard
from runtime.proposals.api import proposals_router
from runtime.router import RouterClient, create_router_api, hosted_model_router
from runtime.settings import Settings
from runtime.store import Principal, TokenStore
from runtime.triage.host import FIND_TOOLS, TriageHost

__all__ = [
    "console_extension",
    "discovery_extension",
    "gateway_app",
    "router_extension",
    "triage_extension",
]


def router_extension(settings: Settings) -> GatewayExtension:
    """The model router: ``/api/v1/complete``, ``/api/v1/costs``; triage escalates to it.

    It must come before :func:`triage_extension`, whose lifespan picks it up from
    ``app.state.model_router``.
    """
    return GatewayExtension(
        routers=[create_router_api()],
        lifespan=hosted_model_router(settings.loaded_catalog.models),
    )


def triage_extension(
    settings: Settings, *, completer: Completer | None = None
) -> tuple[GatewayExtension, TriageHost]:
    """Triage: ``/api/v1/query``, ``/api/v1/triage``, ``/api/v1/embed`` and ``find_tools``.

    Tool calls go through the gateway's own upstream layer; escalations to ``completer``
    (the router service over HTTP in a pod) or, when None, to a router hosted alongside.
    """
    host = TriageHost(settings, {"completer": completer} if completer is not None else {})
    tool = GatewayTool(definition=FIND_TOOLS, handler=host.find_tools)
    extension = GatewayExtension(
        routers=[host.router],
        tools=[tool],
        lifespan=host.lifespan,
        error_handlers=host.error_handlers,
    )
    return extension, host


def discovery_extension(settings: Settings, config: DiscoveryConfig) -> GatewayExtension:
    """Discovery's loop, the MCP-registry-shaped API (``/v0/servers``) and proposals."""
    catalog = settings.loaded_catalog

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with running_discovery(
            app.state.database,
            catalog,
            Path(settings.catalog),
            config,
            metrics_registry=app.state.metrics.registry,  # one /metrics for the process
        ) as runtime:
            app.state.prober = runtime.prober
            app.state.proposer = runtime.proposer
            app.state.discovery = runtime
            yield

    namespace = registry_namespace(catalog.platform.discovery.annotation_prefix)
    return GatewayExtension(
        routers=[registry_router(namespace), proposals_router()], lifespan=lifespan
    )


def console_extension(settings: Settings, *, public_url: str | None = None) -> GatewayExtension:
    """The web console at ``/`` (and the API reference at ``/docs``); its viewers are
    admitted by the gateway's own gate."""
    host = ConsoleHost(settings, GuardGate(), public_url=public_url)
    return GatewayExtension(routers=host.routers, lifespan=host.lifespan)


class GuardGate:
    """The console's gate is the gateway's :class:`~runtime.gateway.security.Guard`: the
    IP allowlist, the token store (whatever kinds of token it accepts) and the rate limit,
    exactly as for ``/api`` — with the session cookie's token as the bearer token."""

    async def admit(self, request: Request, token: str | None) -> Principal:
        guard: Guard | None = getattr(request.app.state, "guard", None)
        if guard is None:
            raise Denied(503, "the gateway is starting; try again shortly", retry_after="2")
        headers = [(k, v) for k, v in request.scope["headers"] if k.lower() != b"authorization"]
        if token:
            headers.append((b"authorization", f"Bearer {token}".encode()))
        try:
            return await guard.admit({**request.scope, "headers": headers})
        except GatewayError as exc:
            retry = exc.headers().get("Retry-After")
            raise Denied(exc.status, exc.reason, retry_after=retry) from None

    def tokens(self, request: Request) -> TokenStore:
        guard: Guard | None = getattr(request.app.state, "guard", None)
        verifier = guard.verifier if guard is not None else None
        if isinstance(verifier, BearerTokens):  # mcpfleet tokens beside OAuth access tokens
            verifier = verifier.tokens
        if isinstance(verifier, TokenStore):
            return verifier  # revocations then apply at once in this gateway
        return TokenStore(request.app.state.database)


def gateway_app(
    settings: Settings,
    *,
    local: bool,
    public_url: str | None = None,
    auth: bool = True,
    triage: bool = True,
    router_url: str | None = None,
) -> FastAPI:
    """What a gateway pod runs (``mcpfleet serve gateway``): the gateway hosting triage, so
    ``/api/v1/query`` and the ``find_tools`` meta-tool answer at the gateway's address; with
    ``router_url`` triage escalates to the router service (token ``MCPFLEET_TRIAGE_TOKEN``).
    """
    config = GatewayConfig.from_catalog(
        settings.loaded_catalog, local=local, public_url=public_url, auth=auth
    )
    extensions = []
    if triage:
        completer = None
        if router_url:
            token = os.environ.get("MCPFLEET_TRIAGE_TOKEN")
            completer = RouterClient(router_url, httpx.AsyncClient(timeout=120.0), token=token)
        extensions.append(triage_extension(settings, completer=completer)[0])
    extensions.append(console_extension(settings, public_url=public_url))
    return create_app(settings, config, extensions=extensions)
