"""A discovery service wired to real parts for tests and the benchmark: the fake
Kubernetes API (real client), real MCP servers, the real registry and a real git repo."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

from kubernetes import client

from catalog import load_catalog
from catalog.naming import AnnotationKeys
from runtime.db import Database
from runtime.discovery.kubernetes import KubernetesSource
from runtime.discovery.metrics import DiscoveryMetrics
from runtime.discovery.records import DiscoveryRecords
from runtime.discovery.service import Backoff, Discovery, Source
from runtime.endpoints.probe import Prober
from runtime.proposals.localgit import LocalGitForge
from runtime.proposals.proposer import Proposer
from tests.runtime.discovery.fake_kubernetes import FakeCluster, serve_cluster, service

__all__ = ["Running", "api_client", "kubernetes_source", "mcp_service", "run_discovery"]

SHIPPED_CATALOG = Path(__file__).resolve().parents[3] / "catalog"
PREFIX = "mcp.shreck.io"
KEYS = AnnotationKeys(PREFIX)


@contextlib.contextmanager
def api_client(cluster: FakeCluster) -> Iterator[client.ApiClient]:
    with serve_cluster(cluster) as url, client.ApiClient(client.Configuration(host=url)) as api:
        yield api


def mcp_service(
    name: str, url: str, *, server: str | None = None, transport: str = "streamable-http"
) -> dict:
    """An annotated Service whose cluster IP and port lead to the MCP server at ``url``."""
    port = int(url.rsplit(":", 1)[1].split("/", 1)[0])
    path = "/" + url.rsplit(":", 1)[1].split("/", 1)[1]
    annotations = {
        KEYS.enabled: "true",
        KEYS.path: path,
        KEYS.transport: transport,
        KEYS.capabilities: "tools,weather",
    }
    if server:
        annotations[KEYS.server] = server
    return service(name, annotations=annotations, port=port)


@dataclass
class Running:
    discovery: Discovery
    records: DiscoveryRecords
    metrics: DiscoveryMetrics
    task: asyncio.Task[None]


@contextlib.asynccontextmanager
async def run_discovery(
    db: Database,
    sources: list[Source],
    *,
    catalog_dir: Path = SHIPPED_CATALOG,
    repo: Path | None = None,
    proposer: Proposer | None = None,
    propose_drift: bool = False,
    probe_timeout: float = 5.0,
) -> AsyncIterator[Running]:
    catalog = await asyncio.to_thread(load_catalog, catalog_dir)
    records = DiscoveryRecords(db)
    metrics = DiscoveryMetrics()
    if proposer is None and repo is not None:
        proposer = Proposer(LocalGitForge(repo), catalog_dir=catalog_dir)
    discovery = Discovery(
        catalog=catalog,
        sources=sources,
        prober=Prober(timeout=probe_timeout),
        records=records,
        metrics=metrics,
        proposer=proposer,
        propose_drift=propose_drift,
        probe_backoff=Backoff(first=0.05, cap=0.2),
        proposal_backoff=Backoff(first=0.05, cap=0.2),
    )
    task = asyncio.create_task(discovery.run())
    try:
        yield Running(discovery, records, metrics, task)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def kubernetes_source(api: client.ApiClient, relist_every: float = 3600) -> KubernetesSource:
    return KubernetesSource(api, KEYS, relist_every=relist_every, addressing="cluster-ip")
