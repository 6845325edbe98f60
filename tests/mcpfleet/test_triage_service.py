"""Triage as a service of its own (``mcpfleet serve triage --gateway-url … --router-url …``)
calls tools through the real gateway and escalates to the real router.

Three real services on loopback, one PostgreSQL: the gateway (its upstream the repo's
homelab example server over stdio), the model router (no provider keys and no Ollama, so
every model is unusable and says why), and triage as ``standalone_triage_app`` builds it.
"""

from __future__ import annotations

import sys

import httpx
import pytest

from mcpfleet.commands.triage import standalone_triage_app
from runtime.db import Database
from runtime.gateway import GatewayConfig
from runtime.gateway.upstream import EndpointSpec, PoolSettings, ServerSpec
from runtime.router import create_app as create_router_app
from runtime.settings import Settings
from runtime.store import ServerRegistry, TokenStore
from runtime.triage.execution import NO_MODEL
from tests.runtime.gateway.running import run_gateway, serve_app, until

HOMELAB = EndpointSpec(
    "stdio", command=sys.executable, args=("-m", "runtime.examples.homelab_server")
)


async def test_standalone_triage_calls_tools_through_the_gateway_and_escalates_to_the_router(
    runtime_settings: Settings, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in ("ANTHROPIC_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("MCPFLEET_OLLAMA_URL", "http://127.0.0.1:9")  # no local LLM
    tokens = TokenStore(db)
    service_token = (await tokens.create("triage-svc", service=True)).token
    user_token = (await tokens.create("alice")).token
    monkeypatch.setenv("MCPFLEET_TRIAGE_TOKEN", service_token)
    pool = PoolSettings(call_timeout=60, connect_timeout=60, health_interval=60)
    config = GatewayConfig((ServerSpec("homelab", (HOMELAB,), kind="stdio"),), pool)
    async with (
        run_gateway(runtime_settings, config) as gateway,
        serve_app(create_router_app(runtime_settings)) as router,
    ):

        async def listed() -> bool:  # the gateway writes the registry triage indexes
            row = await ServerRegistry(db).get("homelab")
            return row is not None and bool(row.tools)

        await until(listed, within=60, what="homelab's tools in the registry")
        app = standalone_triage_app(runtime_settings, gateway.url, router.url, auth=True)
        async with serve_app(app) as triage:
            headers = {"Authorization": f"Bearer {user_token}"}
            async with httpx.AsyncClient(base_url=triage.url, headers=headers, timeout=120) as http:
                tool = await http.post(
                    "/api/v1/query", json={"text": "how much disk space is free on /"}
                )
                escalated = await http.post(
                    "/api/v1/query",
                    json={"text": "design a backup strategy for my cluster and its trade-offs"},
                )
        await gateway.app.state.audit.flush()
    assert tool.status_code == 200, tool.text
    assert (tool.json()["route"], tool.json()["servers"]) == ("tool", ["homelab"])
    assert "free_bytes" in str(tool.json()["result"])
    async with db.connection() as conn:
        cur = await conn.execute("SELECT client, server, tool, on_behalf_of FROM audit_log")
        assert await cur.fetchall() == [("triage-svc", "homelab", "disk_usage", "alice")]
    assert escalated.status_code == 200, escalated.text
    assert escalated.json()["route"] == "escalate"
    assert escalated.json()["answer"] == NO_MODEL  # one sentence naming what to configure
    reason = escalated.json()["needs"]["models"]
    assert "ANTHROPIC_API_KEY is not set" in reason, "the router's own reason came back"
