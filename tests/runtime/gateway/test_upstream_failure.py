"""An upstream that dies mid-run: its circuit opens, the others carry on, it comes back.

The dying server is the ``flaky`` SDK server in its own process over streamable HTTP:
its ``crash`` tool kills the process in the middle of the call, as a crash would; the
test then starts it again on the same port. Health checks run every 0.2 s here.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from runtime.db import Database
from runtime.gateway import GatewayConfig
from runtime.gateway.upstream import EndpointSpec, PoolSettings, ServerSpec
from runtime.settings import Settings
from tests.runtime.gateway.peers import Peer
from tests.runtime.gateway.running import RunningGateway, issue_token, run_gateway, until

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture
async def setup(
    module_settings: Settings,
    module_db: Database,
    peer_factory: Any,
    slow_pair: tuple[Peer, Peer],
) -> AsyncIterator[tuple[RunningGateway, Peer, str]]:
    flaky: Peer = peer_factory("flaky")
    servers = (
        ServerSpec("flaky", (EndpointSpec("streamable-http", url=flaky.url),)),
        ServerSpec("slow", (EndpointSpec("streamable-http", url=slow_pair[0].url),)),
    )
    # Health checks every 0.2 s; connect and list get generous time (a dead server refuses
    # at once, and a loaded machine must not make the healthy one look dead).
    pool = PoolSettings(call_timeout=5, health_interval=0.2, connect_timeout=30,
                        list_timeout=30, breaker_threshold=2, breaker_cool_down=0.5)
    config = GatewayConfig(servers, pool, requests_per_minute=100_000)
    token = await issue_token(module_db, f"failure-client-{uuid.uuid4().hex[:8]}")
    async with run_gateway(module_settings, config) as running:
        yield running, flaky, token


async def server_view(gateway: RunningGateway, token: str, name: str) -> dict[str, Any]:
    async with gateway.rest(token) as rest:
        servers = (await rest.get("/api/v1/servers")).json()["servers"]
    return next(s for s in servers if s["name"] == name)


async def federated_names(gateway: RunningGateway, token: str) -> set[str]:
    async with gateway.mcp(token) as client:
        return {tool.name for tool in (await client.list_tools()).tools}


async def test_a_dying_upstream_opens_its_circuit_spares_the_others_and_recovers(
    setup: tuple[RunningGateway, Peer, str],
) -> None:
    gateway, flaky, token = setup
    async with gateway.rest(token) as rest:
        assert (await rest.post("/api/v1/mcp/flaky/tools/ping", json={})).status_code == 200

        crashed = await rest.post("/api/v1/mcp/flaky/tools/crash", json={})
        assert crashed.status_code == 502, crashed.text
        assert crashed.json()["error"]["code"] == "upstream_failed"

        async def circuit_open() -> bool:
            view = await server_view(gateway, token, "flaky")
            return view["endpoints"][0]["circuit"] in ("open", "half_open")

        await until(circuit_open, within=60, what="flaky's circuit to open")
        refused = await rest.post("/api/v1/mcp/flaky/tools/ping", json={})
        assert refused.status_code in (502, 503)

        # The rest of the fleet is untouched, over REST and MCP.
        for _ in range(5):
            ok = await rest.post("/api/v1/mcp/slow/tools/echo", json={"message": "still"})
            assert ok.status_code == 200 and ok.json()["content"][0]["text"] == "still"
        names = await federated_names(gateway, token)
        assert "slow__echo" in names and not any(n.startswith("flaky__") for n in names)
        metrics = (await rest.get("/metrics")).text
        assert re.search(r'mcp_upstream_up\{server="flaky"\} 0\.0', metrics)
        assert re.search(r'mcp_upstream_up\{server="slow"\} 1\.0', metrics)

        flaky.start()  # the same server comes back on the same port

        async def recovered() -> bool:
            view = await server_view(gateway, token, "flaky")
            return view["health"] == "healthy" and view["endpoints"][0]["circuit"] == "closed"

        await until(recovered, within=60, what="flaky to be probed back to healthy")
        back = await rest.post("/api/v1/mcp/flaky/tools/ping", json={})
        assert back.status_code == 200 and back.json()["content"][0]["text"] == "pong"
    assert "flaky__ping" in await federated_names(gateway, token)


async def test_a_call_in_flight_when_the_upstream_dies_ends_with_the_connection_loss(
    setup: tuple[RunningGateway, Peer, str],
) -> None:
    """The connection loss ends the waiting call, not the call timeout (5 s here): a timeout
    would say "within 5s". (How long it takes is not asserted: a loaded machine varies.)"""
    gateway, _, token = setup
    async with gateway.mcp(token) as client:
        result = await client.call_tool("flaky__crash", {})
    assert result.is_error
    assert "flaky" in result.content[0].text  # type: ignore[union-attr]
    assert "within" not in result.content[0].text  # type: ignore[union-attr]
