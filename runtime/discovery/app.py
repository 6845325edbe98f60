"""The discovery service as a process: wiring, lifespan, and its HTTP surface.

:func:`running_discovery` builds sources, prober, forge and loop from the catalog and a
:class:`DiscoveryConfig` and runs them for the length of a block, so a host process (the
standalone ``mcpfleet serve discovery`` app below, or the local fleet next to the
gateway) owns the lifetime. :func:`create_app` is the standalone app: the registry API,
``POST /api/v1/proposals``, ``/metrics`` and ``/healthz``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from catalog import Catalog, parse_duration
from catalog.naming import AnnotationKeys
from runtime.db import Database, open_database
from runtime.discovery.api import registry_namespace, registry_router
from runtime.discovery.config import DiscoveryConfig, github_repository, repository_root
from runtime.discovery.files import FileSource
from runtime.discovery.kubernetes import KubernetesSource, api_client_from_environment
from runtime.discovery.metrics import DiscoveryMetrics
from runtime.discovery.records import DiscoveryRecords
from runtime.discovery.service import Discovery, Source
from runtime.endpoints.probe import Prober
from runtime.proposals.api import proposals_router
from runtime.proposals.errors import ProposalError
from runtime.proposals.github import GitHubForge
from runtime.proposals.localgit import LocalGitForge
from runtime.proposals.proposer import Proposer
from runtime.settings import Settings

__all__ = ["DiscoveryRuntime", "build_proposer", "create_app", "running_discovery"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DiscoveryRuntime:
    """What a host needs from a running discovery: the loop and its collaborators."""

    discovery: Discovery
    prober: Prober
    proposer: Proposer | None
    proposals: str
    metrics: DiscoveryMetrics
    sources: tuple[str, ...]
    task: asyncio.Task[None]


@contextlib.asynccontextmanager
async def running_discovery(
    database: Database,
    catalog: Catalog,
    catalog_dir: Path,
    config: DiscoveryConfig,
    *,
    metrics_registry: CollectorRegistry | None = None,
) -> AsyncIterator[DiscoveryRuntime]:
    """Run discovery for the block; sources and probes stop cleanly when it ends."""
    interval = parse_duration(catalog.platform.discovery.interval).total_seconds()
    sources: list[Source] = []
    if _kubernetes_wanted(config):
        api = api_client_from_environment(config.kubeconfig)
        keys = AnnotationKeys(catalog.platform.discovery.annotation_prefix)
        sources.append(
            KubernetesSource(api, keys, relist_every=interval, addressing=config.addressing)
        )
    if config.endpoints_dir is not None:
        sources.append(
            FileSource(config.endpoints_dir, poll_every=config.poll_every, relist_every=interval)
        )
    prober = Prober(timeout=config.probe_timeout)
    proposer, mode = build_proposer(config, catalog, catalog_dir)
    metrics = DiscoveryMetrics(metrics_registry)
    discovery = Discovery(
        catalog=catalog,
        sources=sources,
        prober=prober,
        records=DiscoveryRecords(database),
        metrics=metrics,
        proposer=proposer,
        propose_drift=config.drift_proposals(catalog),
    )
    task = asyncio.create_task(discovery.run(), name="discovery")
    names = tuple(s.name for s in sources)
    log.info("discovery running: sources=%s proposals=%s", ",".join(names) or "none", mode)
    try:
        yield DiscoveryRuntime(discovery, prober, proposer, mode, metrics, names, task)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def build_proposer(
    config: DiscoveryConfig, catalog: Catalog, catalog_dir: Path
) -> tuple[Proposer | None, str]:
    """The proposer the catalog asks for, or None with the reason in the mode string."""
    mode = config.proposal_mode(catalog)
    gitops = catalog.platform.gitops
    base = config.base_branch or gitops.branch
    root = repository_root(catalog_dir)
    repo_path = config.repo_catalog_path or _relative(catalog_dir, root) or "catalog"
    try:
        if mode == "github":
            repository = config.github_repository or github_repository(gitops.repository)
            if repository is None or config.github_token is None:
                return None, "off (github needs GITHUB_TOKEN and a GitHub repository)"
            forge: GitHubForge | LocalGitForge = GitHubForge(
                repository,
                config.github_token.get_secret_value(),
                base=base,
                api_url=config.github_api_url,
            )
        elif mode == "local":
            repo = config.git_repo or root
            if repo is None:
                return None, "off (local needs a git repository: set MCPFLEET_DISCOVERY_GIT_REPO)"
            forge = LocalGitForge(repo, base=base)
        else:
            return None, "off"
    except ProposalError as exc:
        return None, f"off ({exc})"
    return Proposer(forge, catalog_dir=catalog_dir, repo_catalog=repo_path), mode


def create_app(settings: Settings, config: DiscoveryConfig) -> FastAPI:
    """The standalone discovery service (what its pod runs)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        catalog = settings.loaded_catalog
        registry = CollectorRegistry()
        async with (
            open_database(settings) as database,
            running_discovery(
                database, catalog, settings.catalog, config, metrics_registry=registry
            ) as runtime,
        ):
            app.state.database = database
            app.state.prober = runtime.prober
            app.state.proposer = runtime.proposer
            app.state.runtime = runtime
            app.state.metrics_registry = registry
            yield

    app = FastAPI(
        title="mcpfleet discovery",
        summary="Finds MCP servers, keeps the registry, proposes catalog changes.",
        lifespan=lifespan,
    )
    namespace = registry_namespace(settings.loaded_catalog.platform.discovery.annotation_prefix)
    # Unscoped: this port is reachable only inside the cluster (see docs/discovery.md); on
    # the gateway's port the registry needs a token and shows only that token's servers.
    app.include_router(registry_router(namespace, scoped=False))
    app.include_router(proposals_router())

    @app.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        body = generate_latest(request.app.state.metrics_registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    @app.get("/healthz", summary="Liveness: the discovery loop is running")
    async def healthz(request: Request) -> JSONResponse:
        runtime: DiscoveryRuntime = request.app.state.runtime
        alive = not runtime.task.done()
        body = {
            "status": "ok" if alive else "stopped",
            "sources": list(runtime.sources),
            "proposals": runtime.proposals,
        }
        return JSONResponse(body, status_code=200 if alive else 503)

    return app


def _kubernetes_wanted(config: DiscoveryConfig) -> bool:
    if config.kubernetes == "auto":
        return "KUBERNETES_SERVICE_HOST" in os.environ
    return config.kubernetes == "on"


def _relative(path: Path, root: Path | None) -> str | None:
    if root is None:
        return None
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return None
