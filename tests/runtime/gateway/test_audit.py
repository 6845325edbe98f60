"""Every tool call leaves an audit row — after a burst, and after a graceful shutdown.

The rows are read back from the real PostgreSQL the gateway writes to; the calls go to
real upstreams (server-everything over HTTP, ``flaky`` over stdio).
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from runtime.db import Database
from runtime.gateway import GatewayConfig
from runtime.gateway.rest import ON_BEHALF_OF
from runtime.gateway.upstream import EndpointSpec, PoolSettings, ServerSpec
from runtime.settings import Settings
from runtime.store.audit_records import REDACTED
from runtime.store.tokens import TokenStore
from tests.runtime.gateway.peers import Peer, stdio_spec
from tests.runtime.gateway.running import RunningGateway, issue_token, run_gateway

pytestmark = pytest.mark.asyncio(loop_scope="session")


def config_for(everything: Peer) -> GatewayConfig:
    servers = (
        ServerSpec("everything", (EndpointSpec("streamable-http", url=everything.url),)),
        ServerSpec("flaky", (stdio_spec("flaky"),)),
    )
    return GatewayConfig(servers, PoolSettings(health_interval=60), requests_per_minute=100_000)


async def audit_rows(db: Database, client: str) -> list[dict[str, Any]]:
    async with db.connection() as conn:
        cur = await conn.execute(
            "SELECT server, tool, status, latency_ms, arguments, error FROM audit_log "
            "WHERE client = %s ORDER BY at",
            (client,),
        )
        names = [c.name for c in cur.description or ()]
        return [dict(zip(names, row, strict=True)) for row in await cur.fetchall()]


async def burst(gateway: RunningGateway, token: str, calls: int) -> None:
    async with gateway.rest(token) as rest:
        responses = await asyncio.gather(*(
            rest.post("/api/v1/mcp/everything/tools/echo", json={"message": f"m{i}"})
            for i in range(calls)
        ))
    assert all(r.status_code == 200 for r in responses)


async def test_a_burst_of_calls_leaves_one_row_each_with_redacted_arguments(
    module_settings: Settings, module_db: Database, everything_http: Peer
) -> None:
    client = f"burst-{uuid.uuid4().hex[:8]}"
    token = await issue_token(module_db, client)
    async with run_gateway(module_settings, config_for(everything_http)) as gateway:
        await burst(gateway, token, 40)
        async with gateway.mcp(token) as mcp:
            for i in range(10):
                await mcp.call_tool("flaky__ping", {"n": i})
            await mcp.call_tool("flaky__fail", {"reason": "audited failure"})
        async with gateway.rest(token) as rest:
            await rest.post("/api/v1/mcp/everything/tools/missing-tool", json={"secret": "x"})
        await asyncio.wait_for(gateway.app.state.audit.flush(), 10)
        rows = await audit_rows(module_db, client)
    assert len(rows) == 52
    by_status: dict[str, int] = {}
    for row in rows:
        by_status[row["status"]] = by_status.get(row["status"], 0) + 1
    assert by_status == {"ok": 50, "tool_error": 1, "unknown_tool": 1}
    echo = next(r for r in rows if r["tool"] == "echo")
    assert echo["server"] == "everything"
    assert echo["arguments"] == {"message": REDACTED}, "argument values are not stored"
    assert echo["latency_ms"] > 0 and echo["error"] is None
    failed = next(r for r in rows if r["status"] == "tool_error")
    assert "audited failure" in failed["error"]
    unknown = next(r for r in rows if r["status"] == "unknown_tool")
    assert unknown["arguments"] == {"secret": REDACTED}


async def test_no_record_is_lost_on_a_graceful_shutdown(
    module_settings: Settings, module_db: Database, everything_http: Peer
) -> None:
    client = f"shutdown-{uuid.uuid4().hex[:8]}"
    token = await issue_token(module_db, client)
    async with run_gateway(module_settings, config_for(everything_http)) as gateway:
        await burst(gateway, token, 60)
        spill = gateway.app.state.audit.spill_path
        await gateway.stop()  # no flush: the lifespan must write what is queued
    assert len(await audit_rows(module_db, client)) == 60
    assert not spill.exists(), "with the database up, nothing is spilled to disk"


async def test_a_service_token_names_the_end_user_in_the_audit_row_and_only_it_may(
    module_settings: Settings, module_db: Database, everything_http: Peer
) -> None:
    """``X-Mcpfleet-On-Behalf-Of``: recorded for service tokens, refused for any other."""
    service = f"svc-{uuid.uuid4().hex[:8]}"
    plain = f"plain-{uuid.uuid4().hex[:8]}"
    service_token = (await TokenStore(module_db).create(service, service=True)).token
    plain_token = await issue_token(module_db, plain)
    echo = "/api/v1/mcp/everything/tools/echo"
    async with run_gateway(module_settings, config_for(everything_http)) as gateway:
        async with gateway.rest(service_token) as rest:
            for_carol = await rest.post(echo, json={"message": "a"},
                                        headers={ON_BEHALF_OF: "carol@example.com"})
            for_itself = await rest.post(echo, json={"message": "b"})
            blank = await rest.post(echo, json={"message": "c"}, headers={ON_BEHALF_OF: " "})
        async with gateway.rest(plain_token) as rest:
            claimed = await rest.post(echo, json={"message": "d"}, headers={ON_BEHALF_OF: "eve"})
        await asyncio.wait_for(gateway.app.state.audit.flush(), 10)
    assert (for_carol.status_code, for_itself.status_code) == (200, 200)
    assert blank.status_code == 400 and blank.json()["error"]["code"] == "bad_request"
    assert claimed.status_code == 403
    assert "may not act on behalf of others" in claimed.json()["error"]["reason"]
    async with module_db.connection() as conn:
        cur = await conn.execute(
            "SELECT client, on_behalf_of FROM audit_log WHERE client = ANY(%s) ORDER BY at",
            ([service, plain],),
        )
        assert await cur.fetchall() == [(service, "carol@example.com"), (service, None)]
