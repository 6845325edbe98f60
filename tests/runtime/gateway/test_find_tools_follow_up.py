"""Triage learns from ``find_tools``: a search, then a call to a tool it offered, is
remembered as a confirmed question → tool pair (source ``find_tools``).

A real gateway hosting triage, the real ``server-everything`` upstream over streamable
HTTP, the official MCP client, and real PostgreSQL + pgvector for the memory.
"""

from __future__ import annotations

from typing import Any

import pytest

from runtime.db import Database
from runtime.gateway import GatewayConfig, GatewayExtension, GatewayTool
from runtime.gateway.upstream import EndpointSpec, PoolSettings, ServerSpec
from runtime.settings import Settings
from runtime.triage.host import FIND_TOOLS, TriageHost
from tests.runtime.gateway.peers import Peer
from tests.runtime.gateway.running import issue_token, run_gateway, text_of, until


async def confirmations(db: Database, client: str) -> list[tuple[Any, ...]]:
    async with db.connection() as conn:
        cur = await conn.execute(
            "SELECT question, server, tool, source FROM triage_confirmations"
            " WHERE client = %s ORDER BY id",
            (client,),
        )
        return await cur.fetchall()


async def test_a_call_that_follows_find_tools_is_remembered_once(
    module_settings: Settings,
    module_db: Database,
    everything_http: Peer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MCPFLEET_OLLAMA_URL", "http://127.0.0.1:9")  # no local LLM here
    servers = (
        ServerSpec("everything", (EndpointSpec("streamable-http", url=everything_http.url),)),
    )
    config = GatewayConfig(servers, PoolSettings(health_interval=60), requests_per_minute=100_000)
    host = TriageHost(module_settings, {"refresh_interval": 3600})
    triage = GatewayExtension(
        routers=[host.router],
        tools=[GatewayTool(definition=FIND_TOOLS, handler=host.find_tools)],
        lifespan=host.lifespan,
        error_handlers=host.error_handlers,
    )
    learner, bystander = "learner-follow-up", "bystander-follow-up"
    async with run_gateway(module_settings, config, extensions=(triage,)) as gateway:
        token = await issue_token(module_db, learner)
        other = await issue_token(module_db, bystander)
        question = "repeat my message back to me"
        async with gateway.mcp(token) as client:
            # Not a follow-up: no search before it.
            await client.call_tool("everything__echo", {"message": "before any search"})
            found = await client.call_tool("find_tools", {"query": question, "k": 3})
            assert not found.is_error, text_of(found)
            offered = [t["name"] for t in found.structured_content["tools"]]
            assert "everything__echo" in offered, offered
            echoed = await client.call_tool("everything__echo", {"message": "hi"})
            assert text_of(echoed) == "Echo: hi"
            await client.call_tool("everything__echo", {"message": "again"})  # counted once

            rows = await until(lambda: confirmations(module_db, learner), what="a memory row")
            assert rows == [(question, "everything", "echo", "find_tools")]

            # A call to a tool the search did not offer teaches nothing.
            narrow = await client.call_tool("find_tools", {"query": "add two numbers", "k": 1})
            (only,) = [t["name"] for t in narrow.structured_content["tools"]]
            unoffered = "everything__echo" if only != "everything__echo" else "everything__get-env"
            await client.call_tool(unoffered, {"message": "x"} if "echo" in unoffered else {})
        # Another client's call does not follow this client's search.
        async with gateway.mcp(other) as client:
            await client.call_tool("everything__echo", {"message": "not my search"})
        await host.service.settle()
        assert await confirmations(module_db, learner) == rows
        assert await confirmations(module_db, bystander) == []

        # What was remembered now speaks for the question: memory recalls the tool.
        vector = await host.service.embed(question)
        recalled = await host.service.fleet.memory.recall(vector)
        assert recalled.get("everything/echo", 0.0) > 0.99
