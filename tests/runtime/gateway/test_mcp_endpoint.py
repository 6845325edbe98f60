"""The gateway's /mcp endpoint with the official Python MCP client, at both revisions.

Upstreams are real: server-everything (npm, TypeScript SDK, 2025-11-25 with sessions)
over streamable HTTP, two copies of the ``slow`` SDK server (2026-07-28) over streamable
HTTP, and ``flaky`` / ``many_tools`` launched by the gateway over stdio.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError

from runtime.db import Database
from runtime.gateway import GatewayConfig
from runtime.gateway.upstream import EndpointSpec, PoolSettings, ServerSpec
from runtime.settings import Settings
from tests.runtime.gateway.peers import Peer, stdio_spec
from tests.runtime.gateway.running import RunningGateway, issue_token, run_gateway, text_of

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture(scope="module")
async def gateway(
    module_settings: Settings, everything_http: Peer, slow_pair: tuple[Peer, Peer]
) -> AsyncIterator[RunningGateway]:
    servers = (
        ServerSpec("everything", (EndpointSpec("streamable-http", url=everything_http.url),)),
        ServerSpec(
            "slow", tuple(EndpointSpec("streamable-http", url=p.url) for p in slow_pair)
        ),
        ServerSpec("flaky", (stdio_spec("flaky"),)),
        ServerSpec("many", (stdio_spec("many_tools"),)),
    )
    config = GatewayConfig(servers, PoolSettings(call_timeout=10, health_interval=60),
                           requests_per_minute=100_000)
    async with run_gateway(module_settings, config) as running:
        yield running


@pytest.fixture(scope="module")
async def admin(module_db: Database) -> str:
    return await issue_token(module_db, "mcp-admin")


@pytest.fixture(scope="module")
async def slow_only(module_db: Database) -> str:
    return await issue_token(module_db, "mcp-slow-only", scopes=["slow"])


async def direct_tools(url: str) -> list[object]:
    async with Client(url, cache=None) as client:
        return list((await client.list_tools()).tools)


async def test_tools_list_is_every_upstreams_tools_named_server__tool(
    gateway: RunningGateway, admin: str, everything_http: Peer, slow_pair: tuple[Peer, Peer]
) -> None:
    async with gateway.mcp(admin, mode="legacy") as client:
        listed = (await client.list_tools()).tools
    names = [tool.name for tool in listed]
    assert names == sorted(names), "the federated listing is in a deterministic order"
    everything = await direct_tools(everything_http.url)
    slow = await direct_tools(slow_pair[0].url)
    expected = {f"everything__{t.name}" for t in everything} | {f"slow__{t.name}" for t in slow}
    assert expected <= set(names)
    assert {"flaky__ping", "flaky__crash", "many__dns_op_000", "many__proxy_op_119"} <= set(names)
    assert sum(name.startswith("many__") for name in names) == 120


async def test_federated_tools_keep_descriptions_schemas_and_annotations(
    gateway: RunningGateway, admin: str, everything_http: Peer
) -> None:
    async with gateway.mcp(admin) as client:
        listed = {tool.name: tool for tool in (await client.list_tools()).tools}
    for original in await direct_tools(everything_http.url):
        federated = listed[f"everything__{original.name}"]  # type: ignore[attr-defined]
        assert federated.description == original.description  # type: ignore[attr-defined]
        assert federated.input_schema == original.input_schema  # type: ignore[attr-defined]
        assert federated.annotations == original.annotations  # type: ignore[attr-defined]


async def test_clients_of_both_revisions_get_the_same_listing(
    gateway: RunningGateway, admin: str
) -> None:
    core = {"name", "title", "description", "input_schema", "output_schema", "annotations"}
    async with gateway.mcp(admin, mode="legacy") as legacy:
        old = [t.model_dump(include=core) for t in (await legacy.list_tools()).tools]
    async with gateway.mcp(admin, mode="2026-07-28") as modern:
        new = [t.model_dump(include=core) for t in (await modern.list_tools()).tools]
    assert old == new


@pytest.mark.parametrize("mode", ["legacy", "2026-07-28", "auto"])
async def test_a_call_through_mcp_reaches_each_kind_of_upstream(
    gateway: RunningGateway, admin: str, mode: str
) -> None:
    async with gateway.mcp(admin, mode=mode) as client:
        expected = "2025-11-25" if mode == "legacy" else "2026-07-28"
        assert client.protocol_version == expected
        legacy_upstream = await client.call_tool("everything__echo", {"message": "hi"})
        modern_upstream = await client.call_tool("slow__echo", {"message": "hello"})
        stdio_upstream = await client.call_tool("flaky__ping", {})
    assert text_of(legacy_upstream) == "Echo: hi"
    assert text_of(modern_upstream) == "hello"
    assert text_of(stdio_upstream) == "pong"
    assert not (legacy_upstream.is_error or modern_upstream.is_error or stdio_upstream.is_error)


async def test_structured_results_pass_through_unchanged(
    gateway: RunningGateway, admin: str
) -> None:
    async with gateway.mcp(admin) as client:
        result = await client.call_tool("everything__get-sum", {"a": 2, "b": 3})
        flaky = await client.call_tool("flaky__count", {})
    assert "5" in text_of(result)
    assert isinstance(flaky.structured_content, dict)
    assert isinstance(flaky.structured_content["result"], int)


async def test_a_tool_error_is_an_error_result_not_a_protocol_failure(
    gateway: RunningGateway, admin: str
) -> None:
    async with gateway.mcp(admin) as client:
        result = await client.call_tool("flaky__fail", {"reason": "disk on fire"})
    assert result.is_error
    assert "disk on fire" in text_of(result)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("nope", "unknown tool 'nope'"),
        ("slow__nope", "server 'slow' has no tool 'nope'"),
        ("ghost__echo", "no MCP server named 'ghost'"),
    ],
)
async def test_an_unknown_tool_is_a_json_rpc_error_naming_it(
    gateway: RunningGateway, admin: str, name: str, reason: str
) -> None:
    async with gateway.mcp(admin, mode="legacy") as client:
        with pytest.raises(MCPError) as raised:
            await client.call_tool(name, {})
    assert reason in raised.value.message


@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
async def test_a_scoped_token_lists_and_calls_only_its_servers(
    gateway: RunningGateway, slow_only: str, mode: str
) -> None:
    async with gateway.mcp(slow_only, mode=mode) as client:
        names = [tool.name for tool in (await client.list_tools()).tools]
        assert names and all(name.startswith("slow__") for name in names)
        assert text_of(await client.call_tool("slow__echo", {"message": "ok"})) == "ok"
        with pytest.raises(MCPError) as raised:
            await client.call_tool("everything__echo", {"message": "no"})
    assert "may not use server 'everything'" in raised.value.message


async def test_upstream_prompts_and_resources_are_federated(
    gateway: RunningGateway, admin: str
) -> None:
    async with gateway.mcp(admin) as client:
        prompts = [p.name for p in (await client.list_prompts()).prompts]
        prompt = await client.get_prompt("everything__simple-prompt")
        resources = (await client.list_resources()).resources
        first = resources[0]
        read = await client.read_resource(str(first.uri))
    assert "everything__simple-prompt" in prompts and "everything__args-prompt" in prompts
    assert prompt.messages
    assert any(str(r.uri).startswith("demo://") for r in resources)
    assert read.contents and str(read.contents[0].uri) == str(first.uri)


async def test_the_endpoint_hands_out_no_session_id(
    gateway: RunningGateway, admin: str
) -> None:
    """Stateless serving: any replica can take any request, no sticky sessions."""
    body = {
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                   "clientInfo": {"name": "raw", "version": "1"}},
    }
    async with gateway.http(admin) as http:
        response = await http.post(
            "/mcp", json=body, headers={"Accept": "application/json, text/event-stream"}
        )
    assert response.status_code == 200
    assert "mcp-session-id" not in response.headers
    assert response.json()["result"]["protocolVersion"] == "2025-11-25"
