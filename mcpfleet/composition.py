"""Runtime services hosted in the gateway's process, wired in one place.

The runtime packages never import each other; this module (part of the CLI, the
composition root) turns triage, the model router and discovery into gateway extensions,
so the local fleet and a single-pod deployment share the same wiring.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI

from runtime.discovery.api import registry_namespace, registry_router
from runtime.discovery.app import running_discovery
from runtime.discovery.config import DiscoveryConfig
from runtime.gateway import GatewayExtension, GatewayTool
from runtime.proposals.api import proposals_router
from runtime.router import create_router_api, hosted_model_router
from runtime.settings import Settings
from runtime.triage.host import FIND_TOOLS, TriageHost

__all__ = ["discovery_extension", "router_extension", "triage_extension"]


def router_extension(settings: Settings) -> GatewayExtension:
    """The model router: ``/api/v1/complete``, ``/api/v1/costs``; triage escalates to it.

    It must come before :func:`triage_extension`, whose lifespan picks it up from
    ``app.state.model_router``.
    """
    return GatewayExtension(
        routers=[create_router_api()],
        lifespan=hosted_model_router(settings.loaded_catalog.models),
    )


def triage_extension(settings: Settings) -> tuple[GatewayExtension, TriageHost]:
    """Triage: ``/api/v1/query``, ``/api/v1/triage``, ``/api/v1/embed`` and ``find_tools``."""
    host = TriageHost(settings)
    tool = GatewayTool(definition=FIND_TOOLS, handler=host.find_tools)
    return GatewayExtension(routers=[host.router], tools=[tool], lifespan=host.lifespan), host


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
