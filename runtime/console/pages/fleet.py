"""Fleet: every server the viewer may use, with health, breakers, endpoints and tools;
the table refreshes itself (a fragment polled by the page's script) — and a server page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import HTMLResponse, Response

from runtime.console.fleet_api import FleetApi
from runtime.console.gate import Denied, Viewer
from runtime.console.routing import (
    ConsoleRoute,
    ConsoleState,
    NotFound,
    console_state,
    fleet_api,
    signed_in,
)
from runtime.store import ServerRegistry

__all__ = ["ServerView", "fleet_router"]

_CIRCUIT_ORDER = {"open": 2, "half_open": 1, "closed": 0}


@dataclass(frozen=True)
class ServerView:
    """One ``/api/v1/servers`` item, read defensively and summarised for a table row."""

    name: str
    kind: str
    description: str
    health: str
    source: str
    endpoints: list[dict[str, Any]] = field(default_factory=list)
    tools: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def of(cls, item: dict[str, Any]) -> ServerView:
        return cls(
            name=str(item.get("name", "")),
            kind=str(item.get("kind", "")),
            description=str(item.get("description") or ""),
            health=str(item.get("health") or "unknown"),
            source=str(item.get("source") or ""),
            endpoints=[e for e in item.get("endpoints") or [] if isinstance(e, dict)],
            tools=[t for t in item.get("tools") or [] if isinstance(t, dict)],
        )

    @property
    def transports(self) -> list[str]:
        return sorted({str(e.get("transport")) for e in self.endpoints if e.get("transport")})

    @property
    def circuit(self) -> str:
        """The worst breaker state among the endpoints."""
        states = [str(e.get("circuit") or "closed") for e in self.endpoints]
        return max(states, key=lambda s: _CIRCUIT_ORDER.get(s, 0), default="closed")

    @property
    def last_error(self) -> str | None:
        errors = [str(e["lastError"]) for e in self.endpoints if e.get("lastError")]
        return errors[0] if errors else None

    @property
    def calls(self) -> int:
        return sum(int(e.get("calls") or 0) for e in self.endpoints)

    @property
    def read_only_tools(self) -> int:
        return sum(1 for t in self.tools if t.get("readOnly"))


def fleet_router() -> APIRouter:
    router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

    @router.get("/", response_class=HTMLResponse)
    async def fleet(
        request: Request,
        viewer: Viewer = Depends(signed_in),
        api: FleetApi = Depends(fleet_api),
        console: ConsoleState = Depends(console_state),
    ) -> Response:
        servers = [ServerView.of(s) for s in await api.servers()]
        return console.pages.render(
            request, "fleet.html", {"viewer": viewer, "section": "fleet", "servers": servers}
        )

    @router.get("/fleet/table", response_class=HTMLResponse)
    async def fleet_table(
        api: FleetApi = Depends(fleet_api), console: ConsoleState = Depends(console_state)
    ) -> Response:
        """The table alone, for the page's live refresh."""
        servers = [ServerView.of(s) for s in await api.servers()]
        return HTMLResponse(console.pages.fragment("_fleet_table.html", {"servers": servers}))

    @router.get("/servers/{name}", response_class=HTMLResponse)
    async def server_page(
        request: Request,
        name: str,
        viewer: Viewer = Depends(signed_in),
        api: FleetApi = Depends(fleet_api),
        console: ConsoleState = Depends(console_state),
    ) -> Response:
        if not viewer.allows(name):
            raise Denied(403, f"your token ({viewer.name}) may not use server {name!r}")
        found = [ServerView.of(s) for s in await api.servers() if s.get("name") == name]
        if not found:
            raise NotFound(f"no server named {name!r} in this fleet")
        record = await ServerRegistry(console.database).get(name)
        return console.pages.render(
            request,
            "server.html",
            {"viewer": viewer, "section": "fleet", "server": found[0], "record": record},
        )

    return router
