"""Triage inside another process (the gateway): its routes, lifespan and ``find_tools``.

The host wraps these in its own extension type — this package never imports the gateway.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from mcp import types

from runtime.db import Database
from runtime.settings import Settings
from runtime.store import Principal
from runtime.triage.api import create_triage
from runtime.triage.service import TriageError, TriageService, open_triage

__all__ = ["FIND_TOOLS", "TriageHost"]


FIND_TOOLS = types.Tool(
    name="find_tools",
    description=(
        "Search every tool of the fleet by what you want to do, e.g. 'dhcp leases on the "
        "firewall' or 'restart a VM'. Returns the best matching tools you may call, with their "
        "names on this gateway and their input schemas. Use it when the tool list is too long "
        "to browse or was cut short by your client."
    ),
    input_schema={
        "type": "object",
        "properties": {
            "query": {"type": "string", "minLength": 1, "description": "What you want to do."},
            "k": {"type": "integer", "minimum": 1, "maximum": 50, "default": 10},
        },
        "required": ["query"],
    },
    annotations=types.ToolAnnotations(read_only_hint=True, open_world_hint=False),
)


@dataclass
class TriageHost:
    """What a host process (the gateway) mounts: routes, the ``find_tools`` MCP tool and a
    lifespan; the host wraps them in its own extension type (this package never imports it).
    """

    settings: Settings
    options: dict[str, Any] = field(default_factory=dict)
    service: TriageService | None = None

    @property
    def router(self) -> APIRouter:
        return create_triage()

    @property
    def error_handlers(self) -> dict[type[Exception], Any]:
        """TriageError as the host's JSON error shape (``{"error": {"code", "reason"}}``)."""
        return {TriageError: _triage_error}

    def lifespan(self, app: FastAPI) -> contextlib.AbstractAsyncContextManager[None]:
        @contextlib.asynccontextmanager
        async def run() -> AsyncIterator[None]:
            db: Database = app.state.database
            options = {
                "tool_caller": getattr(app.state, "calls", None),
                "completer": getattr(app.state, "model_router", None),
                **self.options,
            }
            calls = getattr(app.state, "calls", None)
            observers: list[Any] | None = getattr(calls, "observers", None)
            async with open_triage(self.settings.loaded_catalog, db, **options) as service:
                self.service = app.state.triage = service
                if observers is not None:  # learn from calls that follow find_tools
                    observers.append(service)
                try:
                    yield
                finally:
                    if observers is not None:
                        observers.remove(service)
                    await service.settle()
                    self.service = app.state.triage = None

        return run()

    async def find_tools(
        self, arguments: dict[str, Any], principal: Principal
    ) -> types.CallToolResult:
        """The ``find_tools`` MCP tool: only tools the caller's grants cover."""
        query = arguments.get("query")
        k = arguments.get("k", 10)
        if not isinstance(query, str) or not query.strip():
            return _tool_error("`query` must be a non-empty string")
        if not isinstance(k, int) or not 1 <= k <= 50:
            return _tool_error("`k` must be an integer from 1 to 50")
        if self.service is None:
            return _tool_error("triage is starting; try again shortly")
        try:
            found = await self.service.find_tools(query, k, principal, client=principal.name)
        except TriageError as exc:
            return _tool_error(exc.reason)
        payload = {"tools": [f.model_dump(by_alias=True) for f in found]}
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=json.dumps(payload, indent=1))],
            structured_content=payload,
        )


async def _triage_error(_: Request, exc: TriageError) -> JSONResponse:
    code = "triage_unavailable" if exc.status == 503 else "triage_error"
    headers = {"Retry-After": "5"} if exc.status == 503 else None
    return JSONResponse(
        {"error": {"code": code, "reason": exc.reason}}, status_code=exc.status, headers=headers
    )


def _tool_error(message: str) -> types.CallToolResult:
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=message)], is_error=True
    )
