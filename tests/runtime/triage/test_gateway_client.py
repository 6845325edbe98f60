"""The ToolCaller over the gateway's REST API, against the real gateway.

The gateway runs for real (uvicorn on loopback, its own pool on a fresh PostgreSQL
database, auth on); its upstreams are the SDK test servers over stdio. Refusals come back
in the gateway's own nested error shape, and the audit rows are read back from the
database the gateway wrote them to.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from runtime.db import Database
from runtime.gateway import GatewayConfig
from runtime.gateway.upstream import PoolSettings, ServerSpec
from runtime.settings import Settings
from runtime.store import TokenStore
from runtime.triage.gateway_client import GatewayToolCaller, GatewayUnreachable
from tests.ports import refusing_port
from tests.runtime.gateway.peers import stdio_spec
from tests.runtime.gateway.running import RunningGateway, run_gateway


@pytest.fixture
async def gateway(runtime_settings: Settings) -> AsyncIterator[RunningGateway]:
    servers = tuple(ServerSpec(name, (stdio_spec(name),)) for name in ("flaky", "slow"))
    # generous: a slow start of a stdio child on a loaded machine is not what is tested
    pool = PoolSettings(call_timeout=60, connect_timeout=60, health_interval=60)
    async with run_gateway(runtime_settings, GatewayConfig(servers, pool)) as running:
        yield running


async def audit_rows(db: Database, client: str) -> list[tuple[str, str, str | None]]:
    async with db.connection() as conn:
        cur = await conn.execute(
            "SELECT tool, status, on_behalf_of FROM audit_log WHERE client = %s ORDER BY at",
            (client,),
        )
        return list(await cur.fetchall())


async def test_a_call_returns_the_tools_outcome_and_the_audit_names_the_end_user(
    gateway: RunningGateway, db: Database
) -> None:
    token = (await TokenStore(db).create("triage-service", service=True)).token
    async with httpx.AsyncClient(timeout=60) as http:
        caller = GatewayToolCaller(gateway.url + "/", http, token=token)
        pong = await caller.call_tool("flaky", "ping", {}, client="alice")
        counted = await caller.call_tool("flaky", "count", {}, client="alice")
        failed = await caller.call_tool("flaky", "fail", {"reason": "no"}, client="bob")
    assert pong.content == [{"type": "text", "text": "pong"}]
    assert not pong.is_error and pong.latency_ms > 0
    assert counted.structured == {"result": 1}
    assert failed.is_error and failed.content[0]["text"].endswith("fail: no")
    await gateway.app.state.audit.flush()
    assert await audit_rows(db, "triage-service") == [
        ("ping", "ok", "alice"),
        ("count", "ok", "alice"),
        ("fail", "tool_error", "bob"),
    ]


async def test_a_refusal_carries_the_gateways_reason_not_none(
    gateway: RunningGateway, db: Database
) -> None:
    token = (await TokenStore(db).create("slow-only", scopes=["slow"], service=True)).token
    async with httpx.AsyncClient(timeout=60) as http:
        caller = GatewayToolCaller(gateway.url, http, token=token)
        with pytest.raises(GatewayUnreachable) as scoped:
            await caller.call_tool("flaky", "ping", {}, client="alice")
        with pytest.raises(GatewayUnreachable) as unknown:
            await caller.call_tool("slow", "no-such-tool", {}, client="alice")
        with pytest.raises(GatewayUnreachable) as anonymous:
            await GatewayToolCaller(gateway.url, http).call_tool("slow", "echo", {}, client="a")
    assert str(scoped.value) == (
        "the gateway refused the call (403): token 'slow-only' may not use server 'flaky'"
    )
    assert "(404)" in str(unknown.value) and "no-such-tool" in str(unknown.value)
    assert "(401)" in str(anonymous.value) and "None" not in str(anonymous.value)


async def test_a_token_that_is_not_a_service_token_may_not_name_an_end_user(
    gateway: RunningGateway, db: Database
) -> None:
    token = (await TokenStore(db).create("plain-client")).token
    async with httpx.AsyncClient(timeout=60) as http:
        caller = GatewayToolCaller(gateway.url, http, token=token)
        with pytest.raises(GatewayUnreachable, match=r"\(403\).*may not act on behalf of others"):
            await caller.call_tool("flaky", "ping", {}, client="alice")
    await gateway.app.state.audit.flush()
    assert await audit_rows(db, "plain-client") == [], "refused before any call was made"


async def test_an_unreachable_gateway_is_reported() -> None:
    with refusing_port() as port:
        async with httpx.AsyncClient() as http:
            caller = GatewayToolCaller(f"http://127.0.0.1:{port}", http)
            with pytest.raises(GatewayUnreachable, match="cannot reach the gateway"):
                await caller.call_tool("flaky", "x", {}, client="bob")
