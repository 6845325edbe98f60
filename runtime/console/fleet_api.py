"""The console's way to the fleet: the gateway's own HTTP APIs, called in-process.

Every read and action the public API offers goes through it — ``/api/v1/servers``,
``/mcp`` (``tools/list``, ``tools/call``, ``find_tools``), ``/api/v1/triage``,
``/api/v1/query``, ``/api/v1/costs`` — over an ASGI transport into the same app: the same
routes, the same security middleware (allowlist with the browser's address, the signed-in
token, its rate limit and scopes), the same audit records, and no network hop. The console
therefore never imports the gateway, triage or the router, and cannot show a viewer more
than the API would.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import httpx
from starlette.types import ASGIApp

__all__ = ["MCP_PROTOCOL_VERSION", "ApiFailure", "FleetApi"]

MCP_PROTOCOL_VERSION = "2025-11-25"
_ids = itertools.count(1)


class ApiFailure(Exception):
    """The API refused or failed; ``reason`` is its own (safe) explanation."""

    def __init__(self, status: int, reason: str, *, code: str | None = None) -> None:
        super().__init__(f"{status}: {reason}")
        self.status = status
        self.reason = reason
        self.code = code


class FleetApi:
    """Calls on behalf of one viewer: ``token`` (None without authentication) and the
    browser's ``client`` address, so the allowlist judges the real caller."""

    def __init__(
        self,
        app: ASGIApp,
        token: str | None,
        *,
        client: tuple[str, int] = ("127.0.0.1", 0),
        host: str = "console.internal",
    ) -> None:
        self._app = app
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._client = client
        self._host = host

    async def servers(self) -> list[dict[str, Any]]:
        """``GET /api/v1/servers``: the servers the token may use, with health and tools."""
        body = await self._request("GET", "/api/v1/servers")
        servers = body.get("servers") if isinstance(body, dict) else None
        return [s for s in servers or [] if isinstance(s, dict)]

    async def costs(self, days: int) -> dict[str, Any]:
        body = await self._request("GET", "/api/v1/costs", params={"days": days})
        return body if isinstance(body, dict) else {}

    async def triage(self, text: str) -> dict[str, Any]:
        body = await self._request("POST", "/api/v1/triage", json={"text": text})
        return body if isinstance(body, dict) else {}

    async def query(
        self, text: str, *, confirm: bool = False, arguments: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {"text": text, "confirm": confirm}
        if arguments:
            payload["arguments"] = arguments
        body = await self._request("POST", "/api/v1/query", json=payload)
        return body if isinstance(body, dict) else {}

    async def tools(self) -> list[dict[str, Any]]:
        """MCP ``tools/list`` (every page): names as on the gateway, with input schemas."""
        tools: list[dict[str, Any]] = []
        cursor: str | None = None
        for _ in range(100):  # a bound, not a page count anyone reaches
            params = {"cursor": cursor} if cursor else {}
            result = await self._mcp("tools/list", params)
            tools += [t for t in result.get("tools") or [] if isinstance(t, dict)]
            cursor = result.get("nextCursor")
            if not cursor:
                break
        return tools

    async def call_tool(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        """MCP ``tools/call``: the tool's result (``isError`` is the tool's own verdict)."""
        return await self._mcp("tools/call", {"name": name, "arguments": arguments})

    async def find_tools(self, query: str, k: int = 10) -> list[dict[str, Any]]:
        """Triage's ``find_tools``, the same search an MCP client gets."""
        result = await self.call_tool("find_tools", {"query": query, "k": k})
        if result.get("isError"):
            raise ApiFailure(503, _text_of(result) or "find_tools failed")
        found = (result.get("structuredContent") or {}).get("tools")
        return [t for t in found or [] if isinstance(t, dict)]

    # ------------------------------------------------------------------ transport

    async def _mcp(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        message = {"jsonrpc": "2.0", "id": next(_ids), "method": method, "params": params}
        headers = {
            "Accept": "application/json, text/event-stream",
            "MCP-Protocol-Version": MCP_PROTOCOL_VERSION,
        }
        body = await self._request("POST", "/mcp", json=message, headers=headers)
        if not isinstance(body, dict):
            raise ApiFailure(502, "the MCP endpoint answered something other than JSON-RPC")
        if "error" in body:
            raw_error = body["error"]
            error: dict[str, Any] = raw_error if isinstance(raw_error, dict) else {}
            raw_data = error.get("data")
            data: dict[str, Any] = raw_data if isinstance(raw_data, dict) else {}
            raise ApiFailure(
                _rpc_status(error),
                str(error.get("message") or "MCP error"),
                code=str(data.get("code")) if data.get("code") else None,
            )
        result = body.get("result")
        return result if isinstance(result, dict) else {}

    async def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        transport = httpx.ASGITransport(
            app=self._app, client=self._client, raise_app_exceptions=False
        )
        headers = {**self._headers, **kwargs.pop("headers", {})}
        async with httpx.AsyncClient(
            transport=transport, base_url=f"http://{self._host}", timeout=None
        ) as http:
            response = await http.request(method, path, headers=headers, **kwargs)
        try:
            body = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = None
        if response.status_code >= 400:
            status = response.status_code
            code, reason = _error_of(body)
            raise ApiFailure(status, reason or response.reason_phrase or "error", code=code)
        return body


def _error_of(body: Any) -> tuple[str | None, str | None]:
    """Both error shapes the runtime answers with, and JSON-RPC's."""
    if not isinstance(body, dict):
        return None, None
    error = body.get("error")
    if isinstance(error, dict):
        reason = error.get("reason") or error.get("message")
        code = error.get("code")
        return (str(code) if code is not None else None), (str(reason) if reason else None)
    if isinstance(error, str):
        return error, str(body.get("reason") or error)
    detail = body.get("detail")
    return None, (json.dumps(detail) if detail is not None else None)


def _rpc_status(error: dict[str, Any]) -> int:
    """The HTTP status a gateway refusal carries in its JSON-RPC ``data`` (else 502)."""
    data = error.get("data")
    status = data.get("status") if isinstance(data, dict) else None
    return status if isinstance(status, int) and 400 <= status < 600 else 502


def _text_of(result: dict[str, Any]) -> str:
    parts = [b.get("text", "") for b in result.get("content") or [] if isinstance(b, dict)]
    return " ".join(p for p in parts if p)
