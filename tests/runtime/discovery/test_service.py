"""The discovery loop end to end inside one process: a Service appears in the (fake)
Kubernetes API, a real MCP server answers the probe, the real registry records it, and
drift and proposals follow. The Kubernetes API is ``fake_kubernetes`` (none can run
here) driven by the official client; PostgreSQL, MCP and git are real."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path

from catalog import load_catalog, write_server
from runtime.db import Database
from runtime.discovery.records import Row
from runtime.endpoints.endpoint import Endpoint, Event, Seen, Snapshot
from runtime.proposals.entry import updated_entry
from runtime.proposals.github import GitHubForge
from runtime.proposals.proposer import Proposer
from tests.runtime.discovery.fake_kubernetes import FakeCluster
from tests.runtime.discovery.harness import (
    SHIPPED_CATALOG,
    Running,
    api_client,
    kubernetes_source,
    mcp_service,
    run_discovery,
)
from tests.runtime.discovery.mcp_peers import serve_http, tool_server
from tests.runtime.proposals.conftest import git
from tests.runtime.proposals.fake_github import FakeGitHub, serve_github
from tests.waiting import eventually_async


class Scripted:
    """A source that replays events a test hands it (for the loop's own rules)."""

    name = "kubernetes"

    def __init__(self) -> None:
        self.queue: asyncio.Queue[Event] = asyncio.Queue()

    async def run(self, emit: Callable[[Event], Awaitable[None]]) -> None:
        while True:
            await emit(await self.queue.get())


async def test_an_annotated_service_becomes_a_healthy_registry_row_with_its_real_tools(
    db: Database,
) -> None:
    cluster = FakeCluster()
    async with serve_http(tool_server("weather", ["forecast", "alerts"])) as url:
        cluster.apply(mcp_service("weather-mcp", url))
        with api_client(cluster) as api:
            async with run_discovery(db, [kubernetes_source(api)]) as running:
                record = await eventually_row(running, "weather", lambda r: r.health == "healthy")
    assert sorted(t["name"] for t in record.tools) == ["alerts", "forecast"]
    assert (record.source, record.in_catalog, record.kind) == ("discovery", False, "http")
    assert record.endpoints == [url]
    assert record.description == "weather tools for the house"
    assert record.discovery["origin"] == "service mcp-system/weather-mcp"
    assert record.discovery["qualifiedName"] == "mcp-system/weather-mcp"  # the seed's name
    assert record.discovery["serverInfo"]["name"] == "weather"


async def test_an_unreachable_server_is_marked_then_healthy_once_it_answers(db: Database) -> None:
    source = Scripted()
    server = tool_server("late", ["hello"])
    async with serve_http(server) as url:
        pass  # take a free port, then stop listening on it
    endpoint = Endpoint(name="late", source="kubernetes", origin="test", url=url)
    async with run_discovery(db, [source]) as running:
        await source.queue.put(Seen(endpoint))
        down = await eventually_row(running, "late", lambda r: r.health == "unhealthy")
        assert down.last_error is not None and "cannot reach" in down.last_error
        assert down.discovery["permanent"] is False
        port = int(url.rsplit(":", 1)[1].split("/")[0])
        async with serve_http(server, port=port):
            up = await eventually_row(running, "late", lambda r: r.health == "healthy")
    assert [t["name"] for t in up.tools] == ["hello"]
    assert up.last_error is None


async def test_a_permanent_failure_is_not_retried_until_the_endpoint_changes(
    db: Database,
) -> None:
    source = Scripted()
    async with serve_http(tool_server("w", ["a"])) as url:
        wrong = Endpoint(name="w", source="kubernetes", origin="t", url=url.replace("/mcp", "/x"))
        async with run_discovery(db, [source]) as running:
            await source.queue.put(Seen(wrong))
            failed = await eventually_row(running, "w", lambda r: r.health == "unhealthy")
            assert failed.discovery["permanent"] is True
            assert "check the path" in (failed.last_error or "")
            await source.queue.put(Snapshot("kubernetes", (wrong,)))  # a relist: same endpoint
            fixed = Endpoint(name="w", source="kubernetes", origin="t", url=url)
            await source.queue.put(Seen(fixed))
            await eventually_row(running, "w", lambda r: r.health == "healthy")
            probes = running.metrics.probes
            assert probes.labels("permanent")._value.get() == 1


async def test_a_changed_annotation_reprobes_and_the_registry_follows(db: Database) -> None:
    cluster = FakeCluster()
    first, second = tool_server("a", ["one"]), tool_server("b", ["two", "three"])
    async with serve_http(first) as url_a, serve_http(second) as url_b:
        cluster.apply(mcp_service("moving-mcp", url_a))
        with api_client(cluster) as api:
            async with run_discovery(db, [kubernetes_source(api)]) as running:
                await eventually_row(running, "moving", lambda r: r.health == "healthy")
                cluster.apply(mcp_service("moving-mcp", url_b))
                moved = await eventually_row(
                    running, "moving", lambda r: len(r.tools) == 2, what="re-probe"
                )
    assert sorted(t["name"] for t in moved.tools) == ["three", "two"]


async def test_a_deleted_service_leaves_the_registry(db: Database) -> None:
    cluster = FakeCluster()
    async with serve_http(tool_server()) as url:
        cluster.apply(mcp_service("weather-mcp", url))
        with api_client(cluster) as api:
            async with run_discovery(db, [kubernetes_source(api)]) as running:
                await eventually_row(running, "weather", lambda r: r.health == "healthy")
                cluster.delete("mcp-system", "weather-mcp")

                async def removed() -> bool:
                    return await running.records.get("weather") is None

                await eventually_async(removed, what="the row to go")


async def test_catalog_servers_the_cluster_does_not_serve_are_flagged_missing(
    db: Database,
) -> None:
    source = Scripted()
    async with run_discovery(db, [source]) as running:
        await source.queue.put(Snapshot("kubernetes", ()))
        record = await eventually_row(running, "adguard", lambda r: r.drift.get("missing"))
        gauge = running.metrics.drift.labels(server="adguard", reason="missing")
        assert gauge._value.get() == 1
    assert record.drift["reasons"] == ["missing"]
    assert record.in_catalog and record.source == "catalog"


async def test_a_new_server_is_proposed_once_even_across_a_restart(
    db: Database, repo: Path
) -> None:
    cluster = FakeCluster()
    async with serve_http(tool_server("weather", ["forecast"])) as url:
        cluster.apply(mcp_service("weather-mcp", url))
        with api_client(cluster) as api:
            for expected in ("opened", "unchanged"):
                async with run_discovery(db, [kubernetes_source(api)], repo=repo) as running:
                    await eventually_row(
                        running,
                        "weather",
                        lambda r, want=expected: (
                            r.discovery.get("proposal", {}).get("status") == want
                        ),
                        what=f"proposal {expected}",
                    )
    assert git(repo, "branch", "--list", "discovery/*") == "discovery/add-weather"


async def test_tool_and_image_drift_are_reported_and_proposed_as_an_update(
    db: Database, repo: Path, tmp_path: Path
) -> None:
    catalog_dir = tmp_path / "catalog"
    shutil.copytree(SHIPPED_CATALOG, catalog_dir, ignore=shutil.ignore_patterns("*.py"))
    server = load_catalog(catalog_dir).server("kubernetes-prod")
    write_server(catalog_dir, updated_entry(server, tools=["pods_list"]))
    cluster = FakeCluster()
    live = tool_server("k8s", ["pods_list", "events_list"])
    async with serve_http(live) as url:
        svc = mcp_service("kubernetes-prod-mcp", url)
        cluster.apply(svc)
        cluster.pods.append(
            {
                "metadata": {
                    "name": "k-1",
                    "namespace": "mcp-system",
                    "labels": svc["spec"]["selector"],
                },
                "spec": {"containers": [{"name": "mcp", "image": "ghcr.io/x/k8s-mcp:v9"}]},
            }
        )
        with api_client(cluster) as api:
            async with run_discovery(
                db, [kubernetes_source(api)], catalog_dir=catalog_dir, repo=repo, propose_drift=True
            ) as running:
                record = await eventually_row(
                    running, "kubernetes-prod", lambda r: "proposal" in r.discovery
                )
                assert running.metrics.drift.labels("kubernetes-prod", "tools")._value.get() == 1
    assert {"tools", "image"} <= set(record.drift["reasons"])
    assert record.drift["tools_added"] == ["events_list"]
    assert record.drift["image"] == {
        "catalog": "ghcr.io/containers/kubernetes-mcp-server:v0.0.54",
        "live": "ghcr.io/x/k8s-mcp:v9",
    }
    assert record.discovery["proposal"]["branch"] == "discovery/update-kubernetes-prod"
    branch = "discovery/update-kubernetes-prod"
    text = git(repo, "show", f"{branch}:catalog/servers/kubernetes-prod.yaml")
    assert "image: ghcr.io/x/k8s-mcp:v9" in text
    assert "- events_list" in text


async def test_a_forge_outage_delays_the_proposal_and_never_loses_it(db: Database) -> None:
    """GitHub is the REST stand-in from the proposals tests, failing twice with 502."""
    source = Scripted()
    hub = FakeGitHub()
    hub.seed({f"catalog/{p.relative_to(SHIPPED_CATALOG)}": p.read_text()
              for p in SHIPPED_CATALOG.rglob("*.yaml")})
    with serve_github(hub):
        forge = GitHubForge(hub.full_name, hub.token, api_url=hub.base_url)
        proposer = Proposer(forge, catalog_dir=SHIPPED_CATALOG)
        async with serve_http(tool_server("notes", ["add_note"])) as url:
            endpoint = Endpoint(
                name="notes", source="kubernetes", origin="t", url=url, image="ex/notes:1"
            )
            hub.fail_next.extend([502, 502])
            async with run_discovery(db, [source], proposer=proposer) as running:
                await source.queue.put(Seen(endpoint))
                failed = await eventually_row(
                    running, "notes", lambda r: "error" in r.discovery.get("proposal", {})
                )
                assert "GitHub 502" in failed.discovery["proposal"]["error"]
                await eventually_row(
                    running,
                    "notes",
                    lambda r: r.discovery.get("proposal", {}).get("status") == "opened",
                )
    assert [p["head"]["ref"] for p in hub.open_pulls()] == ["discovery/add-notes"]


# ------------------------------------------------------------------ helpers


async def eventually_row(
    running: Running, name: str, ok: Callable[[Row], object], *, what: str = ""
) -> Row:
    """The registry row once ``ok(row)`` holds (polled with a deadline)."""

    async def check() -> Row | None:
        record = await running.records.get(name)
        return record if record is not None and ok(record) else None

    return await eventually_async(check, what=what or f"row {name}")
