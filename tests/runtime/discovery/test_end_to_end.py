"""The whole loop: annotate a Service → the registry holds the server's real tools → a
proposal branch whose catalog validates → merge it → ``mcpfleet render`` deploys it.

The Kubernetes API is ``fake_kubernetes`` (no cluster can run here) driven by the real
client; the MCP server, PostgreSQL, git and the compiler (``mcpfleet render``, run as a
command the way an operator or CI runs it) are real.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from ruamel.yaml import YAML

from catalog import check_catalog
from catalog.model import HttpServer
from runtime.db import Database
from runtime.discovery.files import FileSource
from runtime.discovery.records import Row
from tests.runtime.discovery.fake_kubernetes import FakeCluster
from tests.runtime.discovery.harness import (
    api_client,
    kubernetes_source,
    mcp_service,
    run_discovery,
)
from tests.runtime.discovery.mcp_peers import serve_http, tool_server
from tests.runtime.gateway.conftest import SHIPPED_CATALOG
from tests.runtime.proposals.conftest import git
from tests.waiting import eventually_async


async def test_an_annotated_service_ends_up_deployed_by_the_compiler(
    db: Database, repo: Path, tmp_path: Path
) -> None:
    cluster = FakeCluster()
    async with serve_http(tool_server("weather", ["forecast", "alerts"])) as url:
        svc = mcp_service("weather-mcp", url)
        cluster.apply(svc)
        labels = svc["spec"]["selector"]
        container = {"name": "mcp", "image": "ghcr.io/example/weather-mcp:1.0.0"}
        cluster.pods.append(
            {
                "metadata": {"name": "weather-1", "namespace": "mcp-system", "labels": labels},
                "spec": {"containers": [container]},
            }
        )
        with api_client(cluster) as api:
            async with run_discovery(
                db, [kubernetes_source(api)], catalog_dir=repo / "catalog", repo=repo
            ) as running:

                async def proposed() -> Row | None:
                    row = await running.records.get("weather")
                    return row if row and "proposal" in row.discovery else None

                row = await eventually_async(proposed, what="registry row and proposal")

    # 1. the registry holds what the server really lists
    assert row.health == "healthy"
    assert sorted(t["name"] for t in row.tools) == ["alerts", "forecast"]
    assert row.discovery["proposal"]["status"] == "opened"
    # what the console's Proposals page shows: the diff a reviewer reads, and that it validated
    assert row.discovery["proposal"]["validation"] == "passed"
    assert "+++ b/catalog/servers/weather.yaml" in row.discovery["proposal"]["diff"]
    assert "+  name: weather" in row.discovery["proposal"]["diff"]

    # 2. the proposal branch's catalog validates as a whole
    review = tmp_path / "review"
    git(repo, "worktree", "add", "-q", str(review), "discovery/add-weather")
    catalog, problems = check_catalog(review / "catalog")
    assert problems == [], problems
    assert catalog is not None
    entry = catalog.server("weather")
    assert isinstance(entry, HttpServer)
    assert entry.image == "ghcr.io/example/weather-mcp:1.0.0"
    assert entry.tools == ["alerts", "forecast"]

    # 3. merged, the compiler deploys it
    git(repo, "merge", "-q", "--no-ff", "-m", "Merge the proposal", "discovery/add-weather")
    out = tmp_path / "rendered"
    mcpfleet = str(Path(sys.executable).parent / "mcpfleet")
    render = [mcpfleet, "render", "--out", str(out), "--catalog", str(repo / "catalog")]
    result = await asyncio.to_thread(subprocess.run, render, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    rendered = {p.relative_to(out).as_posix() for p in out.rglob("*.yaml")}
    deployments = [p for p in rendered if p.startswith("server-weather/deployment-")]
    assert deployments, sorted(rendered)
    deployment = YAML(typ="safe").load((out / deployments[0]).read_text())
    images = [c["image"] for c in deployment["spec"]["template"]["spec"]["containers"]]
    assert "ghcr.io/example/weather-mcp:1.0.0" in images


DISCOVERY_DOC = SHIPPED_CATALOG.parent / "docs" / "discovery.md"
DOC_URL = "http://127.0.0.1:9000/mcp"


def documented_endpoint_file() -> str:
    """The endpoint file exactly as docs/discovery.md shows it ("The endpoint file")."""
    text = DISCOVERY_DOC.read_text(encoding="utf-8")
    section = text.split("### The endpoint file", 1)[1]
    return section.split("```yaml\n", 1)[1].split("```", 1)[0]


async def render_files(catalog_dir: Path, out: Path) -> set[str]:
    """``mcpfleet render`` run as a command, as an operator or CI runs it."""
    mcpfleet = str(Path(sys.executable).parent / "mcpfleet")
    render = [mcpfleet, "render", "--out", str(out), "--catalog", str(catalog_dir)]
    result = await asyncio.to_thread(subprocess.run, render, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    files = await asyncio.to_thread(lambda: list(out.rglob("*.yaml")))
    return {p.relative_to(out).as_posix() for p in files}


async def test_an_endpoint_file_as_the_docs_show_it_is_proposed_as_http_and_rendered(
    db: Database, repo: Path, tmp_path: Path
) -> None:
    """The documented file (its URL pointed at a live server) → an ``http`` proposal whose
    catalog validates → merged, ``render`` has the server's Deployment, Service and
    NetworkPolicy."""
    endpoints = tmp_path / "endpoints"
    endpoints.mkdir()
    documented = documented_endpoint_file()
    assert DOC_URL in documented and "image:" in documented
    async with serve_http(tool_server("weather", ["forecast", "alerts"])) as url:
        (endpoints / "weather.yaml").write_text(documented.replace(DOC_URL, url))
        source = FileSource(endpoints, poll_every=0.05)
        async with run_discovery(
            db, [source], catalog_dir=repo / "catalog", repo=repo
        ) as running:

            async def proposed() -> Row | None:
                row = await running.records.get("weather")
                return row if row and "proposal" in row.discovery else None

            row = await eventually_async(proposed, what="registry row and proposal")
    assert row.discovery["proposal"]["status"] == "opened", row.discovery

    review = tmp_path / "review"
    git(repo, "worktree", "add", "-q", str(review), "discovery/add-weather")
    catalog, problems = check_catalog(review / "catalog")
    assert problems == [], problems
    assert catalog is not None
    entry = catalog.server("weather")
    assert isinstance(entry, HttpServer)  # not `remote`: the image lets the fleet run it
    port = int(url.rsplit(":", 1)[1].split("/", 1)[0])
    assert (entry.image, entry.port, entry.path) == ("ghcr.io/example/weather:1.0", port, "/mcp")

    rendered = await render_files(review / "catalog", tmp_path / "rendered")
    for kind in ("deployment", "service", "networkpolicy"):
        assert f"server-weather/{kind}-weather-mcp.yaml" in rendered, (kind, sorted(rendered))
    deployment = YAML(typ="safe").load(
        (tmp_path / "rendered" / "server-weather" / "deployment-weather-mcp.yaml").read_text()
    )
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["image"] == "ghcr.io/example/weather:1.0"
