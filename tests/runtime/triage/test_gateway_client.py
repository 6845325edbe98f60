"""The ToolCaller over the gateway's REST API, against a small app speaking that API's
wire format (``POST /api/v1/mcp/{server}/tools/{tool}``, camelCase JSON, JSON errors)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from runtime.triage.gateway_client import GatewayToolCaller, GatewayUnreachable


def _gateway(seen: list[dict[str, Any]]) -> FastAPI:
    app = FastAPI()

    @app.post("/api/v1/mcp/{server}/tools/{tool}")
    async def call(server: str, tool: str, request: Request) -> JSONResponse:
        seen.append(
            {
                "server": server,
                "tool": tool,
                "body": await request.json(),
                "auth": request.headers.get("authorization"),
                "client": request.headers.get("x-mcpfleet-on-behalf-of"),
            }
        )
        if server == "forbidden":
            return JSONResponse({"error": "forbidden", "reason": "token may not use it"}, 403)
        return JSONResponse(
            {
                "server": server,
                "tool": tool,
                "isError": tool == "broken",
                "content": [{"type": "text", "text": "ok"}],
                "structuredContent": {"n": 1},
                "latencyMs": 2.5,
            }
        )

    return app


async def test_a_call_returns_the_tools_outcome_and_sends_token_and_client() -> None:
    seen: list[dict[str, Any]] = []
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=_gateway(seen))) as http:
        caller = GatewayToolCaller("http://gw/", http, token="t0k")
        outcome = await caller.call_tool("router", "ping_host", {"host": "x"}, client="alice")
        broken = await caller.call_tool("router", "broken", {}, client="alice")
    assert outcome.content == [{"type": "text", "text": "ok"}]
    assert outcome.structured == {"n": 1}
    assert outcome.latency_ms == 2.5
    assert not outcome.is_error
    assert broken.is_error
    assert seen[0] == {
        "server": "router",
        "tool": "ping_host",
        "body": {"host": "x"},
        "auth": "Bearer t0k",
        "client": "alice",
    }


async def test_a_refusal_carries_the_gateways_reason() -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=_gateway([]))) as http:
        caller = GatewayToolCaller("http://gw", http)
        with pytest.raises(GatewayUnreachable, match=r"403.*may not use it"):
            await caller.call_tool("forbidden", "x", {}, client="bob")


async def test_an_unreachable_gateway_is_reported() -> None:
    async with httpx.AsyncClient() as http:
        caller = GatewayToolCaller("http://127.0.0.1:9", http)
        with pytest.raises(GatewayUnreachable, match="cannot reach the gateway"):
            await caller.call_tool("router", "x", {}, client="bob")
