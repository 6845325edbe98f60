"""The seed plan's names for the gateway's endpoints, answered by the real ones.

The plan's examples call ``GET /health`` (its load test), ``GET /api/v1/metrics``,
``POST /api/v1/mcp/kubernetes-prod-mcp/tools/list_pods`` (a server by its Kubernetes
name, a tool by the catalog's ``toolAliases``) and ``POST /api/v1/query`` with
``{"server", "tool", "args"}`` (a direct tool call), mostly with ``curl -d`` and no
``Content-Type``. Here:

* ``/health`` and ``/api/v1/metrics`` are routes of their own (open, like the originals);
* :class:`SeedAliases` rewrites the other two, before routing, into the real tool-call
  route, so security, scopes, audit, metrics and errors are that route's own (a direct
  call through ``/api/v1/query`` where triage serves that path, as in every gateway pod);
* :class:`~runtime.request_bodies.CurlJsonBodies` reads ``curl -d`` JSON as JSON.

Every alias is in the OpenAPI document (:func:`install_seed_aliases`). docs/seed.md lists
each plan example and what answers it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, FastAPI, Response

from catalog.naming import server_name_of
from runtime.gateway.metrics import CONTENT_TYPE
from runtime.gateway.rest import ERROR_TEXT, health, metrics
from runtime.gateway.schemas import HealthResponse
from runtime.request_bodies import (
    ASGIApp,
    CurlJsonBodies,
    Receive,
    Scope,
    Send,
    read_body,
    replay,
    with_header,
)

__all__ = ["ALIAS_PATHS", "SeedAliases", "install_seed_aliases", "resolve_server"]

CALL_PATH = "/api/v1/mcp/{server}/tools/{tool}"
QUERY_PATH = "/api/v1/query"
ALIAS_PATHS = ("/health", "/api/v1/metrics")
_CALL = re.compile(r"^/api/v1/mcp/(?P<server>[^/]+)/tools/(?P<tool>[^/]+)$")
_CALL_KEYS = frozenset({"server", "tool", "args", "arguments"})


def _alias_router() -> APIRouter:
    router = APIRouter(tags=["health"])
    router.add_api_route(
        "/health",
        health,
        methods=["GET"],
        response_model=HealthResponse,
        response_model_by_alias=True,
        summary="The seed's health path: same as /api/v1/health (no authentication)",
    )
    router.add_api_route(
        "/api/v1/metrics",
        metrics,
        methods=["GET"],
        response_class=Response,
        summary="The seed's metrics path: same as /metrics (no authentication)",
        responses={200: {"content": {CONTENT_TYPE: {}}, "description": "Prometheus text."}},
    )
    return router


def resolve_server(name: str, known: set[str]) -> str:
    """A server's catalog name from its own or its Kubernetes name (``<name>-mcp``)."""
    if name in known:
        return name
    short = server_name_of(name)
    return short if short in known else name


def _known_servers(scope: Scope) -> set[str]:
    pool = getattr(getattr(scope.get("app"), "state", None), "pool", None)
    return {u.name for u in pool.upstreams()} if pool is not None else set()


def _tool_aliases(scope: Scope, server: str) -> Mapping[str, str]:
    config = getattr(getattr(scope.get("app"), "state", None), "config", None)
    aliases: Mapping[str, Mapping[str, str]] = getattr(config, "tool_aliases", {}) or {}
    return aliases.get(server, {})


def _serves(scope: Scope, path: str) -> bool:
    """Whether the app documents (so serves) ``path``: ``/api/v1/query`` only with triage
    hosted. The document is built once and cached by the app."""
    app = scope.get("app")
    openapi = getattr(app, "openapi", None)
    return callable(openapi) and path in openapi().get("paths", {})


def _with_path(scope: Scope, path: str) -> Scope:
    return {**scope, "path": path, "raw_path": path.encode()}


class SeedAliases:
    """ASGI middleware: the seed's tool-call spellings become the real tool-call route."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        if path == QUERY_PATH and _serves(scope, QUERY_PATH):
            buffered = await read_body(receive)
            receive = replay(buffered.messages, receive)
            call = _direct_call(buffered.body)
            if call is not None:
                server, tool, arguments = call
                body = json.dumps(arguments).encode()
                scope = with_header(
                    _with_path(scope, f"/api/v1/mcp/{server}/tools/{tool}"),
                    b"content-type",
                    b"application/json",
                )
                scope = with_header(scope, b"content-length", str(len(body)).encode())
                receive = replay([{"type": "http.request", "body": body}], receive)
                path = scope["path"]
        match = _CALL.match(path)
        if match is not None:
            server = resolve_server(match["server"], _known_servers(scope))
            tool = _tool_aliases(scope, server).get(match["tool"], match["tool"])
            if (server, tool) != (match["server"], match["tool"]):
                scope = _with_path(scope, f"/api/v1/mcp/{server}/tools/{tool}")
        await self.app(scope, receive, send)


def _direct_call(body: bytes | None) -> tuple[str, str, dict[str, Any]] | None:
    """``{"server", "tool", "args"}`` (the seed's direct call), or None for anything else."""
    if body is None:
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict) or not {"server", "tool"} <= data.keys():
        return None
    if not data.keys() <= _CALL_KEYS:
        return None
    server, tool = data["server"], data["tool"]
    arguments = data.get("args", data.get("arguments", {}))
    names_ok = all(isinstance(v, str) and v and "/" not in v for v in (server, tool))
    if not names_ok or not isinstance(arguments, dict):
        return None
    return server, tool, arguments


def install_seed_aliases(app: FastAPI) -> None:
    """Mount the alias routes and middleware, and say what they do in the OpenAPI document."""
    app.include_router(_alias_router())
    app.add_middleware(SeedAliases)
    app.add_middleware(CurlJsonBodies)
    built = app.openapi

    def openapi() -> dict[str, Any]:
        doc = built()
        _document(doc)
        return doc

    app.openapi = openapi  # type: ignore[method-assign]


_CALL_NOTE = (
    "\n\n`{server}` may also be the server's Kubernetes name, `<server>-mcp` (the seed "
    "plan's, e.g. `kubernetes-prod-mcp`), and `{tool}` one of the catalog's `toolAliases` "
    "for it (e.g. `list_pods`). A JSON body sent without a Content-Type (`curl -d`) is "
    "read as JSON."
)
_QUERY_NOTE = (
    "\n\nA body of the form `{\"server\", \"tool\", \"args\"}` (the seed plan's direct call) "
    f"is the tool call `POST {CALL_PATH}` instead, with its answers and errors."
)
_DIRECT_CALL = {
    "type": "object",
    "title": "DirectToolCall",
    "description": "The seed's direct call: run `tool` of `server` with `args`.",
    "required": ["server", "tool"],
    "properties": {
        "server": {
            "type": "string",
            "pattern": "^[^/]+$",
            "description": "Catalog or Kubernetes (`-mcp`) name.",
        },
        "tool": {"type": "string", "pattern": "^[^/]+$"},
        "args": {"type": "object", "description": "The tool's arguments."},
        "arguments": {"type": "object", "description": "Same as `args`."},
    },
    "additionalProperties": False,
}


def _document(doc: dict[str, Any]) -> None:
    """Add the aliases to a built document (idempotent: the document is cached)."""
    paths: dict[str, Any] = doc.get("paths", {})
    call = paths.get(CALL_PATH, {}).get("post")
    if call is not None and _CALL_NOTE not in call.get("description", ""):
        call["description"] = call.get("description", "") + _CALL_NOTE
    query = paths.get(QUERY_PATH, {}).get("post")
    if query is None or _QUERY_NOTE in query.get("description", ""):
        return
    query["description"] = query.get("description", "") + _QUERY_NOTE
    content = query.setdefault("requestBody", {}).setdefault("content", {})
    body = content.setdefault("application/json", {})
    original = body.get("schema")
    body["schema"] = {"anyOf": [original, _DIRECT_CALL]} if original else _DIRECT_CALL
    responses = query.setdefault("responses", {})
    ok = responses.get("200", {}).get("content", {}).get("application/json", {})
    if "schema" in ok:
        ok["schema"] = {"anyOf": [ok["schema"], {"$ref": "#/components/schemas/ToolCallResponse"}]}
    for code, text in ERROR_TEXT.items():
        responses.setdefault(
            str(code),
            {
                "description": f"{text} (direct tool call)",
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}
                },
            },
        )

