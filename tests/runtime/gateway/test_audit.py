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
from runtime.gateway.upstream import EndpointSpec, PoolSettings, ServerSpec
from runtime.settings import Settings
from runtime.store.audit_records import REDACTED
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
