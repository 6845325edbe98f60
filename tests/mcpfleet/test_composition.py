"""What a gateway pod runs: the gateway hosting triage, so questions and ``find_tools``
answer at the gateway's own address (the LoadBalancer IP and the ingress host)."""

from __future__ import annotations

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from mcpfleet.composition import gateway_app
from runtime.db import Database
from runtime.router import RouterClient
from runtime.settings import Settings
from runtime.store import TokenStore
from runtime.triage.execution import NO_MODEL
from tests.runtime.gateway.running import serve_app


async def test_the_pod_gateway_answers_questions_and_offers_find_tools(
    runtime_settings: Settings, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MCPFLEET_OLLAMA_URL", "http://127.0.0.1:9")  # no local LLM
    monkeypatch.setenv("MCPFLEET_TRIAGE_TOKEN", "mcpf_router_token")
    token = (await TokenStore(db).create("operator")).token
    app = gateway_app(runtime_settings, local=True, router_url="http://127.0.0.1:9")
    async with serve_app(app) as served:
        url = served.url
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as http:
            decided = await http.post("/api/v1/triage", json={"text": "what is a pod"})
            assert decided.status_code == 200, decided.text
            assert decided.json()["route"] == "direct", decided.json()
            answered = await http.post("/api/v1/query", json={"text": "what is a kubernetes pod"})
            assert answered.status_code == 200, answered.text
            assert answered.json()["route"] == "direct"
            # No local LLM, and the router (at --router-url, where nothing listens) cannot
            # answer either: one sentence naming what to configure, never a tool call.
            assert answered.json()["answer"] == NO_MODEL
            assert answered.json()["result"] is None
            question = "design a backup strategy for my kubernetes cluster and its trade-offs"
            escalated = await http.post("/api/v1/query", json={"text": question})
            assert escalated.status_code == 200, escalated.text
            # None of the catalog's servers answers here, so no tool is registered and no
            # triage model is trained yet: every question is answered as `direct`, saying so.
            assert escalated.json()["route"] == "direct"
            assert escalated.json()["decision"]["execution"] == "no tools registered"
            assert escalated.json()["answer"] == NO_MODEL
            assert "cannot reach the router" in escalated.json()["needs"]["models"]
            # Triage's own errors keep their status and reason in the gateway's JSON shape
            # (not the generic 500): here, the first tool index not built yet.
            app.state.triage.fleet._ready.clear()
            building = await http.post("/api/v1/query", json={"text": "what is a pod"})
            assert building.status_code == 503, building.text
            assert building.headers["Retry-After"] == "5"
            error = building.json()["error"]
            assert error["code"] == "triage_unavailable"
            assert "still being built" in error["reason"]
            app.state.triage.fleet._ready.set()
        assert isinstance(app.state.triage.completer, RouterClient)
        async with (
            httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30.0)) as http2,
            Client(streamable_http_client(f"{url}/mcp", http_client=http2)) as client,
        ):
            names = {t.name for t in (await client.list_tools()).tools}
        assert "find_tools" in names


async def test_triage_can_be_left_out_of_the_gateway(runtime_settings: Settings) -> None:
    app = gateway_app(runtime_settings, local=True, triage=False, auth=False)
    paths = set(app.openapi()["paths"])
    assert "/api/v1/mcp/{server}/tools/{tool}" in paths
    assert "/api/v1/query" not in paths
    with_triage = gateway_app(runtime_settings, local=True, auth=False)
    assert "/api/v1/query" in with_triage.openapi()["paths"]


async def test_the_pod_gateway_serves_the_console_and_its_reference_without_a_cdn(
    runtime_settings: Settings, db: Database
) -> None:
    token = (await TokenStore(db).create("reader", scopes=["homelab"])).token
    app = gateway_app(runtime_settings, local=True, triage=False)
    async with serve_app(app) as served, httpx.AsyncClient(base_url=served.url, timeout=60) as http:
        root = await http.get("/")
        assert root.status_code == 303 and root.headers["location"] == "/signin?next=%2F"
        signed = await http.post(
            "/signin", data={"token": token}, headers={"Origin": served.url}, follow_redirects=True
        )
        assert signed.status_code == 200 and "reader · homelab" in signed.text
        assert (await http.get("/tokens")).status_code == 403  # not an admin token
        docs = await http.get("/docs")
        assert docs.status_code == 200 and "cdn." not in docs.text


async def test_without_authentication_the_console_is_the_anonymous_principals(
    runtime_settings: Settings,
) -> None:
    app = gateway_app(runtime_settings, local=True, triage=False, auth=False)
    async with serve_app(app) as served, httpx.AsyncClient(base_url=served.url, timeout=60) as http:
        fleet = await http.get("/")
        assert fleet.status_code == 200 and "anonymous" in fleet.text
        refused = await http.get("/tokens")
        assert refused.status_code == 403 and "admin scope" in refused.text
