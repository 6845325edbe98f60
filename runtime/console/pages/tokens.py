"""Tokens: create (name, servers, admin, lifetime; the secret shown once) and revoke.

Only for a token with the admin scope (:attr:`runtime.store.Principal.admin`): an admin
can mint any token, so the page is refused to everyone else before anything is read.
Revocations go through the token store the gate verifies with, so they apply at once in
this process (other replicas within their token cache's TTL).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.datastructures import FormData
from starlette.responses import HTMLResponse, RedirectResponse, Response

from catalog import parse_duration
from runtime.console.gate import Denied, Viewer
from runtime.console.routing import (
    ConsoleRoute,
    ConsoleState,
    checked_form,
    console_state,
    signed_in,
)
from runtime.store import ServerRegistry, TokenNameTaken, TokenNotFound

__all__ = ["tokens_router"]

NEVER = "never"


def admin_only(viewer: Viewer = Depends(signed_in)) -> Viewer:
    """Raises: Denied (403) unless the token has the admin scope."""
    if not viewer.admin:
        raise Denied(
            403,
            f"managing tokens needs a token with the admin scope; {viewer.name!r} has none "
            "(an operator grants it with `mcpfleet token create --admin`)",
        )
    return viewer


def tokens_router() -> APIRouter:
    router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

    @router.get("/tokens", response_class=HTMLResponse)
    async def tokens(
        request: Request,
        viewer: Viewer = Depends(admin_only),
        console: ConsoleState = Depends(console_state),
    ) -> Response:
        return await _page(request, console, viewer, {})

    @router.post("/tokens", response_class=HTMLResponse)
    async def create(
        request: Request,
        viewer: Viewer = Depends(admin_only),
        console: ConsoleState = Depends(console_state),
        form: FormData = Depends(checked_form),
    ) -> Response:
        name = str(form.get("name") or "").strip()
        scopes = [str(s) for s in form.getlist("scopes") if isinstance(s, str) and s]
        admin = form.get("admin") == "yes"
        ttl_text = str(form.get("ttl") or "").strip() or _default_ttl(console)
        entered = {"name": name, "scopes": scopes, "admin": admin, "ttl": ttl_text}
        known = await _servers(console)
        unknown = sorted(set(scopes) - set(known))
        try:
            if unknown:
                raise ValueError(f"unknown server(s): {', '.join(unknown)}")
            ttl = _lifetime(ttl_text)
            issued = await console.gate.tokens(request).create(
                name, scopes=scopes or None, ttl=ttl, admin=admin
            )
        except (ValueError, TokenNameTaken) as exc:
            return await _page(
                request, console, viewer, {"error": str(exc), "entered": entered}, status=400
            )
        return await _page(request, console, viewer, {"issued": issued})

    @router.post("/tokens/{name}/revoke")
    async def revoke(
        request: Request,
        name: str,
        viewer: Viewer = Depends(admin_only),
        console: ConsoleState = Depends(console_state),
        form: FormData = Depends(checked_form),
    ) -> Response:
        try:
            await console.gate.tokens(request).revoke(name)
        except TokenNotFound as exc:
            return await _page(request, console, viewer, {"error": str(exc)}, status=404)
        return RedirectResponse(f"/tokens?revoked={name}", status_code=303)

    return router


async def _page(
    request: Request,
    console: ConsoleState,
    viewer: Viewer,
    context: dict[str, Any],
    *,
    status: int = 200,
) -> Response:
    listed = await console.gate.tokens(request).list_tokens()
    return console.pages.render(
        request,
        "tokens.html",
        {
            "viewer": viewer,
            "section": "tokens",
            "tokens": listed,
            "servers": await _servers(console),
            "default_ttl": _default_ttl(console),
            "revoked": request.query_params.get("revoked"),
            "entered": {},
            **context,
        },
        status=status,
    )


async def _servers(console: ConsoleState) -> list[str]:
    """Names a token may be scoped to: the catalog's servers and what discovery found."""
    names = {s.name for s in console.catalog.servers}
    names |= {r.name for r in await ServerRegistry(console.database).list_servers()}
    return sorted(names)


def _default_ttl(console: ConsoleState) -> str:
    return str(console.catalog.platform.gateway.token_lifetime)


def _lifetime(text: str) -> timedelta | None:
    """Raises: ValueError with the reason."""
    if text.lower() == NEVER:
        return None
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise ValueError(f"lifetime: {exc}, or 'never'") from None
