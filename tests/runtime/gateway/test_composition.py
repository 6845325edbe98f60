"""How other services compose with the gateway, and how it keeps the registry in step.

* A :class:`GatewayExtension` (what triage uses in the local fleet): its router sits
  behind the same security, its tool joins ``/mcp``, its lifespan sees the gateway's
  resources; the audited :class:`~runtime.contracts.ToolCaller` is on ``app.state``.
* The registry (real ``mcp_servers`` rows): health and tools written each round, and
  servers that discovery registered become upstreams (and leave when their row goes).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import mcp_types as types
import pytest
from fastapi import APIRouter, Depends, FastAPI

from runtime.contracts import ToolCaller, ToolOutcome
from runtime.db import Database
from runtime.gateway import GatewayConfig, GatewayExtension, GatewayTool
from runtime.gateway.deps import get_calls, get_principal
from runtime.gateway.upstream import EndpointSpec, PoolSettings, ServerSpec
from runtime.settings import Settings
from runtime.store.registry import ServerRegistry
from runtime.store.tokens import Principal
from tests.ports import refusing_port
from tests.runtime.gateway.peers import Peer
from tests.runtime.gateway.running import issue_token, run_gateway, text_of, until

pytestmark = pytest.mark.asyncio(loop_scope="session")


def extension(events: list[str]) -> GatewayExtension:
    router = APIRouter()

    @router.post("/api/v1/whoami")
    async def whoami(
        principal: Principal = Depends(get_principal), calls: ToolCaller = Depends(get_calls)
    ) -> dict[str, Any]:
        outcome = await calls.call_tool("everything", "echo", {"message": "x"},
                                        client=principal.name)
        return {"client": principal.name, "echo": outcome.content[0]["text"]}

    async def find_tools(arguments: dict[str, Any], principal: Principal) -> types.CallToolResult:
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=f"{principal.name}:{arguments['q']}")]
        )

    tool = GatewayTool(
        types.Tool(name="find_tools", description="Find fleet tools for a task.",
                   input_schema={"type": "object", "properties": {"q": {"type": "string"}},
                                 "required": ["q"]}),
        find_tools,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        events.append(f"start:{type(app.state.calls).__name__}")
        yield
        events.append("stop")

    return GatewayExtension(routers=[router], tools=[tool], lifespan=lifespan)


async def test_an_extension_routes_tools_and_lifespan_join_the_gateway(
    module_settings: Settings, module_db: Database, everything_http: Peer
) -> None:
    events: list[str] = []
    name = f"triage-{uuid.uuid4().hex[:6]}"
    token = await issue_token(module_db, name)
    servers = (ServerSpec("everything", (EndpointSpec("streamable-http",
                                                      url=everything_http.url),)),)
    config = GatewayConfig(servers, PoolSettings(health_interval=60))
    async with run_gateway(module_settings, config, extensions=(extension(events),)) as gateway:
        assert events == ["start:ToolCalls"]
        async with gateway.rest() as anonymous:
            assert (await anonymous.post("/api/v1/whoami")).status_code == 401
        async with gateway.rest(token) as rest:
            response = await rest.post("/api/v1/whoami")
        assert response.json() == {"client": name, "echo": "Echo: x"}
        async with gateway.mcp(token) as client:
            names = [t.name for t in (await client.list_tools()).tools]
            found = await client.call_tool("find_tools", {"q": "dns"})
        assert "find_tools" in names and "everything__echo" in names
        assert text_of(found) == f"{name}:dns"
        assert "/api/v1/whoami" in gateway.app.openapi()["paths"]
    assert events == ["start:ToolCalls", "stop"]


async def test_the_tool_caller_contract_returns_plain_json_and_is_audited(
    module_settings: Settings, module_db: Database, everything_http: Peer
) -> None:
    servers = (ServerSpec("everything", (EndpointSpec("streamable-http",
                                                      url=everything_http.url),)),)
    client = f"caller-{uuid.uuid4().hex[:6]}"
    async with run_gateway(module_settings, GatewayConfig(servers)) as gateway:
        caller: ToolCaller = gateway.app.state.calls
        outcome = await caller.call_tool("everything", "get-sum", {"a": 1, "b": 2},
                                         client=client)
        await gateway.app.state.audit.flush()
    assert isinstance(outcome, ToolOutcome)
    assert outcome.server == "everything" and not outcome.is_error
    assert outcome.content[0]["type"] == "text" and "3" in outcome.content[0]["text"]
    assert outcome.latency_ms > 0
    async with module_db.connection() as conn:
        cur = await conn.execute("SELECT tool, status FROM audit_log WHERE client = %s",
                                 (client,))
        assert await cur.fetchall() == [("get-sum", "ok")]


async def test_health_and_tools_are_written_to_the_registry(
    module_settings: Settings, module_db: Database, everything_http: Peer
) -> None:
    registry = ServerRegistry(module_db)
    with refusing_port() as port:
        dead = EndpointSpec("streamable-http", url=f"http://127.0.0.1:{port}/mcp")
        servers = (
            ServerSpec("everything", (EndpointSpec("streamable-http", url=everything_http.url),),
                       description="the reference server", kind="http"),
            ServerSpec("gone", (dead,)),
        )
        async with run_gateway(module_settings, GatewayConfig(servers)):
            async def written() -> bool:
                record = await registry.get("gone")
                return record is not None and record.health == "unhealthy"

            await until(written, what="the dead server's health in the registry")
            everything = await registry.get("everything")
            gone = await registry.get("gone")
    assert everything is not None and gone is not None
    assert everything.health == "healthy" and everything.in_catalog
    assert everything.description == "the reference server" and everything.kind == "http"
    assert everything.endpoints == (everything_http.url,)  # a URL, as every writer stores
    assert "echo" in [t.name for t in everything.tools]
    assert gone.last_error and "connect failed" in gone.last_error


async def test_servers_discovery_registers_become_upstreams_and_leave_with_their_row(
    module_settings: Settings, module_db: Database, slow_pair: tuple[Peer, Peer]
) -> None:
    registry = ServerRegistry(module_db)
    token = await issue_token(module_db, f"discovery-{uuid.uuid4().hex[:6]}")
    config = GatewayConfig((), PoolSettings(health_interval=0.2))
    async with run_gateway(module_settings, config) as gateway, gateway.rest(token) as rest:
        await registry.upsert("found", kind="http", transport="streamable-http",
                              endpoints=[slow_pair[0].url], source="discovery",
                              in_catalog=False, description="found by discovery")

        async def callable_() -> bool:
            reply = await rest.post("/api/v1/mcp/found/tools/echo", json={"message": "hi"})
            return reply.status_code == 200

        await until(callable_, what="the discovered server to be federated")
        await registry.delete("found")

        async def gone() -> bool:
            servers = (await rest.get("/api/v1/servers")).json()["servers"]
            return not servers

        await until(gone, what="the server to leave with its registry row")


async def test_a_discovered_http_upstream_never_drops_out_across_rounds_and_restarts(
    module_settings: Settings, module_db: Database, slow_pair: tuple[Peer, Peer]
) -> None:
    """Issue 11, item 6: the gateway used to write the endpoint's label
    (``streamable-http:http://…``) over discovery's URL after the first health round; its
    next registry sync then found no URL and dropped the server (again after each restart).
    """
    registry = ServerRegistry(module_db)
    token = await issue_token(module_db, f"kept-{uuid.uuid4().hex[:6]}")
    url = slow_pair[1].url
    await registry.upsert("kept", kind="http", transport="streamable-http", endpoints=[url],
                          source="discovery", in_catalog=False, description="found")
    config = GatewayConfig((), PoolSettings(health_interval=0.2))

    async def federated_for_rounds(rest: httpx.AsyncClient, rounds: set[object]) -> bool:
        servers = (await rest.get("/api/v1/servers")).json()["servers"]
        if rounds:  # once it has joined, it must never leave
            assert [s["name"] for s in servers] == ["kept"], "dropped out"
        record = await registry.get("kept")
        assert record is not None and record.endpoints == (url,)
        if servers and record.health == "healthy":
            rounds.add(record.last_seen)
        return len(rounds) >= 6  # six health rounds, each followed by a registry sync

    try:
        for _ in range(2):  # the second run is the restart
            async with run_gateway(module_settings, config) as gateway, gateway.rest(token) as rest:
                watch = functools.partial(federated_for_rounds, rest, set())
                await until(watch, what="six health rounds with 'kept' federated")
                reply = await rest.post("/api/v1/mcp/kept/tools/echo", json={"message": "hi"})
                assert reply.status_code == 200, reply.text
    finally:
        await registry.delete("kept")


async def test_a_row_left_with_the_old_label_form_still_federates(
    module_settings: Settings, module_db: Database, slow_pair: tuple[Peer, Peer]
) -> None:
    """Rows an earlier gateway wrote (``<transport>:<url>``) are read as their URL."""
    registry = ServerRegistry(module_db)
    token = await issue_token(module_db, f"legacy-{uuid.uuid4().hex[:6]}")
    await registry.upsert("legacy", kind="http", transport="streamable-http",
                          endpoints=[f"streamable-http:{slow_pair[1].url}"],
                          source="discovery", in_catalog=False, description="old row")
    config = GatewayConfig((), PoolSettings(health_interval=0.2))
    try:
        async with run_gateway(module_settings, config) as gateway, gateway.rest(token) as rest:

            async def callable_() -> bool:
                reply = await rest.post("/api/v1/mcp/legacy/tools/echo", json={"message": "x"})
                return reply.status_code == 200

            await until(callable_, what="the legacy row to be federated")
    finally:
        await registry.delete("legacy")
