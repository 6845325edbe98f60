"""Two gateway replicas on one database: a shared rate limit and no sticky sessions.

Both replicas are full apps with their own database pools (as two pods would be),
talking to the same real PostgreSQL and the same real upstream (server-everything).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from runtime.db import Database
from runtime.gateway import GatewayConfig
from runtime.gateway.upstream import EndpointSpec, PoolSettings, ServerSpec
from runtime.settings import Settings
from tests.runtime.gateway.peers import Peer
from tests.runtime.gateway.running import RunningGateway, issue_token, run_gateway

pytestmark = pytest.mark.asyncio(loop_scope="session")

LIMIT = 5
ACCEPT = {"Accept": "application/json, text/event-stream"}


@pytest.fixture(scope="module")
async def replicas(
    module_settings: Settings, everything_http: Peer
) -> AsyncIterator[tuple[RunningGateway, RunningGateway]]:
    servers = (
        ServerSpec("everything", (EndpointSpec("streamable-http", url=everything_http.url),)),
    )
    config = GatewayConfig(servers, PoolSettings(health_interval=60), requests_per_minute=LIMIT)
    async with run_gateway(module_settings, config) as first, run_gateway(
        module_settings, config
    ) as second:
        yield first, second


async def fresh_token(db: Database) -> str:
    return await issue_token(db, f"client-{uuid.uuid4().hex[:8]}")


async def test_the_request_over_the_limit_gets_429_with_retry_after(
    replicas: tuple[RunningGateway, RunningGateway], module_db: Database
) -> None:
    token = await fresh_token(module_db)
    async with replicas[0].rest(token) as rest:
        statuses = [(await rest.get("/api/v1/servers")).status_code for _ in range(LIMIT)]
        refused = await rest.get("/api/v1/servers")
    assert statuses == [200] * LIMIT
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.json()["error"]["code"] == "rate_limited"
    assert refused.json()["error"]["retry_after"] == int(refused.headers["retry-after"])


async def test_the_limit_holds_across_two_replicas(
    replicas: tuple[RunningGateway, RunningGateway], module_db: Database
) -> None:
    token = await fresh_token(module_db)
    first, second = replicas
    async with first.rest(token) as one, second.rest(token) as two:
        statuses = [(await one.get("/api/v1/servers")).status_code for _ in range(3)]
        statuses += [(await two.get("/api/v1/servers")).status_code for _ in range(2)]
        over_one = await one.get("/api/v1/servers")
        over_two = await two.get("/api/v1/servers")
    assert statuses == [200] * LIMIT
    assert (over_one.status_code, over_two.status_code) == (429, 429)


async def test_clients_are_limited_separately(
    replicas: tuple[RunningGateway, RunningGateway], module_db: Database
) -> None:
    busy, quiet = await fresh_token(module_db), await fresh_token(module_db)
    async with replicas[0].rest(busy) as rest:
        for _ in range(LIMIT + 1):
            await rest.get("/api/v1/servers")
    async with replicas[1].rest(quiet) as rest:
        assert (await rest.get("/api/v1/servers")).status_code == 200


async def test_the_mcp_endpoint_answers_429_with_a_json_rpc_error(
    replicas: tuple[RunningGateway, RunningGateway], module_db: Database
) -> None:
    token = await fresh_token(module_db)
    ping = {"jsonrpc": "2.0", "id": 7, "method": "tools/list"}
    headers = {**ACCEPT, "MCP-Protocol-Version": "2025-11-25"}
    async with replicas[0].http(token) as http:
        statuses = [(await http.post("/mcp", json=ping, headers=headers)).status_code
                    for _ in range(LIMIT)]
        refused = await http.post("/mcp", json=ping, headers=headers)
    assert statuses == [200] * LIMIT
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
    assert refused.json()["error"]["data"]["code"] == "rate_limited"


async def test_a_2025_client_can_move_between_replicas_mid_conversation(
    replicas: tuple[RunningGateway, RunningGateway], module_db: Database
) -> None:
    """initialize on one replica, then carry on at the other: no session to lose."""
    token = await fresh_token(module_db)
    first, second = replicas
    initialize = {
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                   "clientInfo": {"name": "roaming", "version": "1"}},
    }
    after = {**ACCEPT, "MCP-Protocol-Version": "2025-11-25"}
    async with first.http(token) as one, second.http(token) as two:
        hello = await one.post("/mcp", json=initialize, headers=ACCEPT)
        done = await two.post(
            "/mcp", json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=after
        )
        tools = await two.post(
            "/mcp", json={"jsonrpc": "2.0", "id": 2, "method": "tools/list"}, headers=after
        )
        called = await one.post(
            "/mcp",
            json={"jsonrpc": "2.0", "id": 3, "method": "tools/call",
                  "params": {"name": "everything__echo", "arguments": {"message": "roam"}}},
            headers=after,
        )
    assert hello.status_code == 200 and "mcp-session-id" not in hello.headers
    assert done.status_code == 202
    assert "everything__echo" in [t["name"] for t in tools.json()["result"]["tools"]]
    assert called.json()["result"]["content"][0]["text"] == "Echo: roam"
