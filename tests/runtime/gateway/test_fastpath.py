"""The ``tools/call`` fast paths: same bytes, audit, metrics and security as the SDK path.

Upstreams are real ``slow`` SDK servers (2026-07-28, stateless streamable HTTP) in their
own processes; clients are the official MCP client at both revisions, raw httpx posts of
the exact 2026-07-28 and 2025-11-25 / 2025-06-18 wire formats, and REST calls. The SDK
path is the reference: a test turns the fast paths off (``app.state.fastpath = None``)
for the comparison call. To see what reaches the upstream, one endpoint sits behind a
recording TCP relay inside the test.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import uvicorn
from mcp.server import MCPServer
from mcp.server.mcpserver import Context

from runtime.db import Database
from runtime.gateway import GatewayConfig
from runtime.gateway.fastpath import FastPath
from runtime.gateway.upstream import EndpointSpec, PoolSettings, ServerSpec
from runtime.settings import Settings
from runtime.store.audit_records import REDACTED
from runtime.store.tokens import Principal
from tests.runtime.gateway.peers import Peer, stdio_spec
from tests.runtime.gateway.running import (
    RunningGateway,
    eventually,
    issue_token,
    run_gateway,
    text_of,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")
UPSTREAM_KEY = "upstream-key-from-the-catalog"


class Relay:
    """A TCP relay in front of an upstream that keeps every byte the gateway sent."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.sent = bytearray()
        self.server: asyncio.Server | None = None
        self.tasks: set[asyncio.Task[Any]] = set()

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])

    async def __aenter__(self) -> Relay:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.tasks.add(task)
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)

        async def pipe(
            source: asyncio.StreamReader, sink: asyncio.StreamWriter, keep: bool
        ) -> None:
            try:
                while data := await source.read(65536):
                    if keep:
                        self.sent.extend(data)
                    sink.write(data)
                    await sink.drain()
            except (ConnectionError, asyncio.CancelledError):
                pass
            finally:
                sink.close()

        await asyncio.gather(pipe(reader, up_writer, True), pipe(up_reader, writer, False))


@pytest.fixture(scope="module")
async def relay(slow_pair: tuple[Peer, Peer]) -> AsyncIterator[Relay]:
    async with Relay(slow_pair[1].port) as running:
        yield running


@pytest.fixture(scope="module")
async def gateway(
    module_settings: Settings, slow_pair: tuple[Peer, Peer], relay: Relay
) -> AsyncIterator[RunningGateway]:
    relayed = f"http://127.0.0.1:{relay.port}/mcp"
    servers = (
        ServerSpec("slow", (EndpointSpec("streamable-http", url=slow_pair[0].url),)),
        ServerSpec(
            "relayed",
            (
                EndpointSpec(
                    "streamable-http", url=relayed, headers={"X-Upstream-Key": UPSTREAM_KEY}
                ),
            ),
        ),
        ServerSpec("flaky", (stdio_spec("flaky"),)),
    )
    config = GatewayConfig(
        servers, PoolSettings(call_timeout=10, health_interval=60), requests_per_minute=100_000
    )
    async with run_gateway(module_settings, config) as running:
        yield running


@pytest.fixture(scope="module")
async def admin(module_db: Database) -> str:
    return await issue_token(module_db, f"fast-admin-{uuid.uuid4().hex[:8]}")


@contextmanager
def counting_fast_calls(gateway: RunningGateway) -> Iterator[list[str]]:
    """Records the tools the fast path served while the block runs."""
    fast: FastPath = gateway.app.state.fastpath
    served: list[str] = []
    original = fast.serve

    async def serve(candidate: Any, call: Any, send: Any) -> None:
        served.append(call.request["params"]["name"])
        await original(candidate, call, send)

    fast.serve = serve  # type: ignore[method-assign]
    try:
        yield served
    finally:
        del fast.serve


@contextmanager
def sdk_path_only(gateway: RunningGateway) -> Iterator[None]:
    fast = gateway.app.state.fastpath
    gateway.app.state.fastpath = None
    try:
        yield
    finally:
        gateway.app.state.fastpath = fast


def modern_call(name: str, arguments: dict[str, Any], rid: int = 7) -> dict[str, Any]:
    """The exact request the official 2026-07-28 client sends for ``tools/call``."""
    return {
        "headers": {
            "Accept": "application/json, text/event-stream",
            "Content-Type": "application/json",
            "Mcp-Protocol-Version": "2026-07-28",
            "Mcp-Method": "tools/call",
            "Mcp-Name": name,
        },
        "json": {
            "jsonrpc": "2.0",
            "id": rid,
            "method": "tools/call",
            "params": {
                "name": name,
                "arguments": arguments,
                "_meta": {
                    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                    "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "1"},
                    "io.modelcontextprotocol/clientCapabilities": {},
                },
            },
        },
    }


def legacy_call(
    name: str, arguments: dict[str, Any], rid: int = 7, version: str = "2025-11-25"
) -> dict[str, Any]:
    """The exact request the official client sends for ``tools/call`` at a handshake
    revision (after ``initialize``; the stateless gateway gives it no session id)."""
    return {
        "headers": {
            "Accept": "application/json, text/event-stream",
            "Content-Type": "application/json",
            "Mcp-Protocol-Version": version,
        },
        "json": {
            "jsonrpc": "2.0",
            "id": rid,
            "method": "tools/call",
            "params": {"name": name, "arguments": arguments},
        },
    }


async def post(gateway: RunningGateway, token: str, request: dict[str, Any]) -> httpx.Response:
    async with gateway.http(token) as http:
        return await http.post("/mcp", **request)


def calls_to(gateway: RunningGateway, server: str) -> int:
    return sum(e.calls for e in gateway.app.state.pool.get(server).endpoints)


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [("slow__echo", {"message": "héllo"}), ("slow__sleep", {"seconds": "not a number"})],
    ids=["result", "tool-error"],
)
async def test_the_fast_path_answers_byte_for_byte_what_the_sdk_path_answers(
    gateway: RunningGateway, admin: str, tool: str, arguments: dict[str, Any]
) -> None:
    with counting_fast_calls(gateway) as served:
        fast = await post(gateway, admin, modern_call(tool, arguments))
    with sdk_path_only(gateway):
        sdk = await post(gateway, admin, modern_call(tool, arguments))
    assert served == [tool]
    assert fast.status_code == sdk.status_code == 200
    assert fast.headers["content-type"] == sdk.headers["content-type"]
    assert fast.content == sdk.content
    assert fast.json()["result"]["isError"] is (tool == "slow__sleep")


@pytest.mark.parametrize("version", ["2025-11-25", "2025-06-18"])
@pytest.mark.parametrize(
    ("tool", "arguments"),
    [("slow__echo", {"message": "héllo"}), ("slow__sleep", {"seconds": "not a number"})],
    ids=["result", "tool-error"],
)
async def test_a_handshake_era_client_gets_byte_for_byte_what_the_sdk_path_answers(
    gateway: RunningGateway, admin: str, tool: str, arguments: dict[str, Any], version: str
) -> None:
    with counting_fast_calls(gateway) as served:
        fast = await post(gateway, admin, legacy_call(tool, arguments, version=version))
    with sdk_path_only(gateway):
        sdk = await post(gateway, admin, legacy_call(tool, arguments, version=version))
    assert served == [tool]
    assert fast.status_code == sdk.status_code == 200
    assert fast.headers["content-type"] == sdk.headers["content-type"]
    assert fast.content == sdk.content
    assert "resultType" not in fast.json()["result"]  # a 2026-only field, not for this client


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [("echo", {"message": "héllo"}), ("sleep", {"seconds": "not a number"}), ("echo", None)],
    ids=["result", "tool-error", "no-body"],
)
async def test_a_rest_call_answers_byte_for_byte_what_the_sdk_path_answers(
    gateway: RunningGateway, admin: str, tool: str, arguments: dict[str, Any] | None
) -> None:
    """Byte-equal but for the measured latency, which differs from call to call."""
    url = f"/api/v1/mcp/slow/tools/{tool}"
    body = {} if arguments is None else {"json": arguments}
    async with gateway.http(admin) as http:
        with counting_fast_calls(gateway) as served:
            fast = await http.post(url, **body)
        with sdk_path_only(gateway):
            sdk = await http.post(url, **body)
    assert served == []  # REST relays through the fast path's relay, not its /mcp route
    assert fast.status_code == sdk.status_code
    assert fast.headers["content-type"] == sdk.headers["content-type"]
    latency = re.compile(rb'"latencyMs":[0-9.e-]+')
    assert latency.sub(b"", fast.content) == latency.sub(b"", sdk.content)
    if arguments is not None:
        assert fast.json()["isError"] is (tool == "sleep")


async def test_rest_calls_take_the_relay_and_leave_the_same_audit_row(
    gateway: RunningGateway, module_db: Database
) -> None:
    client = f"rest-audit-{uuid.uuid4().hex[:8]}"
    token = await issue_token(module_db, client)
    relay = gateway.app.state.fastpath.relay
    relayed: list[str] = []
    original = relay.call

    async def call(upstream: Any, tool: str, *args: Any, **kwargs: Any) -> Any:
        relayed.append(tool)
        return await original(upstream, tool, *args, **kwargs)

    relay.call = call
    try:
        async with gateway.http(token) as http:
            fast = await http.post("/api/v1/mcp/slow/tools/echo", json={"message": "m"})
            stdio = await http.post("/api/v1/mcp/flaky/tools/ping", json={})
    finally:
        del relay.call
    assert fast.status_code == stdio.status_code == 200
    assert relayed == ["echo"]  # the stdio upstream keeps the SDK client
    await asyncio.wait_for(gateway.app.state.audit.flush(), 10)
    async with module_db.connection() as conn:
        cur = await conn.execute(
            "SELECT server, tool, status, arguments FROM audit_log WHERE client = %s ORDER BY at",
            (client,),
        )
        rows = await cur.fetchall()
    assert rows == [
        ("slow", "echo", "ok", {"message": REDACTED}),
        ("flaky", "ping", "ok", {}),
    ]


@pytest.mark.parametrize("mode", ["2026-07-28", "legacy"])
async def test_the_official_client_gets_the_same_result_either_way(
    gateway: RunningGateway, admin: str, mode: str
) -> None:
    async with gateway.mcp(admin, mode=mode) as client:
        with counting_fast_calls(gateway) as served:
            fast = await client.call_tool("slow__echo", {"message": "same"})
        with sdk_path_only(gateway):
            sdk = await client.call_tool("slow__echo", {"message": "same"})
    assert served == ["slow__echo"]
    assert fast == sdk and text_of(fast) == "same"


async def test_a_fast_call_leaves_the_same_audit_row_and_metrics_as_any_call(
    gateway: RunningGateway, module_db: Database
) -> None:
    client = f"fast-audit-{uuid.uuid4().hex[:8]}"
    token = await issue_token(module_db, client)

    def echo_count(text: str) -> float:
        for line in text.splitlines():
            if line.startswith('mcp_requests_total{server="slow",tool="echo"}'):
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    async with gateway.rest() as rest:
        before = echo_count((await rest.get("/metrics")).text)
        with counting_fast_calls(gateway) as served:
            answer = await post(gateway, token, modern_call("slow__echo", {"message": "m"}))
        metrics = (await rest.get("/metrics")).text
    assert served == ["slow__echo"] and answer.status_code == 200
    assert echo_count(metrics) == before + 1
    assert 'mcp_request_duration_seconds_count{server="slow",tool="echo"}' in metrics
    await asyncio.wait_for(gateway.app.state.audit.flush(), 10)
    async with module_db.connection() as conn:
        cur = await conn.execute(
            "SELECT server, tool, status, arguments, error, latency_ms FROM audit_log "
            "WHERE client = %s",
            (client,),
        )
        rows = await cur.fetchall()
    assert rows == [("slow", "echo", "ok", {"message": REDACTED}, None, rows[0][5])]
    assert rows[0][5] > 0


async def test_an_out_of_scope_call_is_refused_and_never_reaches_the_upstream(
    gateway: RunningGateway, module_db: Database
) -> None:
    token = await issue_token(module_db, f"fast-scoped-{uuid.uuid4().hex[:8]}", scopes=["flaky"])
    before = calls_to(gateway, "slow")
    with counting_fast_calls(gateway) as served:
        refused = await post(gateway, token, modern_call("slow__echo", {"message": "x"}))
        # A header naming an allowed server must not smuggle a call to another one.
        smuggled = modern_call("slow__echo", {"message": "x"})
        smuggled["headers"]["Mcp-Name"] = "flaky__ping"
        mismatch = await post(gateway, token, smuggled)
    assert refused.status_code == 403
    assert refused.json()["error"]["data"]["code"] == "forbidden"
    assert "error" in mismatch.json() and "result" not in mismatch.json()
    assert served == [] and calls_to(gateway, "slow") == before


async def test_the_clients_token_never_reaches_the_upstream_but_the_catalogs_headers_do(
    gateway: RunningGateway, admin: str, relay: Relay
) -> None:
    with counting_fast_calls(gateway) as served:
        answer = await post(gateway, admin, modern_call("relayed__echo", {"message": "r"}))
    assert served == ["relayed__echo"] and answer.json()["result"]["content"][0]["text"] == "r"
    seen = bytes(relay.sent).lower()
    assert b"mcp-name: echo" in seen, "the call went through the relay"
    assert UPSTREAM_KEY.lower().encode() in seen
    assert admin.lower().encode() not in seen
    assert b"authorization" not in seen


async def test_stdio_upstreams_listings_and_unknown_tools_keep_the_sdk_path(
    gateway: RunningGateway, admin: str
) -> None:
    with counting_fast_calls(gateway) as served:
        async with gateway.mcp(admin, mode="legacy") as legacy:
            old = await legacy.call_tool("flaky__ping", {})
        async with gateway.mcp(admin, mode="2026-07-28") as modern:
            stdio = await modern.call_tool("flaky__ping", {})
            listed = await modern.list_tools()
            unknown = await post(gateway, admin, modern_call("slow__nope", {}))
            unknown_legacy = await post(gateway, admin, legacy_call("slow__nope", {}))
    assert text_of(old) == "pong" and text_of(stdio) == "pong"
    assert "slow__echo" in {tool.name for tool in listed.tools}
    assert unknown.json()["error"]["data"]["code"] == "unknown_tool"
    assert "error" in unknown_legacy.json() or unknown_legacy.json()["result"]["isError"]
    assert served == []


async def test_a_handshake_client_naming_a_server_out_of_its_scope_is_refused_by_the_sdk_path(
    gateway: RunningGateway, module_db: Database
) -> None:
    token = await issue_token(module_db, f"legacy-scoped-{uuid.uuid4().hex[:8]}", scopes=["flaky"])
    before = calls_to(gateway, "slow")
    with counting_fast_calls(gateway) as served:
        refused = await post(gateway, token, legacy_call("slow__echo", {"message": "x"}))
    with sdk_path_only(gateway):
        reference = await post(gateway, token, legacy_call("slow__echo", {"message": "x"}))
    assert served == [] and calls_to(gateway, "slow") == before
    assert refused.status_code == reference.status_code
    assert refused.content == reference.content
    assert "slow__echo" not in refused.text or "error" in refused.json() or refused.json()[
        "result"
    ]["isError"]


async def test_an_upstream_that_is_down_gives_the_sdk_paths_error_shape_and_a_read_only_retry(
    module_settings: Settings, module_db: Database, peer_factory: Any
) -> None:
    first, second = peer_factory("slow"), peer_factory("slow")
    client = f"fast-down-{uuid.uuid4().hex[:8]}"
    token = await issue_token(module_db, client)
    servers = (
        ServerSpec(
            "pair", tuple(EndpointSpec("streamable-http", url=p.url) for p in (first, second))
        ),
        ServerSpec("lone", (EndpointSpec("streamable-http", url=first.url),)),
    )
    pool = PoolSettings(call_timeout=5, health_interval=60, breaker_threshold=10)
    config = GatewayConfig(servers, pool, requests_per_minute=100_000)
    async with run_gateway(module_settings, config) as gateway:
        endpoints = gateway.app.state.pool.get("pair").endpoints
        await eventually(lambda: all(e.protocol_version for e in endpoints), what="sessions")
        first.kill()
        with counting_fast_calls(gateway) as served:
            # Round-robin sends one of these to the dead endpoint; read-only echo retries.
            retried = [
                await post(gateway, token, modern_call("pair__echo", {"message": str(i)}))
                for i in range(4)
            ]
            fast = await post(gateway, token, modern_call("lone__echo", {"message": "x"}))
            fast_legacy = await post(gateway, token, legacy_call("lone__echo", {"message": "x"}))
        async with gateway.http(token) as http:
            fast_rest = await http.post("/api/v1/mcp/lone/tools/echo", json={"message": "x"})
        with sdk_path_only(gateway):
            sdk = await post(gateway, token, modern_call("lone__echo", {"message": "x"}))
            sdk_legacy = await post(gateway, token, legacy_call("lone__echo", {"message": "x"}))
            async with gateway.http(token) as http:
                sdk_rest = await http.post("/api/v1/mcp/lone/tools/echo", json={"message": "x"})
        await asyncio.wait_for(gateway.app.state.audit.flush(), 10)
    assert served == ["pair__echo"] * 4 + ["lone__echo"] * 2
    legacy, legacy_sdk = fast_legacy.json()["result"], sdk_legacy.json()["result"]
    assert legacy.keys() == legacy_sdk.keys() and legacy["isError"] is legacy_sdk["isError"] is True
    assert fast_rest.status_code == sdk_rest.status_code == 502
    assert fast_rest.json()["error"]["code"] == sdk_rest.json()["error"]["code"]
    assert [r.json()["result"]["content"][0]["text"] for r in retried] == ["0", "1", "2", "3"]
    assert fast.status_code == sdk.status_code == 200
    fast_result, sdk_result = fast.json()["result"], sdk.json()["result"]
    assert fast_result["isError"] is sdk_result["isError"] is True
    assert fast_result.keys() == sdk_result.keys()
    assert fast_result["_meta"] == sdk_result["_meta"]
    assert fast_result["content"][0]["text"].startswith("lone: ")
    assert sdk_result["content"][0]["text"].startswith("lone: ")
    async with module_db.connection() as conn:
        cur = await conn.execute(
            "SELECT status FROM audit_log WHERE client = %s AND server = 'lone'", (client,)
        )
        statuses = [row[0] for row in await cur.fetchall()]
    assert statuses == ["upstream_failed"] * 6


async def test_a_write_is_never_retried_on_another_endpoint(
    module_settings: Settings, module_db: Database, peer_factory: Any
) -> None:
    dead, live = peer_factory("flaky"), peer_factory("flaky")
    token = await issue_token(module_db, f"fast-write-{uuid.uuid4().hex[:8]}")
    spec = ServerSpec(
        "pair", tuple(EndpointSpec("streamable-http", url=p.url) for p in (dead, live))
    )
    config = GatewayConfig(
        (spec,), PoolSettings(call_timeout=5, health_interval=60), requests_per_minute=100_000
    )
    async with run_gateway(module_settings, config) as gateway:
        endpoints = gateway.app.state.pool.get("pair").endpoints
        await eventually(lambda: all(e.protocol_version for e in endpoints), what="sessions")
        dead.kill()
        live_before = endpoints[1].calls
        with counting_fast_calls(gateway) as served:
            answers = [
                (await post(gateway, token, modern_call("pair__write", {"value": str(i)}))).json()[
                    "result"
                ]
                for i in range(4)
            ]
    failed = [a for a in answers if a["isError"]]
    assert served == ["pair__write"] * 4
    assert failed, "round-robin sent a write to the dead endpoint"
    assert all(a["content"][0]["text"].startswith("pair: connection lost") for a in failed)
    assert endpoints[1].calls - live_before == len(answers) - len(failed), "no retry"


async def test_an_upstream_answering_in_sse_is_relayed_as_json(
    module_settings: Settings, admin: str
) -> None:
    """The upstream is an SDK server in this process; the progress it reports makes it
    answer in SSE (the fast path forwards the client's progress token, the SDK path does not).
    """
    server = MCPServer("sse-answers", log_level="WARNING")

    @server.tool()
    async def shout(message: str, ctx: Context) -> str:
        await ctx.report_progress(0.5, 1.0)
        return message.upper()

    upstream = uvicorn.Server(
        uvicorn.Config(
            server.streamable_http_app(stateless_http=True, json_response=False),
            host="127.0.0.1",
            port=0,
            log_config=None,
        )
    )
    task = asyncio.create_task(upstream.serve())
    try:
        await eventually(lambda: upstream.started, what="the SSE upstream")
        port = upstream.servers[0].sockets[0].getsockname()[1]
        spec = ServerSpec(
            "sse", (EndpointSpec("streamable-http", url=f"http://127.0.0.1:{port}/mcp"),)
        )
        config = GatewayConfig(
            (spec,), PoolSettings(health_interval=60), requests_per_minute=100_000
        )
        async with run_gateway(module_settings, config) as gateway:
            request = modern_call("sse__shout", {"message": "hi"})
            request["json"]["params"]["_meta"]["progressToken"] = "p1"
            with counting_fast_calls(gateway) as served:
                fast = await post(gateway, admin, request)
            with sdk_path_only(gateway):
                sdk = await post(gateway, admin, request)
    finally:
        upstream.should_exit = True
        await task
    assert served == ["sse__shout"]
    assert fast.headers["content-type"] == "application/json"
    assert fast.json() == sdk.json()
    assert fast.json()["result"]["content"][0]["text"] == "HI"


async def test_the_fast_path_never_takes_a_call_the_callers_grants_do_not_cover(
    gateway: RunningGateway,
) -> None:
    """Behind the middleware's ``Mcp-Name`` check, the fast path checks the grants itself."""
    fast: FastPath = gateway.app.state.fastpath
    request = modern_call("slow__echo", {"message": "x"})
    headers = [(k.lower().encode(), v.encode()) for k, v in request["headers"].items()]
    headers.append((b"content-length", b"100"))

    def candidate(*grants: str) -> object:
        principal = Principal("caller", frozenset(grants) if grants else None, None)
        state = {"principal": principal}
        return fast.candidate(
            {"type": "http", "method": "POST", "headers": headers, "state": state}
        )

    assert candidate() is not None
    assert candidate("slow:echo") is not None
    assert candidate("slow:*:ro") is not None  # echo is read-only
    assert candidate("slow:sleep") is None
    assert candidate("relayed") is None


LEGACY = {
    "Accept": "application/json, text/event-stream",
    "Content-Type": "application/json",
    "MCP-Protocol-Version": "2025-11-25",
}


@pytest.mark.parametrize("rid", [{"a": 1}, [1], None, True, 1.5], ids=repr)
@pytest.mark.parametrize("path", ["sdk-2025", "sdk-no-version", "sdk-2026", "fast"])
async def test_a_request_whose_id_is_not_a_string_or_integer_is_an_invalid_request(
    gateway: RunningGateway, admin: str, rid: Any, path: str
) -> None:
    """Issue 11, item 9: an object id used to pass as a notification (202, no answer).

    JSON-RPC 2.0 §4/§5.1: an Invalid Request is answered -32600 with ``id: null``; MCP
    ids are strings or integers. Every path — the SDK's for either protocol revision and
    the fast path, which would otherwise relay it — gives the same answer.
    """
    call = modern_call("slow__echo", {"message": "x"})
    body = {**call["json"], "id": rid}
    headers = {
        "sdk-2025": LEGACY,
        "sdk-no-version": {k: v for k, v in LEGACY.items() if k != "MCP-Protocol-Version"},
        "sdk-2026": {k: v for k, v in call["headers"].items() if not k.startswith("Mcp-M")},
        "fast": call["headers"],
    }[path]
    with counting_fast_calls(gateway) as served:
        async with gateway.http(admin) as http:
            response = await http.post("/mcp", json=body, headers=headers)
    assert response.status_code == 400, response.text
    answer = response.json()
    assert answer["id"] is None and answer["error"]["code"] == -32600
    assert served == []  # nothing was relayed upstream


async def test_an_empty_object_is_an_invalid_request_with_a_short_reason(
    gateway: RunningGateway, admin: str
) -> None:
    async with gateway.http(admin) as http:
        response = await http.post("/mcp", json={}, headers=LEGACY)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == -32600 and len(error["message"]) < 200
    assert "pydantic" not in error["message"]
