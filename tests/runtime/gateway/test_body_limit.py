"""One request-body limit for every route, 413 in the JSON error shape; an upstream's 413
stays 413 (issue 11, item 4).

The gateway runs for real (uvicorn on loopback, real PostgreSQL) with a 64 KiB limit, a
router mounted by an extension (standing for routes other services add later), and two
real ``slow`` SDK servers over streamable HTTP: one with the SDK's default 4 MiB limit,
one started with a 1 KiB limit so it answers 413 itself.
"""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import APIRouter, Request

from catalog import load_catalog
from runtime.db import Database
from runtime.gateway import GatewayConfig, GatewayExtension
from runtime.gateway.upstream import EndpointSpec, PoolSettings, ServerSpec
from runtime.settings import Settings
from tests.runtime.gateway.conftest import SHIPPED_CATALOG
from tests.runtime.gateway.peers import SERVERS, Peer
from tests.runtime.gateway.running import RunningGateway, issue_token, run_gateway

pytestmark = pytest.mark.asyncio(loop_scope="session")

LIMIT = 64 * 1024
JSON = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
MODERN = {"MCP-Protocol-Version": "2026-07-28"}


@pytest.fixture(scope="module")
def small_upstream(peer_logs: Path) -> Iterator[Peer]:
    """A real SDK server that refuses bodies over 1 KiB with its own 413."""
    def command(port: int) -> tuple[list[str], dict[str, str]]:
        script = str(SERVERS / "slow.py")
        argv = [sys.executable, script, "--transport", "streamable-http", "--port", str(port)]
        return argv, {"MCP_TEST_MAX_BODY": "1024"}

    peer = Peer(command, path="/mcp", log=peer_logs / "small.log").start()
    yield peer
    peer.stop()


def later_router() -> APIRouter:
    """A route added by another service: the guard covers it without knowing it."""
    router = APIRouter()

    @router.post("/api/v1/later")
    async def later(request: Request) -> dict[str, Any]:
        return {"bytes": len(await request.body())}

    return router


@pytest.fixture(scope="module")
async def gateway(
    module_settings: Settings, slow_pair: tuple[Peer, Peer], small_upstream: Peer
) -> AsyncIterator[RunningGateway]:
    servers = (
        ServerSpec("roomy", (EndpointSpec("streamable-http", url=slow_pair[0].url),)),
        ServerSpec("small", (EndpointSpec("streamable-http", url=small_upstream.url),)),
    )
    config = GatewayConfig(
        servers,
        PoolSettings(call_timeout=10, health_interval=60),
        requests_per_minute=100_000,
        max_request_body=LIMIT,
    )
    extension = GatewayExtension(routers=[later_router()])
    async with run_gateway(module_settings, config, extensions=(extension,)) as running:
        yield running


@pytest.fixture(scope="module")
async def token(module_db: Database) -> str:
    return await issue_token(module_db, "body-limit")


def padded(size: int) -> bytes:
    """A JSON object of about ``size`` bytes (valid JSON, so only its size is wrong)."""
    return json.dumps({"message": "x" * size}).encode()


ROUTES = [
    ("POST", "/api/v1/mcp/roomy/tools/echo"),
    ("POST", "/api/v1/later"),
    ("POST", "/api/v1/query"),
    ("GET", "/api/v1/servers"),
    ("GET", "/api/v1/health"),
    ("GET", "/v0/servers"),
    ("POST", "/no/such/route"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
async def test_every_route_answers_413_with_the_json_error_for_a_body_over_the_limit(
    gateway: RunningGateway, token: str, method: str, path: str
) -> None:
    async with gateway.http(token) as http:
        response = await http.request(method, path, content=padded(LIMIT), headers=JSON)
    assert response.status_code == 413, response.text
    error = response.json()["error"]
    assert error["code"] == "too_large" and error["limit"] == LIMIT
    assert str(LIMIT) in error["reason"]


async def test_mcp_answers_413_as_a_json_rpc_error_on_both_paths(
    gateway: RunningGateway, token: str
) -> None:
    body = json.dumps(
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/call",
            "params": {"name": "roomy__echo", "arguments": {"message": "x" * LIMIT}},
        }
    ).encode()
    fast = {**JSON, **MODERN, "Mcp-Method": "tools/call", "Mcp-Name": "roomy__echo"}
    async with gateway.http(token) as http:
        sdk = await http.post("/mcp", content=body, headers=JSON)
        relayed = await http.post("/mcp", content=body, headers=fast)
    for response in (sdk, relayed):
        assert response.status_code == 413
        message = response.json()
        assert message["jsonrpc"] == "2.0" and message["id"] is None
        assert message["error"]["data"]["code"] == "too_large"


async def test_a_chunked_body_is_cut_off_at_the_limit(gateway: RunningGateway, token: str) -> None:
    """No Content-Length to check: the guard counts the chunks as they arrive."""

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"message": "'
        for _ in range(64):  # 4 MiB in all, were it read to the end
            yield b"x" * 65536
        yield b'"}'

    async with gateway.http(token) as http:
        response = await http.post("/api/v1/mcp/roomy/tools/echo", content=chunks(), headers=JSON)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"


async def test_a_body_within_the_limit_is_served(gateway: RunningGateway, token: str) -> None:
    async with gateway.http(token) as http:
        call = await http.post(
            "/api/v1/mcp/roomy/tools/echo", content=padded(LIMIT // 2), headers=JSON
        )
        later = await http.post("/api/v1/later", content=b"{}", headers=JSON)
    assert call.status_code == 200, call.text
    assert call.json()["content"][0]["text"] == "x" * (LIMIT // 2)
    assert later.json() == {"bytes": 2}


async def test_an_upstreams_own_413_stays_413_not_502(gateway: RunningGateway, token: str) -> None:
    async with gateway.http(token) as http:
        response = await http.post(
            "/api/v1/mcp/small/tools/echo", content=padded(4096), headers=JSON
        )
        fine = await http.post("/api/v1/mcp/small/tools/echo", json={"message": "ok"})
    assert response.status_code == 413, response.text
    error = response.json()["error"]
    assert error["code"] == "too_large" and error["server"] == "small"
    assert "small refused the request as too large" in error["reason"]
    assert fine.status_code == 200  # the endpoint is fine: no circuit opened


async def test_over_mcp_an_upstreams_413_is_a_tool_error_on_both_paths(
    gateway: RunningGateway, token: str
) -> None:
    """A tool call the upstream refuses is the tool's failure, told to the model in the
    result — the SDK path and the fast path say the same."""
    body = json.dumps(
        {
            "jsonrpc": "2.0",
            "id": 7,
            "method": "tools/call",
            "params": {
                "name": "small__echo",
                "arguments": {"message": "x" * 4096},
                "_meta": {
                    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                    "io.modelcontextprotocol/clientCapabilities": {},
                },
            },
        }
    ).encode()
    fast = {**JSON, **MODERN, "Mcp-Method": "tools/call", "Mcp-Name": "small__echo"}
    async with gateway.http(token) as http:
        sdk = await http.post("/mcp", content=body, headers=JSON)
        relayed = await http.post("/mcp", content=body, headers=fast)
    for response in (sdk, relayed):
        assert response.status_code == 200, response.text
        result = response.json()["result"]
        assert result["isError"] is True
        assert "small refused the request as too large" in result["content"][0]["text"]


async def test_the_limit_comes_from_the_catalog() -> None:
    catalog = load_catalog(SHIPPED_CATALOG)
    assert GatewayConfig.from_catalog(catalog, local=True).max_request_body == 4 * 1024 * 1024
    platform = catalog.platform.model_copy(
        update={
            "gateway": catalog.platform.gateway.model_copy(update={"max_request_body": "512Ki"})
        }
    )
    smaller = catalog.model_copy(update={"platform": platform})
    assert GatewayConfig.from_catalog(smaller, local=True).max_request_body == 512 * 1024
