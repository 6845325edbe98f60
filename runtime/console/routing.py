"""What every console route shares: the console's state, the viewer, checked forms, and
one place that turns the console's exceptions into pages.

:class:`ConsoleRoute` catches them for every page, so a refusal is a readable page with
the right status (never a JSON body or a stack trace), a lapsed session is a redirect to
the sign-in form, and every response gets the security headers.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.routing import APIRoute
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from catalog import Catalog
from runtime.console.assets import Assets
from runtime.console.fleet_api import ApiFailure, FleetApi
from runtime.console.gate import Denied, Gate, SignInRequired, Viewer
from runtime.console.rendering import Pages, secure_headers
from runtime.console.session import (
    CSRF_FIELD,
    csrf_token,
    csrf_valid,
    same_origin,
    session_token,
)
from runtime.db import Database

__all__ = [
    "ConsoleRoute",
    "ConsoleState",
    "NotFound",
    "checked_form",
    "console_state",
    "fleet_api",
    "signed_in",
]

_MAX_FIELDS = 500


class NotFound(Exception):
    """A page for something that does not exist (or that the viewer may not know about)."""


@dataclass(frozen=True)
class ConsoleState:
    """What the console's lifespan puts on ``app.state.console``."""

    gate: Gate
    database: Database
    catalog: Catalog
    pages: Pages
    assets: Assets
    public_url: str | None = None

    def secure_cookies(self, request: Request) -> bool:
        """Mark the cookie Secure whenever the browser reaches us over TLS."""
        return request.url.scheme == "https" or bool(
            self.public_url and self.public_url.startswith("https://")
        )


def console_state(request: Request) -> ConsoleState:
    state = getattr(request.app.state, "console", None)
    if not isinstance(state, ConsoleState):
        raise Denied(503, "the console is starting; try again shortly", retry_after="2")
    return state


async def signed_in(request: Request, console: ConsoleState = Depends(console_state)) -> Viewer:
    """The viewer the session cookie speaks for, admitted by the host's gate.

    Raises:
        SignInRequired: no cookie, or the gate refused its token (401).
        Denied: any other refusal (address not allowed, rate limited, starting).
    """
    token = session_token(request)
    try:
        principal = await console.gate.admit(request, token)
    except Denied as exc:
        if exc.status == 401:
            raise SignInRequired(exc.reason if token else "") from None
        raise
    request.state.viewer = viewer = Viewer(principal, token, csrf_token(token))
    return viewer


def fleet_api(request: Request, viewer: Viewer = Depends(signed_in)) -> FleetApi:
    client = request.client
    address = (client.host, client.port) if client else ("127.0.0.1", 0)
    return FleetApi(request.app, viewer.token, client=address)


async def checked_form(request: Request, viewer: Viewer = Depends(signed_in)) -> FormData:
    """The POSTed form, once it is shown to come from a console page of this session.

    Raises:
        Denied: another origin, or a missing or wrong CSRF token (403).
    """
    console = console_state(request)
    if not same_origin(request, console.public_url):
        raise Denied(403, "this form was sent from another site")
    form = await request.form(max_files=0, max_fields=_MAX_FIELDS)
    if not csrf_valid(viewer.token, form.get(CSRF_FIELD)):
        raise Denied(403, "the form's security token is missing or stale; reload the page")
    return form


class ConsoleRoute(APIRoute):
    """Renders the console's exceptions as pages and adds the security headers."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def page(request: Request) -> Response:
            try:
                response = await handle(request)
            except SignInRequired as exc:
                response = _to_sign_in(request, exc.reason)
            except Denied as exc:
                headers = {"Retry-After": exc.retry_after} if exc.retry_after else None
                response = _error(request, exc.status, exc.reason, headers)
            except ApiFailure as exc:
                if exc.status == 401:
                    response = _to_sign_in(request, exc.reason)
                else:
                    response = _error(request, exc.status, exc.reason)
            except NotFound as exc:
                response = _error(request, 404, str(exc) or "not found")
            return secure_headers(response)

        return page


def _to_sign_in(request: Request, reason: str) -> Response:
    if request.headers.get("x-console-fragment"):
        return Response("signed out", status_code=401, media_type="text/plain")
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    location = f"/signin?next={quote(target, safe='')}"
    if reason:
        location += f"&reason={quote(reason[:200], safe='')}"
    return RedirectResponse(location, status_code=303)


def _error(
    request: Request, status: int, reason: str, headers: dict[str, str] | None = None
) -> Response:
    state = getattr(request.app.state, "console", None)
    viewer = getattr(request.state, "viewer", None)
    if not isinstance(state, ConsoleState):
        return Response(reason, status_code=status, media_type="text/plain", headers=headers)
    return state.pages.render(
        request,
        "error.html",
        {"status": status, "reason": reason, "viewer": viewer},
        status=status,
        headers=headers,
    )
