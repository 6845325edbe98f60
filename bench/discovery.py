"""Time from a Service event to the registry row, and to the catalog proposal.

Run: ``python bench/discovery.py [--services 20] [--forge local|github] [--burst]``.

Everything the loop touches is real except the cluster: an embedded PostgreSQL, MCP
servers over streamable HTTP on 127.0.0.1, a git repository (``local``) or PyGithub
against the GitHub REST stand-in from the tests (``github``, PyGithub's write pacing at
the forge's default 0.2 s). The Services come from the tests' Kubernetes API stand-in,
read by the official client's list/watch. The clock starts when the Service is written
to the API and stops when the registry write commits / when the forge answers.

Sequential mode adds one Service at a time (latency of one event); ``--burst`` adds them
all at once (the proposal queue is serial, so the last waits for the others).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from catalog import load_catalog
from runtime.db import Database, EmbeddedPostgres
from runtime.discovery.metrics import DiscoveryMetrics
from runtime.discovery.records import DiscoveryRecords
from runtime.discovery.service import Discovery
from runtime.endpoints.endpoint import Endpoint
from runtime.endpoints.probe import Prober, ProbeResult
from runtime.proposals.github import GitHubForge
from runtime.proposals.localgit import LocalGitForge
from runtime.proposals.proposer import Outcome, Proposal, Proposer
from tests.runtime.discovery.fake_kubernetes import FakeCluster
from tests.runtime.discovery.harness import (
    api_client,
    kubernetes_source,
    mcp_service,
)
from tests.runtime.discovery.mcp_peers import serve_http, tool_server
from tests.runtime.proposals.conftest import make_repo
from tests.runtime.proposals.fake_github import FakeGitHub, serve_github
from tests.waiting import eventually

CATALOG = Path(__file__).resolve().parents[1] / "catalog"


class Clock:
    """When each server's registry row and proposal landed (perf_counter seconds)."""

    def __init__(self) -> None:
        self.row: dict[str, float] = {}
        self.proposal: dict[str, float] = {}
        self.changed = asyncio.Event()

    def mark(self, table: dict[str, float], name: str) -> None:
        table.setdefault(name, time.perf_counter())
        self.changed.set()


class TimedRecords(DiscoveryRecords):
    def __init__(self, db: Database, clock: Clock) -> None:
        super().__init__(db)
        self._clock = clock

    async def probed(self, endpoint: Endpoint, result: ProbeResult, *, in_catalog: bool) -> None:
        await super().probed(endpoint, result, in_catalog=in_catalog)
        self._clock.mark(self._clock.row, endpoint.name)


class TimedProposer(Proposer):
    def __init__(self, forge: Any, clock: Clock, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(forge, catalog_dir=CATALOG)
        self._clock = clock
        self._loop = loop

    def propose(self, proposal: Proposal) -> Outcome:
        outcome = super().propose(proposal)
        name = proposal.server.name
        self._loop.call_soon_threadsafe(self._clock.mark, self._clock.proposal, name)
        return outcome


async def wait_for(clock: Clock, done: Callable[[], bool], within: float = 60) -> None:
    deadline = time.perf_counter() + within
    while not done():
        clock.changed.clear()
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            raise TimeoutError("the loop did not finish in time")
        try:
            await asyncio.wait_for(clock.changed.wait(), remaining)
        except TimeoutError:
            continue


def summary(label: str, samples: list[float], goal: float) -> str:
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    verdict = "meets" if ordered[-1] <= goal else "MISSES"
    return (
        f"{label:<26} p50 {p50 * 1e3:7.0f} ms   p95 {p95 * 1e3:7.0f} ms   "
        f"max {ordered[-1] * 1e3:7.0f} ms   (goal <= {goal:g} s: {verdict}, n={len(ordered)})"
    )


async def main(services: int, forge_name: str, burst: bool) -> None:
    root = Path(tempfile.mkdtemp(prefix="mcpfleet-bench-discovery-"))
    server = EmbeddedPostgres(root / "pg")
    server.start()
    try:
        db = await Database.open(server.url(), embedding_dim=384, max_size=10)
        try:
            await run(db, root, services, forge_name, burst)
        finally:
            await db.close()
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


async def run(db: Database, root: Path, services: int, forge_name: str, burst: bool) -> None:
    catalog = load_catalog(CATALOG)
    clock = Clock()
    cluster = FakeCluster()
    hub = FakeGitHub()
    hub.seed({f"catalog/{p.relative_to(CATALOG)}": p.read_text() for p in CATALOG.rglob("*.yaml")})
    with serve_github(hub), api_client(cluster) as api:
        if forge_name == "github":
            forge: Any = GitHubForge(hub.full_name, hub.token, api_url=hub.base_url)
        else:
            forge = LocalGitForge(make_repo(root))
        loop = asyncio.get_running_loop()
        proposer = TimedProposer(forge, clock, loop)
        discovery = Discovery(
            catalog=catalog,
            sources=[kubernetes_source(api)],
            prober=Prober(timeout=5),
            records=TimedRecords(db, clock),
            metrics=DiscoveryMetrics(),
            proposer=proposer,
        )
        task = asyncio.create_task(discovery.run())
        try:
            async with serve_http(tool_server("bench", ["forecast", "alerts"])) as url:
                await eventually(cluster.watches, what="the watch")
                started: dict[str, float] = {}
                names = [f"svc-{i:03d}" for i in range(services)]
                for name in names:
                    started[name] = time.perf_counter()
                    cluster.apply(mcp_service(f"mcp-{name}", url))
                    if not burst:
                        await wait_for(clock, lambda n=name: n in clock.proposal)
                await wait_for(clock, lambda: all(n in clock.proposal for n in names))
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    mode = "burst" if burst else "one at a time"
    print(f"discovery benchmark: {services} Services ({mode}), proposals via {forge_name}")
    print(summary("event -> registry row", [clock.row[n] - started[n] for n in names], 2))
    print(summary("event -> proposal", [clock.proposal[n] - started[n] for n in names], 5))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=20)
    parser.add_argument("--forge", choices=["local", "github"], default="local")
    parser.add_argument("--burst", action="store_true")
    args = parser.parse_args()
    asyncio.run(main(args.services, args.forge, args.burst))
