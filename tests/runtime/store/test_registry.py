"""The server registry: seeded from the catalog, updated by discovery and health checks."""

from __future__ import annotations

import pytest
from mcp.types import Tool, ToolAnnotations

from catalog import load_catalog
from catalog.naming import server_endpoints
from runtime.db import Database
from runtime.store import Drift, ServerRegistry

from ...conftest import SHIPPED_CATALOG


async def test_syncing_the_catalog_declares_every_server_with_its_cluster_endpoints(
    db: Database,
) -> None:
    catalog = load_catalog(SHIPPED_CATALOG)
    registry = ServerRegistry(db)
    await registry.sync_catalog(catalog)
    records = await registry.list_servers()
    assert [r.name for r in records] == sorted(s.name for s in catalog.servers)
    adguard = await registry.get("adguard")
    assert adguard is not None
    assert adguard.endpoints == tuple(server_endpoints(catalog.server("adguard"), catalog.platform))
    assert (adguard.source, adguard.in_catalog, adguard.health) == ("catalog", True, "unknown")


async def test_a_server_dropped_from_the_catalog_stays_but_is_marked_so(db: Database) -> None:
    catalog = load_catalog(SHIPPED_CATALOG)
    registry = ServerRegistry(db)
    await registry.upsert(
        "retired",
        kind="http",
        transport="sse",
        endpoints=["http://old:8080/sse"],
        source="catalog",
        in_catalog=True,
    )
    await registry.sync_catalog(catalog, endpoints=lambda s: [f"http://127.0.0.1/{s.name}"])
    retired = await registry.get("retired")
    caddy = await registry.get("caddy")
    assert retired is not None and not retired.in_catalog
    assert caddy is not None and caddy.endpoints == ("http://127.0.0.1/caddy",)


async def test_discovery_does_not_take_over_a_catalog_server(db: Database) -> None:
    registry = ServerRegistry(db)
    await registry.upsert(
        "unifi",
        kind="stdio",
        transport="stdio",
        endpoints=["http://a/mcp"],
        source="catalog",
        in_catalog=True,
    )
    found = await registry.upsert(
        "unifi",
        kind="http",
        transport="streamable-http",
        endpoints=["http://b/mcp"],
        source="discovery",
        in_catalog=True,
        description="seen live",
    )
    assert found.source == "catalog"
    assert found.endpoints == ("http://b/mcp",) and found.description == "seen live"
    new = await registry.upsert(
        "grafana-mcp",
        kind="http",
        transport="streamable-http",
        endpoints=["http://g/mcp"],
        source="discovery",
        in_catalog=False,
    )
    assert (new.source, new.in_catalog) == ("discovery", False)


async def test_health_tools_and_drift_round_trip(db: Database) -> None:
    registry = ServerRegistry(db)
    await registry.upsert(
        "everything",
        kind="http",
        transport="streamable-http",
        endpoints=["http://e/mcp"],
        source="catalog",
        in_catalog=True,
    )
    tools = [
        Tool(
            name="echo",
            description="Echoes back the input",
            input_schema={"type": "object", "properties": {"message": {"type": "string"}}},
            annotations=ToolAnnotations(read_only_hint=True),
        ),
        Tool(name="add", input_schema={"type": "object"}),
    ]
    assert await registry.set_tools("everything", tools)
    assert await registry.set_health("everything", "healthy")
    healthy = await registry.get("everything")
    assert healthy is not None and healthy.last_seen is not None and healthy.last_error is None
    assert list(healthy.tools) == tools

    assert await registry.set_health("everything", "unhealthy", error="connection refused")
    assert await registry.set_drift("everything", Drift(tools_added=("add",)))
    down = await registry.get("everything")
    assert down is not None
    assert (down.health, down.last_error, down.last_seen) == (
        "unhealthy",
        "connection refused",
        healthy.last_seen,
    )
    assert down.drift.drifted and down.drift.tools_added == ("add",)
    assert [r.name for r in await registry.list_servers(health="unhealthy")] == ["everything"]
    assert await registry.list_servers(health="healthy") == []


async def test_unknown_servers_and_bad_health_are_reported_not_ignored(db: Database) -> None:
    registry = ServerRegistry(db)
    assert not await registry.set_health("ghost", "healthy")
    assert not await registry.set_tools("ghost", [])
    assert await registry.get("ghost") is None
    assert not await registry.delete("ghost")
    with pytest.raises(ValueError, match="health must be one of"):
        await registry.set_health("ghost", "fine")  # type: ignore[arg-type]
