"""Tools: search the fleet with ``find_tools`` (triage's engine, as MCP clients get it),
read a tool's schema, and try it with a form made from that schema.

A tool the gateway does not know to be read-only runs only after an explicit second
step that shows exactly what will be sent — the console never acts on a guess either.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.datastructures import FormData
from starlette.responses import HTMLResponse, Response

from runtime.console.fleet_api import ApiFailure, FleetApi
from runtime.console.forms import ToolForm, read_arguments, schema_problems
from runtime.console.gate import Denied, Viewer
from runtime.console.pages.fleet import ServerView
from runtime.console.routing import (
    ConsoleRoute,
    ConsoleState,
    NotFound,
    checked_form,
    console_state,
    fleet_api,
    signed_in,
)

__all__ = ["tools_router"]

CONFIRMED = "yes"


def tools_router() -> APIRouter:
    router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

    @router.get("/tools", response_class=HTMLResponse)
    async def tools(
        request: Request,
        q: str = Query("", max_length=500),
        k: int = Query(10, ge=1, le=50),
        viewer: Viewer = Depends(signed_in),
        api: FleetApi = Depends(fleet_api),
        console: ConsoleState = Depends(console_state),
    ) -> Response:
        servers = [ServerView.of(s) for s in await api.servers()]
        read_only = {
            t.get("federatedName"): bool(t.get("readOnly")) for s in servers for t in s.tools
        }
        found: list[dict[str, Any]] | None = None
        if q.strip():
            found = [
                {**hit, "readOnly": read_only.get(hit.get("name"))}
                for hit in await api.find_tools(q.strip(), k)
            ]
        return console.pages.render(
            request,
            "tools.html",
            {
                "viewer": viewer,
                "section": "tools",
                "q": q,
                "k": k,
                "found": found,
                "servers": servers,
            },
        )

    @router.get("/tools/{server}/{tool}", response_class=HTMLResponse)
    async def tool_page(
        request: Request,
        server: str,
        tool: str,
        viewer: Viewer = Depends(signed_in),
        api: FleetApi = Depends(fleet_api),
        console: ConsoleState = Depends(console_state),
    ) -> Response:
        found = await _tool(api, viewer, server, tool)
        form = ToolForm.of(found["inputSchema"])
        return _render(request, console, viewer, found, form)

    @router.post("/tools/{server}/{tool}", response_class=HTMLResponse)
    async def try_tool(
        request: Request,
        server: str,
        tool: str,
        viewer: Viewer = Depends(signed_in),
        api: FleetApi = Depends(fleet_api),
        console: ConsoleState = Depends(console_state),
        form: FormData = Depends(checked_form),
    ) -> Response:
        found = await _tool(api, viewer, server, tool)
        schema = found["inputSchema"]
        values = {k: v for k, v in form.items() if isinstance(v, str)}
        if form.get("confirm") == CONFIRMED and isinstance(form.get("confirmed"), str):
            try:
                arguments = json.loads(str(form.get("confirmed")))
            except json.JSONDecodeError:
                arguments = None
            if not isinstance(arguments, dict):
                raise Denied(400, "the confirmed arguments were altered; fill in the form again")
            problems = schema_problems(schema, arguments)
        else:
            arguments, problems = read_arguments(schema, values)
        if problems:
            tool_form = ToolForm.of(schema, values, problems)
            return _render(request, console, viewer, found, tool_form, status=400)
        tool_form = ToolForm.of(schema, values)
        if not found["readOnly"] and form.get("confirm") != CONFIRMED:
            return _render(request, console, viewer, found, tool_form, pending=arguments)
        try:
            result = await api.call_tool(found["name"], arguments)
        except ApiFailure as exc:
            if exc.status == 401:
                raise
            return _render(
                request,
                console,
                viewer,
                found,
                tool_form,
                failure=exc,
                sent=arguments,
                status=exc.status,
            )
        return _render(request, console, viewer, found, tool_form, result=result, sent=arguments)

    return router


async def _tool(api: FleetApi, viewer: Viewer, server: str, tool: str) -> dict[str, Any]:
    """The tool as the viewer's token sees it: gateway name, read-only flag, schema.

    Raises:
        Denied: the token may not use ``server``.
        NotFound: no such server or tool (or the server is down and lists nothing).
    """
    if not viewer.allows(server):
        raise Denied(403, f"your token ({viewer.name}) may not use server {server!r}")
    servers = [ServerView.of(s) for s in await api.servers() if s.get("name") == server]
    if not servers:
        raise NotFound(f"no server named {server!r} in this fleet")
    info = next((t for t in servers[0].tools if t.get("name") == tool), None)
    if info is None:
        raise NotFound(f"{server!r} lists no tool named {tool!r}")
    listed = next(
        (t for t in await api.tools() if t.get("name") == info.get("federatedName")), None
    )
    if listed is None:
        raise NotFound(f"{server}/{tool} is not offered right now (is {server!r} healthy?)")
    schema = listed.get("inputSchema")
    return {
        "server": server,
        "tool": tool,
        "name": str(info.get("federatedName")),
        "description": str(listed.get("description") or info.get("description") or ""),
        "readOnly": bool(info.get("readOnly")),
        "inputSchema": schema if isinstance(schema, dict) else {},
        "annotations": listed.get("annotations") or {},
        "title": listed.get("title"),
        "health": servers[0].health,
    }


def _render(
    request: Request,
    console: ConsoleState,
    viewer: Viewer,
    tool: dict[str, Any],
    form: ToolForm,
    *,
    status: int = 200,
    **outcome: Any,
) -> Response:
    return console.pages.render(
        request,
        "tool.html",
        {"viewer": viewer, "section": "tools", "tool": tool, "form": form, **outcome},
        status=status,
    )
