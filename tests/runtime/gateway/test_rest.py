"""The REST API in-process over ASGI, against real upstreams, and its OpenAPI document.

Every status a test observes is checked against the OpenAPI document too, so the doc
cannot claim less (or other) than the app really answers.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi.routing import APIRoute
from starlette.routing import Route

from runtime.db import Database
from runtime.gateway import GatewayConfig
from runtime.gateway.upstream import EndpointSpec, PoolSettings, ServerSpec
from runtime.settings import Settings
from tests.runtime.gateway.peers import Peer, free_port, stdio_spec
from tests.runtime.gateway.running import RunningGateway, issue_token, run_gateway

pytestmark = pytest.mark.asyncio(loop_scope="session")

CALL = "/api/v1/mcp/{server}/tools/{tool}"


@pytest.fixture(scope="module")
async def gateway(
    module_settings: Settings, everything_http: Peer, slow_pair: tuple[Peer, Peer]
) -> AsyncIterator[RunningGateway]:
    dead = f"http://127.0.0.1:{free_port()}/mcp"  # nothing listens there
    servers = (
        ServerSpec("everything", (EndpointSpec("streamable-http", url=everything_http.url),)),
        ServerSpec("slow", (EndpointSpec("streamable-http", url=slow_pair[0].url),)),
        ServerSpec("flaky", (stdio_spec("flaky"),)),
        ServerSpec("dead", (EndpointSpec("streamable-http", url=dead),)),
    )
    pool = PoolSettings(
        call_timeout=1.0,
        health_interval=60,
        connect_timeout=20,  # the stdio `flaky` is a cold Python start: 2 s was too tight
        breaker_threshold=3,
        breaker_cool_down=60,
    )
    config = GatewayConfig(servers, pool, requests_per_minute=100_000)
    async with run_gateway(module_settings, config) as running:
        yield running


@pytest.fixture(scope="module")
async def token(module_db: Database) -> str:
    return await issue_token(module_db, "rest-client")


def documented(gateway: RunningGateway, method: str, path: str, status: int) -> bool:
    operation = gateway.app.openapi()["paths"][path][method.lower()]
    return str(status) in operation["responses"]


async def call(
    gateway: RunningGateway, token: str, server: str, tool: str, body: Any = None, **kw: Any
) -> Any:
    async with gateway.rest(token) as rest:
        url = f"/api/v1/mcp/{server}/tools/{tool}"
        response = await (
            rest.post(url, json=body, **kw) if "content" not in kw else rest.post(url, **kw)
        )
    assert documented(gateway, "post", CALL, response.status_code), response.status_code
    assert response.headers["content-type"].startswith("application/json")
    return response


async def test_a_rest_call_returns_the_upstreams_result(
    gateway: RunningGateway, token: str
) -> None:
    response = await call(gateway, token, "everything", "echo", {"message": "hi"})
    assert response.status_code == 200
    body = response.json()
    assert body["server"] == "everything" and body["tool"] == "echo"
    assert body["content"] == [{"type": "text", "text": "Echo: hi"}]
    assert body["isError"] is False
    assert body["latencyMs"] > 0


async def test_structured_content_and_an_empty_body_are_relayed(
    gateway: RunningGateway, token: str
) -> None:
    response = await call(gateway, token, "flaky", "count")
    assert response.status_code == 200
    assert isinstance(response.json()["structuredContent"]["result"], int)


async def test_a_tool_error_is_a_200_with_is_error(gateway: RunningGateway, token: str) -> None:
    response = await call(gateway, token, "flaky", "fail", {"reason": "nope"})
    assert response.status_code == 200
    assert response.json()["isError"] is True
    assert "nope" in response.json()["content"][0]["text"]


@pytest.mark.parametrize(
    ("server", "tool", "code"),
    [("ghost", "echo", "unknown_server"), ("everything", "ghost", "unknown_tool")],
)
async def test_unknown_servers_and_tools_are_404_with_a_reason(
    gateway: RunningGateway, token: str, server: str, tool: str, code: str
) -> None:
    response = await call(gateway, token, server, tool, {})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == code
    assert "ghost" in response.json()["error"]["reason"]


@pytest.mark.parametrize(
    "content",
    [b"{not json", b"[1, 2]", b'"text"', b"\xff\xfe"],
    ids=["broken-json", "array", "string", "not-utf8"],
)
async def test_a_malformed_body_is_a_400_json_error(
    gateway: RunningGateway, token: str, content: bytes
) -> None:
    response = await call(
        gateway,
        token,
        "everything",
        "echo",
        content=content,
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "bad_request" and error["reason"]
    assert "Traceback" not in response.text


async def test_a_call_outliving_the_timeout_is_a_504(gateway: RunningGateway, token: str) -> None:
    response = await call(gateway, token, "slow", "sleep", {"seconds": 3})
    assert response.status_code == 504
    assert response.json()["error"]["code"] == "upstream_timeout"


async def test_an_unreachable_upstream_is_a_502_then_503_once_its_circuit_opens(
    gateway: RunningGateway, token: str
) -> None:
    statuses = [(await call(gateway, token, "dead", "anything", {})).status_code for _ in range(3)]
    assert statuses[0] == 502
    assert statuses[-1] == 503, statuses
    response = await call(gateway, token, "dead", "anything", {})
    assert response.json()["error"]["code"] == "upstream_unavailable"


async def test_servers_lists_the_registry_with_health_and_tools(
    gateway: RunningGateway, token: str
) -> None:
    async with gateway.rest(token) as rest:
        response = await rest.get("/api/v1/servers")
    assert response.status_code == 200
    servers = {s["name"]: s for s in response.json()["servers"]}
    assert list(servers) == ["dead", "everything", "flaky", "slow"]
    assert servers["everything"]["health"] == "healthy"
    assert servers["dead"]["health"] == "unhealthy"
    assert servers["dead"]["endpoints"][0]["lastError"]
    assert servers["everything"]["endpoints"][0]["protocolVersion"] == "2025-11-25"
    assert servers["slow"]["endpoints"][0]["protocolVersion"] == "2026-07-28"
    echo = next(t for t in servers["everything"]["tools"] if t["name"] == "echo")
    assert echo == {
        "name": "echo",
        "federatedName": "everything__echo",
        "description": "Echoes back the input string",
        "readOnly": True,
    }
    write = next(t for t in servers["flaky"]["tools"] if t["name"] == "write")
    assert write["readOnly"] is False


async def test_health_and_metrics_need_no_token(gateway: RunningGateway, token: str) -> None:
    await call(gateway, token, "everything", "echo", {"message": "count me"})
    await call(gateway, token, "everything", "no-such-tool-xyz", {})
    async with gateway.rest() as rest:
        health = await rest.get("/api/v1/health")
        metrics = await rest.get("/metrics")
    assert health.status_code == 200
    assert health.json() == {"status": "degraded", "serversUp": 3, "serversTotal": 4}
    assert metrics.status_code == 200
    text = metrics.text
    requests = re.search(r'mcp_requests_total\{server="everything",tool="echo"\} (\d+)', text)
    assert requests and int(requests.group(1)) >= 1
    assert 'mcp_request_duration_seconds_bucket{le="0.005",server="everything",tool="echo"}' in text
    assert 'mcp_requests_errors_total{server="<unknown>",tool="<unknown>"}' in text
    assert "no-such-tool-xyz" not in text, "unknown names never become labels"
    assert 'mcp_upstream_up{server="dead"} 0.0' in text
    assert 'mcp_upstream_up{server="everything"} 1.0' in text
    assert 'mcp_upstream_circuit_state{endpoint="streamable-http:' in text


async def test_unknown_routes_and_methods_answer_json(gateway: RunningGateway, token: str) -> None:
    async with gateway.rest(token) as rest:
        missing = await rest.get("/api/v1/nothing-here")
        wrong = await rest.delete("/api/v1/servers")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert wrong.status_code == 405
    assert wrong.json()["error"]["code"] == "method_not_allowed"


async def test_every_route_is_in_the_openapi_document_with_its_methods(
    gateway: RunningGateway,
) -> None:
    doc = gateway.app.openapi()
    builtin = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}
    for route in gateway.app.routes:
        if not isinstance(route, APIRoute | Route) or route.path in builtin:
            continue
        assert route.path in doc["paths"], route.path
        methods = {m.lower() for m in (route.methods or ())} - {"head"}
        assert methods == set(doc["paths"][route.path]), route.path
    assert doc["paths"]["/api/v1/servers"]["get"]["security"] == [{"bearer": []}]
    assert "security" not in doc["paths"]["/api/v1/health"]["get"]
    assert "security" not in doc["paths"]["/metrics"]["get"]
    assert doc["paths"]["/mcp"]["post"]["security"] == [{"bearer": []}]
    assert "422" not in doc["paths"][CALL]["post"]["responses"]


async def test_the_mcp_routes_documented_answers_are_real(
    gateway: RunningGateway, token: str
) -> None:
    async with gateway.http(token) as http:
        get = await http.get("/mcp", headers={"Accept": "text/event-stream"})
        delete = await http.delete("/mcp")
        bad = await http.post(
            "/mcp",
            content=b"{nope",
            headers={
                "Accept": "application/json, text/event-stream",
                "Content-Type": "application/json",
            },
        )
    assert documented(gateway, "get", "/mcp", get.status_code), get.status_code
    assert documented(gateway, "delete", "/mcp", delete.status_code), delete.status_code
    assert documented(gateway, "post", "/mcp", bad.status_code), bad.status_code
    assert bad.status_code == 400 and bad.json()["error"]["code"] == -32700


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (b'{"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {}}', {}),
        (b'{"jsonrpc": "2.0", "id": 2, "method": "no/such/method"}', {}),
        (b'[{"jsonrpc": "2.0", "id": 3, "method": "ping"}]', {}),
        (b'{"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {}}',
         {"MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/call"}),
        (b'{"id": 5}', {"MCP-Protocol-Version": "2026-07-28"}),
        (b"x" * (5 * 1024 * 1024), {}),
        (b'{"jsonrpc": "2.0", "id": 6, "method": "ping"}', {"Accept": "text/html"}),
    ],
    ids=["call-without-name", "unknown-method", "batch", "modern-without-envelope",
         "not-a-request", "too-large", "wrong-accept"],
)
async def test_malformed_mcp_requests_get_a_json_error_never_a_500(
    gateway: RunningGateway, token: str, body: bytes, headers: dict[str, str]
) -> None:
    async with gateway.http(token) as http:
        response = await http.post(
            "/mcp", content=body,
            headers={"Accept": "application/json, text/event-stream",
                     "Content-Type": "application/json",
                     "MCP-Protocol-Version": "2025-11-25", **headers},
        )
    assert response.status_code < 500
    assert documented(gateway, "post", "/mcp", response.status_code), response.status_code
    assert "error" in response.json()
    assert "Traceback" not in response.text
