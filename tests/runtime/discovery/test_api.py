"""The registry API, in the official MCP registry API's shape, over the real registry."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request

from runtime.db import Database
from runtime.discovery.api import registry_namespace, registry_router
from runtime.discovery.records import DiscoveryRecords
from runtime.endpoints.endpoint import Endpoint
from runtime.endpoints.probe import ProbeResult, RetryableProbeError
from runtime.store.tokens import Principal

NAMESPACE = registry_namespace("mcp.shreck.io")
TOOL = {"name": "forecast", "description": "Forecast.", "inputSchema": {"type": "object"}}


def endpoint(name: str) -> Endpoint:
    return Endpoint(
        name=name,
        source="kubernetes",
        origin=f"service tools/{name}-mcp",
        url=f"http://10.0.0.1:8080/{name}",
        image=f"ghcr.io/x/{name}:1",
        namespace="tools",
        service=f"{name}-mcp",
    )


@pytest.fixture
async def client(db: Database) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    app.state.database = db
    app.include_router(registry_router(NAMESPACE, scoped=False))  # discovery's own port
    records = DiscoveryRecords(db)
    result = ProbeResult(tools=(TOOL,), protocol_version="2025-11-25", server_version="1.4.2")
    for name in ("alpha", "bravo", "charlie", "delta", "echo"):
        await records.probed(endpoint(name), result, in_catalog=False)
    await records.failed(endpoint("zulu"), RetryableProbeError("cannot reach it"), in_catalog=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://registry") as http:
        yield http


def test_the_namespace_is_the_annotation_prefix_reversed() -> None:
    assert NAMESPACE == "io.shreck.mcp"


async def test_a_listed_server_has_the_official_server_response_shape(
    client: httpx.AsyncClient,
) -> None:
    body = (await client.get("/v0/servers", params={"search": "alpha"})).json()
    (item,) = body["servers"]
    assert item["server"]["name"] == "io.shreck.mcp/alpha"
    assert item["server"]["version"] == "1.4.2"
    assert item["server"]["remotes"] == [
        {"type": "streamable-http", "url": "http://10.0.0.1:8080/alpha"}
    ]
    official = item["_meta"]["io.modelcontextprotocol.registry/official"]
    assert official["status"] == "active" and official["isLatest"] is True
    fleet = item["_meta"]["io.mcpfleet/registry"]
    assert fleet["health"] == "healthy"
    assert [t["name"] for t in fleet["tools"]] == ["forecast"]
    assert fleet["discovery"]["image"] == "ghcr.io/x/alpha:1"
    assert body["metadata"] == {"count": 1}


async def test_cursor_pagination_walks_every_server_once(client: httpx.AsyncClient) -> None:
    names, cursor, pages = [], None, 0
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        body = (await client.get("/v0/servers", params=params)).json()
        names += [s["_meta"]["io.mcpfleet/registry"]["name"] for s in body["servers"]]
        pages += 1
        cursor = body["metadata"].get("nextCursor")
        if not cursor:
            break
    assert names == ["alpha", "bravo", "charlie", "delta", "echo", "zulu"]
    assert pages == 3


async def test_updated_since_keeps_only_recent_changes(client: httpx.AsyncClient) -> None:
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    assert (await client.get("/v0/servers", params={"updated_since": future})).json()[
        "servers"
    ] == []
    recent = (await client.get("/v0/servers", params={"updated_since": past})).json()
    assert recent["metadata"]["count"] == 6


async def test_one_server_by_short_or_full_name_and_by_version(client: httpx.AsyncClient) -> None:
    short = (await client.get("/v0/servers/bravo")).json()
    full = (await client.get("/v0/servers/io.shreck.mcp%2Fbravo")).json()
    latest = (await client.get("/v0.1/servers/io.shreck.mcp%2Fbravo/versions/latest")).json()
    assert short == full == latest
    versions = (await client.get("/v0.1/servers/bravo/versions")).json()
    assert versions["metadata"]["count"] == 1


async def test_an_unreachable_server_shows_its_last_error(client: httpx.AsyncClient) -> None:
    fleet = (await client.get("/v0/servers/zulu")).json()["_meta"]["io.mcpfleet/registry"]
    assert fleet["health"] == "unhealthy"
    assert fleet["lastError"] == "cannot reach it"


@pytest.mark.parametrize(
    ("path", "params", "status", "message"),
    [
        ("/v0/servers/nope", {}, 404, "Server not found"),
        ("/v0.1/servers/bravo/versions/9.9.9", {}, 404, "Server version not found"),
        ("/v0/servers", {"limit": "0"}, 400, "limit must be between 1 and 100, got 0"),
        ("/v0/servers", {"cursor": "@@@"}, 400, "invalid cursor '@@@'"),
        ("/v0/servers", {"updated_since": "yesterday"}, 400, "updated_since is not an RFC 3339"),
    ],
)
async def test_bad_requests_get_a_json_error_with_the_reason(
    client: httpx.AsyncClient, path: str, params: dict[str, str], status: int, message: str
) -> None:
    response = await client.get(path, params=params)
    assert response.status_code == status
    error = response.json()["error"]
    assert error["code"] == ("not_found" if status == 404 else "bad_request")
    assert error["reason"].startswith(message)


def scoped_app(db: Database, principal: Principal | None) -> FastAPI:
    """The registry as the gateway mounts it: scoped by the principal its middleware set."""
    app = FastAPI()
    app.state.database = db

    @app.middleware("http")
    async def admit(request: Request, call_next: Any) -> Any:
        if principal is not None:
            request.scope.setdefault("state", {})["principal"] = principal
        return await call_next(request)

    app.include_router(registry_router(NAMESPACE))
    return app


async def test_a_scoped_token_sees_only_its_servers_in_lists_pages_and_lookups(
    db: Database, client: httpx.AsyncClient
) -> None:
    principal = Principal("ops", frozenset({"bravo", "delta", "zulu"}), None)
    transport = httpx.ASGITransport(app=scoped_app(db, principal))
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
        listed = (await http.get("/v0/servers")).json()
        names, cursor = [], None
        while True:
            page = (await http.get("/v0/servers", params={"limit": 1, "cursor": cursor})).json()
            names += [s["_meta"]["io.mcpfleet/registry"]["name"] for s in page["servers"]]
            assert page["metadata"]["count"] == len(page["servers"]) == 1
            cursor = page["metadata"].get("nextCursor")
            if cursor is None:
                break
        hidden = await http.get("/v0/servers/alpha")
        shown = await http.get("/v0.1/servers/io.shreck.mcp%2Fbravo/versions/latest")
    assert [s["_meta"]["io.mcpfleet/registry"]["name"] for s in listed["servers"]] == [
        "bravo", "delta", "zulu"
    ]
    assert names == ["bravo", "delta", "zulu"]  # full pages, no empty page at the end
    assert hidden.status_code == 404 and hidden.json()["error"]["reason"] == "Server not found"
    assert shown.status_code == 200


async def test_without_an_admitted_caller_the_scoped_registry_shows_nothing(
    db: Database, client: httpx.AsyncClient
) -> None:
    transport = httpx.ASGITransport(app=scoped_app(db, None))
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
        listed = (await http.get("/v0/servers")).json()
        one = await http.get("/v0/servers/alpha")
    assert listed == {"servers": [], "metadata": {"count": 0}}
    assert one.status_code == 404



async def test_a_discovered_service_is_found_by_the_seeds_namespace_slash_name(
    client: httpx.AsyncClient,
) -> None:
    """The seed registers discovered Services as ``namespace/name``; that name finds them."""
    by_seed_name = await client.get("/v0/servers/tools/bravo-mcp")
    assert by_seed_name.status_code == 200
    fleet = by_seed_name.json()["_meta"]["io.mcpfleet/registry"]
    assert fleet["name"] == "bravo"
    assert fleet["discovery"]["qualifiedName"] == "tools/bravo-mcp"
    assert (await client.get("/v0/servers/io.shreck.mcp/bravo")).status_code == 200
    assert (await client.get("/v0/servers/other/bravo-mcp")).status_code == 404
