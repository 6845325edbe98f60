"""The standalone triage service (``mcpfleet serve triage``) and the gateway-hosted parts:
real PostgreSQL, the real local model from the shipped catalog, no local LLM reachable."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from runtime.db import Database
from runtime.settings import Settings
from runtime.store import Principal, TokenStore
from runtime.triage.api import create_app
from runtime.triage.host import FIND_TOOLS, TriageHost
from tests.runtime.triage.conftest import register_tiny_fleet


@pytest.fixture
async def standalone(
    runtime_settings: Settings, db: Database, tiny_tools: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    monkeypatch.setenv("MCPFLEET_OLLAMA_URL", "http://127.0.0.1:9")
    await register_tiny_fleet(db, tiny_tools)
    app = create_app(runtime_settings, refresh_interval=3600)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://triage") as http:
            yield app, http


async def test_the_api_needs_a_token_and_says_why_in_json(
    standalone: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _, http = standalone
    response = await http.post("/api/v1/triage", json={"text": "show the dhcp leases"})
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
    assert response.json()["reason"]


async def test_a_token_limited_to_one_server_only_gets_its_tools(
    standalone: tuple[FastAPI, httpx.AsyncClient], db: Database
) -> None:
    _, http = standalone
    issued = await TokenStore(db).create("ops", scopes=["dnsfilter"])
    response = await http.post(
        "/api/v1/triage",
        json={"text": "show the dhcp leases"},
        headers={"Authorization": f"Bearer {issued.token}"},
    )
    assert response.status_code == 200
    assert {c["server"] for c in response.json()["candidates"]} == {"dnsfilter"}


async def test_health_reports_the_model_and_the_indexed_tools_without_a_token(
    standalone: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _, http = standalone
    body = (await http.get("/api/v1/health")).json()
    assert body == {
        "status": "ok",
        "embeddingModel": "all-MiniLM-L6-v2",
        "tools": 7,
        "localLlm": False,
    }


async def test_find_tools_over_mcp_is_limited_to_the_callers_servers(
    runtime_settings: Settings, db: Database, tiny_tools: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MCPFLEET_OLLAMA_URL", "http://127.0.0.1:9")
    await register_tiny_fleet(db, tiny_tools)
    host = TriageHost(runtime_settings, {"refresh_interval": 3600})
    app = FastAPI()
    app.state.database = db
    everyone = Principal(name="all", scopes=None, expires_at=None)
    router_only = Principal(name="r", scopes=frozenset({"router"}), expires_at=None)
    starting = await host.find_tools({"query": "ping"}, everyone)
    assert starting.is_error
    async with host.lifespan(app):
        assert app.state.triage is host.service
        result = await host.find_tools({"query": "is ads.example.com blocked", "k": 2}, everyone)
        assert not result.is_error
        tools = result.structured_content["tools"]
        assert tools[0]["name"] == "dnsfilter__check_host"
        assert tools[0]["inputSchema"]["required"] == ["hostname"]
        assert json.loads(result.content[0].text) == result.structured_content
        limited = await host.find_tools({"query": "is ads.example.com blocked"}, router_only)
        assert {t["server"] for t in limited.structured_content["tools"]} == {"router"}
        bad = await host.find_tools({"query": "x", "k": 500}, everyone)
        assert bad.is_error
    assert host.service is None
    assert FIND_TOOLS.input_schema["required"] == ["query"]


async def test_the_served_app_wires_a_gateway_tool_caller_and_a_router_client(
    runtime_settings: Settings, db: Database, tiny_tools: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What ``mcpfleet serve triage --gateway-url … --router-url …`` builds."""
    from mcpfleet.commands.triage import standalone_triage_app
    from runtime.router import RouterClient
    from runtime.triage.gateway_client import GatewayToolCaller

    monkeypatch.setenv("MCPFLEET_OLLAMA_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("MCPFLEET_TRIAGE_TOKEN", "mcpf_test")
    await register_tiny_fleet(db, tiny_tools)
    app = standalone_triage_app(
        runtime_settings, "http://gateway:8080", "http://router:8083", auth=False
    )
    async with app.router.lifespan_context(app):
        service = app.state.triage
        assert isinstance(service.tool_caller, GatewayToolCaller)
        assert isinstance(service.completer, RouterClient)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://triage") as http:
            response = await http.post("/api/v1/triage", json={"text": "show the dhcp leases"})
    assert response.status_code == 200
    assert response.json()["candidates"][0]["tool"] == "list_dhcp_leases"
