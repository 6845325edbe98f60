"""Sign-in, sign-out, the API reference and the static files: the pages that need no
session (the reference documents a public interface, as ``/openapi.json`` does)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.routing import APIRoute
from starlette.datastructures import FormData
from starlette.responses import HTMLResponse, RedirectResponse, Response

from runtime.console.assets import ASSET_PREFIX
from runtime.console.gate import Denied, SignInRequired, Viewer
from runtime.console.rendering import secure_headers
from runtime.console.routing import (
    ConsoleRoute,
    ConsoleState,
    checked_form,
    console_state,
    signed_in,
)
from runtime.console.session import clear_session, same_origin, start_session

__all__ = ["assets_router", "entry_router", "safe_next"]

_HTTP_METHODS = ("get", "post", "put", "patch", "delete")


def safe_next(target: str | None) -> str:
    """Only a path on this site (never ``//host`` or ``https://…``): no open redirect."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def entry_router() -> APIRouter:
    router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

    @router.get("/signin", response_class=HTMLResponse)
    async def sign_in_form(
        request: Request, console: ConsoleState = Depends(console_state)
    ) -> Response:
        return _sign_in(request, console, request.query_params.get("reason") or "")

    @router.post("/signin")
    async def sign_in(request: Request, console: ConsoleState = Depends(console_state)) -> Response:
        if not same_origin(request, console.public_url):
            raise Denied(403, "this form was sent from another site")
        form = await request.form(max_files=0, max_fields=10)
        token = str(form.get("token") or "").strip()
        target = safe_next(str(form.get("next") or ""))
        if not token:
            return _sign_in(request, console, "paste a token to sign in", status=400)
        try:
            await console.gate.admit(request, token)
        except Denied as exc:
            if exc.status != 401:
                raise
            return _sign_in(request, console, exc.reason, status=401)
        response = RedirectResponse(target, status_code=303)
        start_session(response, token, secure=console.secure_cookies(request))
        return response

    @router.post("/signout")
    async def sign_out(
        request: Request,
        console: ConsoleState = Depends(console_state),
        form: FormData = Depends(checked_form),
    ) -> Response:
        response = RedirectResponse("/signin", status_code=303)
        clear_session(response, secure=console.secure_cookies(request))
        return response

    @router.get("/docs", response_class=HTMLResponse)
    async def reference(
        request: Request, console: ConsoleState = Depends(console_state)
    ) -> Response:
        """The API reference, rendered from the app's own OpenAPI document."""
        document = request.app.openapi()
        try:  # signed in: the full navigation; otherwise the page is public anyway
            viewer: Viewer | None = await signed_in(request, console)
        except (SignInRequired, Denied):
            viewer = None
        return console.pages.render(
            request,
            "reference.html",
            {"section": "docs", "doc": document, "groups": _operations(document), "viewer": viewer},
        )

    @router.get("/redoc")
    async def redoc() -> Response:
        return RedirectResponse("/docs", status_code=301)

    return router


def assets_router() -> APIRouter:
    """Static files, cacheable (their URLs carry a digest), with the same headers."""
    router = APIRouter(route_class=APIRoute, include_in_schema=False)

    @router.get(ASSET_PREFIX + "{name}")
    async def asset(name: str, console: ConsoleState = Depends(console_state)) -> Response:
        return secure_headers(console.assets.response(name), cacheable=True)

    return router


def _sign_in(
    request: Request, console: ConsoleState, reason: str, *, status: int = 200
) -> Response:
    return console.pages.render(
        request,
        "signin.html",
        {
            "section": "signin",
            "reason": reason,
            "next": safe_next(request.query_params.get("next")),
        },
        status=status,
    )


def _operations(document: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    """Operations grouped by their first tag, in document order."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for path, item in (document.get("paths") or {}).items():
        for method in _HTTP_METHODS:
            operation = item.get(method) if isinstance(item, dict) else None
            if not isinstance(operation, dict):
                continue
            tag = (operation.get("tags") or ["other"])[0]
            groups.setdefault(str(tag), []).append(
                {
                    "method": method.upper(),
                    "path": path,
                    "id": f"{method}-{path}".replace("/", "-").replace("{", "").replace("}", ""),
                    "summary": operation.get("summary") or "",
                    "description": operation.get("description") or "",
                    "parameters": operation.get("parameters") or [],
                    "body": ((operation.get("requestBody") or {}).get("content") or {}),
                    "responses": operation.get("responses") or {},
                    "secured": bool(operation.get("security")),
                }
            )
    return list(groups.items())
