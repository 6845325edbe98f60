"""The standalone discovery service as its pod runs it: real uvicorn, real PostgreSQL,
the file source pointing at a real MCP server, proposals into a real git clone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from runtime.discovery.app import create_app
from runtime.discovery.config import DiscoveryConfig
from runtime.settings import Settings
from tests.runtime.discovery.mcp_peers import serve_http, tool_server
from tests.runtime.proposals.conftest import git
from tests.waiting import eventually_async


async def test_the_service_finds_a_file_endpoint_serves_it_and_proposes_it(
    pg_url: str, repo: Path, tmp_path: Path
) -> None:
    endpoints = tmp_path / "endpoints"
    endpoints.mkdir()
    settings = Settings(database_url=pg_url, data_dir=tmp_path / "data", catalog=repo / "catalog")
    config = DiscoveryConfig(
        kubernetes="off", endpoints_dir=endpoints, poll_every=0.05, proposals="local"
    )
    async with serve_http(tool_server("notes", ["add_note"])) as mcp_url:
        (endpoints / "notes.yaml").write_text(
            f"name: notes\nurl: {mcp_url}\nimage: ghcr.io/example/notes:1.0\n"
        )
        async with (
            serve_http(create_app(settings, config), path="") as base,
            httpx.AsyncClient(base_url=base) as http,
        ):
            health = (await http.get("/healthz")).json()
            assert health == {"status": "ok", "sources": ["file"], "proposals": "local"}

            async def proposed() -> dict[str, Any] | None:
                response = await http.get("/v0/servers/notes")
                if response.status_code != 200:
                    return None
                meta = response.json()["_meta"]["io.mcpfleet/registry"]
                return meta if "proposal" in meta["discovery"] else None

            meta = await eventually_async(proposed, within=60, what="a proposal")
            metrics = (await http.get("/metrics")).text
    assert meta["health"] == "healthy"
    assert meta["discovery"]["proposal"]["status"] == "opened"
    assert 'mcpfleet_discovery_probes_total{result="ok"}' in metrics
    assert "add_note" in git(repo, "show", "discovery/add-notes:catalog/servers/notes.yaml")
