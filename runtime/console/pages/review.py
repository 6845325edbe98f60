"""Proposals and audit: what discovery wants to change in the catalog (with the diff and
the validation result) and where the fleet drifts from it; and every tool call, filtered
and paginated. Both read the data layer directly — there is no API for them — and show
only the servers the viewer's token allows.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import HTMLResponse, Response

from runtime.console.gate import Denied, Viewer
from runtime.console.routing import (
    ConsoleRoute,
    ConsoleState,
    console_state,
    signed_in,
)
from runtime.store import AuditFilter, AuditSearch, DiscoveryNotes
from runtime.store.audit_search import FAILED

__all__ = ["review_router"]

PAGE_SIZE = 50
STATUSES = (
    "ok",
    FAILED,
    "tool_error",
    "upstream_timeout",
    "upstream_unavailable",
    "upstream_failed",
    "cancelled",
)


def review_router() -> APIRouter:
    router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

    @router.get("/proposals", response_class=HTMLResponse)
    async def proposals(
        request: Request,
        viewer: Viewer = Depends(signed_in),
        console: ConsoleState = Depends(console_state),
    ) -> Response:
        rows = [
            n for n in await DiscoveryNotes(console.database).servers() if viewer.allows(n.name)
        ]
        return console.pages.render(
            request,
            "proposals.html",
            {
                "viewer": viewer,
                "section": "proposals",
                "proposed": [n for n in rows if n.proposal],
                "drifted": [n for n in rows if n.drifted],
                "discovered": [n for n in rows if n.source == "discovery"],
            },
        )

    @router.get("/audit", response_class=HTMLResponse)
    async def audit(
        request: Request,
        server: str = Query("", max_length=200),
        tool: str = Query("", max_length=200),
        client: str = Query("", max_length=200),
        status: str = Query("", max_length=64),
        since: str = Query("", max_length=40),
        until: str = Query("", max_length=40),
        cursor: str = Query("", max_length=200),
        viewer: Viewer = Depends(signed_in),
        console: ConsoleState = Depends(console_state),
    ) -> Response:
        search = AuditSearch(console.database)
        known = set(await search.servers()) | {s.name for s in console.catalog.servers}
        allowed = sorted(name for name in known if viewer.allows(name))
        if server and server not in allowed:
            raise Denied(403, f"your token ({viewer.name}) may not see calls to {server!r}")
        where = AuditFilter(
            servers=[server] if server else allowed,
            tool=tool.strip() or None,
            client=client.strip() or None,
            status=status or None,
            since=_moment(since, "since"),
            until=_moment(until, "until"),
        )
        try:
            page = await search.page(where, limit=PAGE_SIZE, cursor=cursor or None)
        except ValueError as exc:
            raise Denied(400, str(exc)) from None
        query = {
            "server": server,
            "tool": tool,
            "client": client,
            "status": status,
            "since": since,
            "until": until,
        }
        return console.pages.render(
            request,
            "audit.html",
            {
                "viewer": viewer,
                "section": "audit",
                "rows": page.rows,
                "next_cursor": page.next_cursor,
                "first_page": not cursor,
                "servers": allowed,
                "statuses": STATUSES,
                "query": query,
                "query_string": "&".join(f"{k}={_q(v)}" for k, v in query.items() if v),
            },
        )

    return router


def _moment(text: str, what: str) -> datetime | None:
    """A ``datetime-local`` value (or any ISO time); without a zone it means UTC.

    Raises:
        Denied: not a time (400).
    """
    if not text.strip():
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise Denied(400, f"{what}: {text!r} is not a date and time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _q(value: str) -> str:
    return quote(value, safe="")
