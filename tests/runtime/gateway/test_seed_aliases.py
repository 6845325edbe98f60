"""The seed plan's spellings of the gateway's endpoints, as its examples send them.

``kubernetes-prod`` is ``tests/fixtures/servers/kubernetes_pods.py``, which stands in for
kubernetes-mcp-server (it needs a Kubernetes API to answer) with that server's
``pods_list_in_namespace`` tool; everything else is the real gateway, hosting real triage
as a pod does, over real TCP. Every status a test sees must be in the OpenAPI document.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from mcpfleet.composition import triage_extension
from runtime.db import Database
from runtime.gateway import GatewayConfig
from runtime.gateway.upstream import EndpointSpec, PoolSettings, ServerSpec
from runtime.settings import Settings
from tests.runtime.gateway.peers import Peer, python_peer
from tests.runtime.gateway.running import RunningGateway, issue_token, run_gateway

pytestmark = pytest.mark.asyncio(loop_scope="session")

CALL = "/api/v1/mcp/{server}/tools/{tool}"
CURL_FORM = {"Content-Type": "application/x-www-form-urlencoded"}
"""What ``curl -d`` sends when the command gives no Content-Type."""


@pytest.fixture(scope="module")
def kubernetes_pods(peer_logs: Path) -> Iterator[Peer]:
    peer = python_peer("kubernetes_pods", "streamable-http", peer_logs).start()
    yield peer
    peer.stop()


@pytest.fixture(scope="module")
async def gateway(
    module_settings: Settings, everything_http: Peer, kubernetes_pods: Peer
) -> AsyncIterator[RunningGateway]:
    servers = (
        ServerSpec("everything", (EndpointSpec("streamable-http", url=everything_http.url),)),
        ServerSpec("kubernetes-prod", (EndpointSpec("streamable-http", url=kubernetes_pods.url),)),
    )
    config = GatewayConfig(
        servers,
        PoolSettings(call_timeout=30, health_interval=60, connect_timeout=30),
        requests_per_minute=100_000,
        tool_aliases={"kubernetes-prod": {"list_pods": "pods_list_in_namespace"}},
    )
    triage, _ = triage_extension(module_settings)  # what serves /api/v1/query in a pod
    async with run_gateway(module_settings, config, extensions=(triage,)) as running:
        yield running


@pytest.fixture(scope="module")
async def token(module_db: Database) -> str:
    return await issue_token(module_db, "seed-examples")


def documented(gateway: RunningGateway, method: str, path: str, status: int) -> bool:
    operation = gateway.app.openapi()["paths"][path][method.lower()]
    return str(status) in operation["responses"]


async def test_the_seeds_phase_3_curl_reaches_the_server_by_its_kubernetes_name(
    gateway: RunningGateway, token: str
) -> None:
    """``curl -X POST http://10.30.0.91:8080/api/v1/mcp/kubernetes-prod-mcp/tools/list_pods
    -H "Content-Type: application/json" -d '{"namespace": "default"}'`` (plus the bearer
    token the plan's security section requires)."""
    async with gateway.http(token) as http:
        response = await http.post(
            "/api/v1/mcp/kubernetes-prod-mcp/tools/list_pods",
            content=b'{"namespace": "default"}',
            headers={"Content-Type": "application/json"},
        )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["server"], body["tool"]) == ("kubernetes-prod", "pods_list_in_namespace")
    assert "NAMESPACE=default NAME=web-0" in body["content"][0]["text"]
    assert documented(gateway, "post", CALL, 200)


async def test_the_seeds_direct_query_is_the_tool_call_even_sent_as_curl_d(
    gateway: RunningGateway, token: str
) -> None:
    """``curl -X POST http://mcp-gateway:8080/api/v1/query -H "Authorization: Bearer $TOKEN"
    -d '{"server": "kubernetes-prod-mcp", "tool": "list_pods", "args": {...}}'``."""
    body = (
        b'{"server": "kubernetes-prod-mcp", "tool": "list_pods", '
        b'"args": {"namespace": "default"}}'
    )
    async with gateway.http(token) as http:
        response = await http.post("/api/v1/query", content=body, headers=CURL_FORM)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert (answer["server"], answer["tool"]) == ("kubernetes-prod", "pods_list_in_namespace")
    assert "NAMESPACE=default" in answer["content"][0]["text"]
    assert documented(gateway, "post", "/api/v1/query", 200)


async def test_health_and_api_v1_metrics_answer_without_a_token(gateway: RunningGateway) -> None:
    """``ab -n 1000 -c 10 http://mcp-gateway:8080/health`` and the seed's metrics path."""
    async with gateway.http() as http:
        health = await http.get("/health")
        metrics = await http.get("/api/v1/metrics")
    assert health.status_code == 200
    assert health.json()["serversTotal"] == 2
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain")
    for series in (
        "mcp_upstream_up",
        "ollama_request_duration_seconds",
        "pgvector_query_duration_seconds",
    ):
        assert series in metrics.text, series
    assert documented(gateway, "get", "/health", 200)
    assert documented(gateway, "get", "/api/v1/metrics", 200)


async def test_an_alias_never_widens_a_tokens_scope(
    gateway: RunningGateway, module_db: Database
) -> None:
    narrow = await issue_token(module_db, "everything-only", scopes=["everything"])
    async with gateway.http(narrow) as http:
        response = await http.post(
            "/api/v1/mcp/kubernetes-prod-mcp/tools/list_pods", json={"namespace": "default"}
        )
        direct = await http.post(
            "/api/v1/query", json={"server": "kubernetes-prod", "tool": "list_pods"}
        )
    assert response.status_code == direct.status_code == 403
    assert "kubernetes-prod" in response.json()["error"]["reason"]
    assert documented(gateway, "post", CALL, 403)


async def test_a_name_that_is_no_server_and_a_tool_that_is_no_alias_stay_404(
    gateway: RunningGateway, token: str
) -> None:
    async with gateway.http(token) as http:
        server = await http.post("/api/v1/mcp/nothing-mcp/tools/echo", json={})
        tool = await http.post("/api/v1/mcp/kubernetes-prod-mcp/tools/list_nodes", json={})
    assert (server.status_code, tool.status_code) == (404, 404)
    assert documented(gateway, "post", CALL, 404)


async def test_a_question_still_goes_to_triage_on_the_same_path(
    gateway: RunningGateway, token: str
) -> None:
    """``curl -X POST …/api/v1/query -d '{"text": "Show me pods in namespace monitoring"}'``."""
    async with gateway.http(token) as http:
        response = await http.post(
            "/api/v1/query",
            content=b'{"text": "Show me pods in namespace monitoring"}',
            headers=CURL_FORM,
        )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert "route" in answer and "server" not in answer  # triage's answer, not a tool call
    assert documented(gateway, "post", "/api/v1/query", 200)


async def test_a_real_form_body_is_not_mistaken_for_json(
    gateway: RunningGateway, token: str
) -> None:
    async with gateway.http(token) as http:
        as_curl = await http.post(
            "/api/v1/mcp/everything/tools/echo", content=b'{"message": "hi"}', headers=CURL_FORM
        )
        form = await http.post(
            "/api/v1/mcp/everything/tools/echo", content=b"message=hi", headers=CURL_FORM
        )
    assert as_curl.status_code == 200, as_curl.text
    assert as_curl.json()["content"] == [{"type": "text", "text": "Echo: hi"}]
    assert form.status_code == 400
    assert documented(gateway, "post", CALL, 400)


async def test_the_openapi_document_describes_every_alias(gateway: RunningGateway) -> None:
    doc = gateway.app.openapi()
    for path in ("/health", "/api/v1/metrics"):
        assert "security" not in doc["paths"][path]["get"], path
    call = doc["paths"][CALL]["post"]
    assert "`<server>-mcp`" in call["description"]
    query = doc["paths"]["/api/v1/query"]["post"]  # triage's, plus the seed's direct call
    bodies = query["requestBody"]["content"]["application/json"]["schema"]["anyOf"]
    assert "DirectToolCall" in [b.get("title") for b in bodies]
    assert "{\"server\", \"tool\", \"args\"}" in query["description"]
    assert query["security"] == [{"bearer": []}]
    assert {"200", "403", "404", "502", "503", "504"} <= set(query["responses"])
    assert "toolAliases" in call["description"]
    assert "curl -d" in call["description"]
