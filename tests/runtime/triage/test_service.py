"""The triage service end to end: real PostgreSQL + pgvector, the real local embedding
model, a real MCP server (built with the ``mcp`` SDK, reached in-process through the SDK's
client) behind the ``ToolCaller`` seam, and a small HTTP server speaking Ollama's API
standing for the local LLM. The ``Completer`` is a recording stand-in for the router
(helper D's service, tested on its own), since only the seam matters here.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from fastapi import FastAPI
from mcp import Client
from mcp.server import MCPServer
from mcp.types import Tool, ToolAnnotations

from catalog import load_catalog
from runtime.contracts import Completion, CompletionFailed, ToolOutcome
from runtime.db import Database
from runtime.store import AppContexts, QueryHistory, ServerRegistry
from runtime.triage.api import create_triage, install_error_handler
from runtime.triage.embedding import MiniLMEmbedder
from runtime.triage.service import TriageService, open_triage
from runtime.triage.toolset import load_tool_dir
from tests.runtime.triage.fake_ollama import FakeOllama, serve_fake_ollama

REPO = Path(__file__).resolve().parents[3]


def router_server(calls: list[str]) -> MCPServer:
    """A small real MCP server: two read-only tools and one that changes state."""
    server = MCPServer("router")

    @server.tool(annotations=ToolAnnotations(read_only_hint=True))
    def list_dhcp_leases(search: str = "") -> str:
        """List current DHCP leases: IP address, MAC address and hostname of every client."""
        calls.append("list_dhcp_leases")
        return "10.0.0.5 aa:bb:cc:dd:ee:01 nas\n10.0.0.6 aa:bb:cc:dd:ee:02 printer"

    @server.tool(annotations=ToolAnnotations(read_only_hint=True))
    def ping_host(host: str, count: int = 3) -> str:
        """Ping a host from the router to test connectivity."""
        calls.append(f"ping_host {host}")
        return f"{count} packets to {host}, 0% loss"

    @server.tool(annotations=ToolAnnotations(read_only_hint=False, destructive_hint=True))
    def reboot_router() -> str:
        """Reboot the router. Connections drop for about a minute."""
        calls.append("reboot_router")
        return "rebooting"

    return server


@dataclass
class McpToolCaller:
    """The ToolCaller seam over the SDK's in-process client (the gateway does this over HTTP)."""

    server: MCPServer
    clients: list[str] = field(default_factory=list)

    async def call_tool(
        self, server: str, tool: str, arguments: Mapping[str, Any], *, client: str
    ) -> ToolOutcome:
        self.clients.append(client)
        async with Client(self.server) as session:
            result = await session.call_tool(tool, dict(arguments))
        return ToolOutcome(
            server=server,
            tool=tool,
            content=[c.model_dump(mode="json", exclude_none=True) for c in result.content],
            is_error=bool(result.is_error),
        )


@dataclass
class RecordingCompleter:
    prompts: list[tuple[str, str]] = field(default_factory=list)
    failure: str | None = None

    async def complete(
        self,
        prompt: str,
        *,
        task_type: str = "chat",
        system: str | None = None,
        max_tokens: int = 1024,
    ) -> Completion:
        self.prompts.append((prompt, task_type))
        if self.failure is not None:
            raise CompletionFailed(self.failure)
        return Completion(
            text="A careful design.",
            model="claude-sonnet",
            input_tokens=120,
            output_tokens=480,
            cost_usd=0.0108,
        )


@dataclass
class Stack:
    app: FastAPI
    http: httpx.AsyncClient
    service: TriageService
    db: Database
    calls: list[str]
    caller: McpToolCaller
    completer: RecordingCompleter
    ollama: FakeOllama | None


async def _register(db: Database, calls: list[str], tiny_tools: Path) -> MCPServer:
    registry = ServerRegistry(db)
    server = router_server(calls)
    async with Client(server) as session:
        tools = (await session.list_tools()).tools
    for name, description, listed in [
        ("router", "The edge router and firewall of the lab.", tools),
        (
            "dnsfilter",
            "The DNS filter (blocklists, query log).",
            load_tool_dir(tiny_tools, ["dnsfilter"])[0].tools,
        ),
    ]:
        await registry.upsert(
            name,
            kind="http",
            transport="streamable-http",
            endpoints=[f"http://{name}/mcp"],
            source="catalog",
            in_catalog=True,
            description=description,
        )
        await registry.set_tools(name, listed)
    return server


@contextlib.asynccontextmanager
async def _stack(
    db: Database,
    minilm: MiniLMEmbedder,
    tiny_tools: Path,
    ollama: FakeOllama | None,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Stack]:
    # No Ollama: a loopback port nothing listens on (probe fails at once).
    url = ollama.url if ollama else "http://127.0.0.1:9"
    monkeypatch.setenv("MCPFLEET_OLLAMA_URL", url)
    calls: list[str] = []
    server = await _register(db, calls, tiny_tools)
    caller, completer = McpToolCaller(server), RecordingCompleter()
    catalog = load_catalog(REPO / "catalog")
    app = FastAPI()
    install_error_handler(app)
    app.include_router(create_triage())
    async with open_triage(
        catalog,
        db,
        embedder=minilm,
        tool_caller=caller,
        completer=completer,
        refresh_interval=3600,
    ) as service:
        app.state.triage = service
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://triage") as http:
            yield Stack(app, http, service, db, calls, caller, completer, ollama)


@pytest.fixture
async def stack(
    db: Database, minilm: MiniLMEmbedder, tiny_tools: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Stack]:
    async with _stack(db, minilm, tiny_tools, None, monkeypatch) as s:
        yield s


@pytest.fixture
async def llm_stack(
    db: Database, minilm: MiniLMEmbedder, tiny_tools: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Stack]:
    async with (
        serve_fake_ollama(FakeOllama()) as fake,
        _stack(db, minilm, tiny_tools, fake, monkeypatch) as s,
    ):
        yield s


async def _history(db: Database) -> list[Any]:
    return list(reversed(await QueryHistory(db).recent(50)))


async def test_triage_returns_route_candidates_arguments_and_timings(stack: Stack) -> None:
    response = await stack.http.post(
        "/api/v1/triage", json={"text": "ping 10.0.0.1 from the router"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["route"] == "tool"
    assert body["candidates"][0]["server"] == "router"
    assert body["candidates"][0]["tool"] == "ping_host"
    assert body["arguments"] == {"host": "10.0.0.1"}
    assert body["missingArguments"] == []
    assert 0 <= body["confidence"] <= 1
    assert {"embedMs", "retrieveMs", "classifyMs", "totalMs"} <= set(body["timings"])
    assert body["decidedBy"] == "classifier"
    assert stack.calls == []  # deciding never calls a tool


async def test_embed_returns_the_model_dimension_and_a_unit_vector(stack: Stack) -> None:
    response = await stack.http.post("/api/v1/embed", json={"text": "reboot node w1"})
    body = response.json()
    assert body["model"] == "all-MiniLM-L6-v2"
    assert body["dimension"] == 384
    assert np.linalg.norm(body["vector"]) == pytest.approx(1.0, abs=1e-4)


async def test_a_tool_question_calls_the_tool_and_is_recorded(stack: Stack) -> None:
    response = await stack.http.post(
        "/api/v1/query", json={"text": "show the dhcp leases on the router"}
    )
    body = response.json()
    assert body["route"] == "tool"
    assert stack.calls == ["list_dhcp_leases"]
    assert "printer" in body["answer"]
    assert body["result"]["isError"] is False
    assert body["servers"] == ["router"]
    assert body["model"] is None  # no LLM: the structured result is the answer
    [record] = await _history(stack.db)
    assert record.id == body["id"]
    assert record.route == "tool"
    assert record.servers == ["router"]
    assert record.client == "anonymous"
    assert record.latency_ms > 0


async def test_a_repeated_read_is_answered_from_the_semantic_cache(stack: Stack) -> None:
    first = (await stack.http.post("/api/v1/query", json={"text": "show the dhcp leases"})).json()
    second = (
        await stack.http.post("/api/v1/query", json={"text": "show the dhcp leases please"})
    ).json()
    assert first["cached"] is False
    assert second["cached"] is True
    assert second["cachedFrom"] == first["id"]
    assert second["answer"] == first["answer"]
    assert stack.calls == ["list_dhcp_leases"]  # called once
    assert len(await _history(stack.db)) == 2  # the cache hit is recorded too


async def test_a_state_changing_tool_needs_confirmation_and_bypasses_the_cache(
    stack: Stack,
) -> None:
    unconfirmed = (
        await stack.http.post("/api/v1/query", json={"text": "reboot the router"})
    ).json()
    assert unconfirmed["route"] == "tool"
    assert unconfirmed["needs"]["confirm"] is True
    assert unconfirmed["needs"]["tool"] == "router/reboot_router"
    assert stack.calls == []
    for _ in range(2):
        confirmed = (
            await stack.http.post(
                "/api/v1/query", json={"text": "reboot the router", "confirm": True}
            )
        ).json()
        assert confirmed["cached"] is False
    assert stack.calls == ["reboot_router", "reboot_router"]


async def test_missing_arguments_are_named_instead_of_guessed(stack: Stack) -> None:
    body = (
        await stack.http.post("/api/v1/query", json={"text": "ping the nas from the router"})
    ).json()
    assert body["needs"] == {"arguments": ["host"], "tool": "router/ping_host"}
    assert stack.calls == []
    given = (
        await stack.http.post(
            "/api/v1/query",
            json={"text": "ping the nas from the router", "arguments": {"host": "10.0.0.5"}},
        )
    ).json()
    assert "0% loss" in given["answer"]
    assert stack.calls == ["ping_host 10.0.0.5"]


async def test_a_direct_question_without_a_local_llm_says_so(stack: Stack) -> None:
    body = (await stack.http.post("/api/v1/query", json={"text": "what is a dhcp lease"})).json()
    assert body["route"] == "direct"
    assert "No local LLM" in body["answer"]
    assert body["needs"] == {"localLlm": True}


async def test_a_direct_question_is_answered_by_the_local_llm(llm_stack: Stack) -> None:
    assert llm_stack.ollama is not None
    llm_stack.ollama.decision = {
        "route": "direct",
        "tool": None,
        "arguments": {},
        "confidence": 0.9,
    }
    body = (
        await llm_stack.http.post("/api/v1/query", json={"text": "what is a dhcp lease"})
    ).json()
    assert body["route"] == "direct"
    assert body["answer"] == "A local answer."
    assert body["model"] == "llama3.1:8b"
    assert (body["inputTokens"], body["outputTokens"]) == (42, 7)
    [record] = await _history(llm_stack.db)
    assert (record.model, record.input_tokens, record.output_tokens) == ("llama3.1:8b", 42, 7)


async def test_the_local_llm_decides_among_the_retrieved_candidates_only(llm_stack: Stack) -> None:
    assert llm_stack.ollama is not None
    llm_stack.ollama.decision = {
        "route": "tool",
        "tool": "router/ping_host",
        "arguments": {"host": "10.0.0.9"},
        "confidence": 0.8,
    }
    body = (
        await llm_stack.http.post("/api/v1/triage", json={"text": "is the nas reachable?"})
    ).json()
    assert body["decidedBy"] == "llm:llama3.1:8b"
    assert body["route"] == "tool"
    assert body["candidates"][0]["tool"] == "ping_host"
    assert body["arguments"] == {"host": "10.0.0.9"}
    [chat] = [c for c in llm_stack.ollama.chats() if c.get("format")]
    enum = chat["format"]["properties"]["tool"]["enum"]
    assert set(enum) - {None} == {f"{c['server']}/{c['tool']}" for c in body["candidates"]}
    tiny_fleet = {  # data/tiny-tools
        "router/list_dhcp_leases", "router/ping_host", "router/reboot_router",
        "router/list_firewall_rules", "dnsfilter/query_log", "dnsfilter/add_blocklist",
        "dnsfilter/check_host",
    }
    left_out = tiny_fleet - set(enum)
    assert left_out, "retrieval narrowed the fleet's tools before the LLM saw them"
    assert not any(t.split("/")[1] in chat["messages"][1]["content"] for t in left_out)


async def test_an_llm_answer_naming_no_candidate_is_ignored(llm_stack: Stack) -> None:
    assert llm_stack.ollama is not None
    llm_stack.ollama.decision = {
        "route": "tool",
        "tool": "elsewhere/rm_rf",
        "arguments": {},
        "confidence": 1.0,
    }
    body = (await llm_stack.http.post("/api/v1/triage", json={"text": "ping 10.0.0.1"})).json()
    assert body["decidedBy"] == "classifier"


async def test_an_escalation_goes_to_the_router_and_its_cost_is_recorded(stack: Stack) -> None:
    body = (
        await stack.http.post(
            "/api/v1/query",
            json={
                "text": "design a network segmentation plan for iot, guests and servers with "
                "firewall rules and explain the trade-offs"
            },
        )
    ).json()
    assert body["route"] == "escalate"
    assert body["answer"] == "A careful design."
    assert body["model"] == "claude-sonnet"
    assert stack.completer.prompts[0][1] in {"reasoning", "analysis"}
    [record] = await _history(stack.db)
    assert record.cost_usd == pytest.approx(0.0108)
    assert (record.input_tokens, record.output_tokens) == (120, 480)


async def test_an_escalation_no_model_can_answer_says_why_and_is_still_recorded(
    stack: Stack,
) -> None:
    stack.completer.failure = "claude-sonnet: unavailable (ANTHROPIC_API_KEY is not set)"
    response = await stack.http.post(
        "/api/v1/query",
        json={
            "text": "design a network segmentation plan for iot, guests and servers with "
            "firewall rules and explain the trade-offs"
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert body["route"] == "escalate"
    assert "ANTHROPIC_API_KEY is not set" in body["answer"]
    assert body["model"] is None
    [record] = await _history(stack.db)
    assert record.route == "escalate"
    assert record.cost_usd == 0


async def test_a_context_question_answers_from_stored_context_with_sources(
    stack: Stack, minilm: MiniLMEmbedder
) -> None:
    notes = "Paperless runs on ct 203; consume folder is /srv/scans; OCR language deu+eng."
    await AppContexts(stack.db).put(
        "paperless", "deployment notes", notes, embedding=minilm.embed_sync([notes])[0]
    )
    body = (
        await stack.http.post(
            "/api/v1/query", json={"text": "show the saved notes for the paperless app"}
        )
    ).json()
    assert body["route"] == "context"
    assert body["sources"][0]["kind"] == "context"
    assert body["sources"][0]["title"] == "paperless: deployment notes"
    assert "consume folder" in body["answer"]
    assert stack.calls == []


async def test_the_index_follows_the_registry_when_tool_lists_change(stack: Stack) -> None:
    registry = ServerRegistry(stack.db)
    wol = Tool(
        name="wake_on_lan",
        description="Send a Wake-on-LAN magic packet to a MAC address.",
        input_schema={"type": "object", "properties": {"mac": {"type": "string"}}},
    )
    router = await registry.get("router")
    assert router is not None
    await registry.set_tools("router", [*router.tools, wol])
    report = await stack.service.fleet.refresh()
    assert report is not None and (report.added, report.unchanged) == (1, 6)
    body = (
        await stack.http.post("/api/v1/triage", json={"text": "wake up aa:bb:cc:dd:ee:01 with wol"})
    ).json()
    assert body["candidates"][0]["tool"] == "wake_on_lan"
    assert body["arguments"] == {"mac": "aa:bb:cc:dd:ee:01"}
    await registry.delete("dnsfilter")
    report = await stack.service.fleet.refresh()
    assert report is not None and report.removed == 3
    assert await stack.service.fleet.refresh() is None  # nothing changed: no work
    body = (
        await stack.http.post("/api/v1/triage", json={"text": "would ads.example.com be blocked"})
    ).json()
    assert all(c["server"] == "router" for c in body["candidates"])


async def test_find_tools_returns_callable_names_and_schemas_within_scopes(stack: Stack) -> None:
    found = await stack.service.find_tools("check if a hostname is blocked", k=3)
    assert found[0].name == "dnsfilter__check_host"
    assert found[0].input_schema["required"] == ["hostname"]
    limited = await stack.service.find_tools(
        "check if a hostname is blocked", k=3, servers={"router"}
    )
    assert limited and all(t.server == "router" for t in limited)


async def test_a_failing_tool_call_still_leaves_its_query_record(stack: Stack) -> None:
    class Broken(Exception):
        pass

    async def explode(*_: Any, **__: Any) -> ToolOutcome:
        raise Broken("upstream went away")

    stack.caller.call_tool = explode  # type: ignore[method-assign]
    with pytest.raises(Broken):
        await stack.http.post("/api/v1/query", json={"text": "show the dhcp leases"})
    [record] = await _history(stack.db)
    assert record.route == "tool"
    assert record.answer is None  # nothing to serve from the cache later


async def test_bad_requests_get_json_errors(stack: Stack) -> None:
    response = await stack.http.post("/api/v1/query", json={"text": ""})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/json"
    stack.app.state.triage = None
    response = await stack.http.post("/api/v1/triage", json={"text": "x"})
    assert response.status_code == 503
    assert response.json() == {"error": "triage", "reason": "triage is starting"}
