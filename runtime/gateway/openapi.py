"""The OpenAPI document, made to say everything the app can answer.

FastAPI documents the routes it serves; what it cannot know is added here, once for
every route (present and future, extensions' too): the ``/mcp`` endpoint (served by the
MCP SDK, not a FastAPI route) and its JSON-RPC envelope; the bearer security the
middleware enforces on ``/mcp``, ``/api/…`` and the registry (not on health and
metrics) with the answers it gives before any route runs (401, 403, 429, 503); the body
limit's 413 on every operation; and that request validation failures answer 400 with
the gateway's error body, not FastAPI's 422. The Schemathesis pass
(``tests/mcpfleet/test_openapi_fuzz.py``) holds the app to this document.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from runtime.gateway.security import MCP_PATH, OPEN_PATHS, PROTECTED_PREFIXES

__all__ = ["install_openapi"]

ERROR_REF = {"$ref": "#/components/schemas/ErrorResponse"}


def install_openapi(app: FastAPI) -> None:
    """Replace ``app.openapi`` with the builder below (cached after the first call)."""

    def build() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _document(app)
        return app.openapi_schema

    app.openapi = build  # type: ignore[method-assign]


def _document(app: FastAPI) -> dict[str, Any]:
    doc = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
    )
    components = doc.setdefault("components", {})
    components.setdefault("securitySchemes", {})["bearer"] = {
        "type": "http",
        "scheme": "bearer",
        "description": "A token from `mcpfleet token create`.",
    }
    schemas = components.setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    paths: dict[str, dict[str, Any]] = doc.setdefault("paths", {})
    paths[MCP_PATH] = _mcp_path_item()
    for path, item in paths.items():
        protected = path == MCP_PATH or (
            path.startswith(PROTECTED_PREFIXES) and path not in OPEN_PATHS
        )
        for operation in item.values():
            responses = operation.setdefault("responses", {})
            if _is_fastapi_validation(responses.get("422")):
                del responses["422"]  # the gateway answers validation failures with 400
            if "requestBody" in operation or operation.get("parameters"):
                responses.setdefault("400", _error("Malformed request."))
            if protected:
                operation["security"] = [{"bearer": []}]
                for status, answer in GUARD_ANSWERS.items():
                    responses.setdefault(status, answer)
            responses.setdefault("413", _error(TOO_LARGE))
    return doc


TOO_LARGE = "The request body is larger than the gateway's limit (`gateway.maxRequestBody`)."
GUARD_ANSWERS: dict[str, dict[str, Any]] = {
    "401": {
        "description": "Missing, unknown, expired or revoked bearer token.",
        "content": {"application/json": {"schema": ERROR_REF}},
        "headers": {"WWW-Authenticate": {"schema": {"type": "string"}, "required": True}},
    },
    "403": {
        "description": "The token's scopes do not cover this server, or the address is not "
        "in the allowlist.",
        "content": {"application/json": {"schema": ERROR_REF}},
    },
    "429": {
        "description": "Rate limit exceeded; see Retry-After.",
        "content": {"application/json": {"schema": ERROR_REF}},
        "headers": {"Retry-After": {"schema": {"type": "integer"}, "required": True}},
    },
    "503": {
        "description": "The gateway is starting, or its token store is unreachable; retry.",
        "content": {"application/json": {"schema": ERROR_REF}},
    },
}
"""What the security middleware can answer on any protected route, before the route runs."""


def _is_fastapi_validation(response: dict[str, Any] | None) -> bool:
    """FastAPI's own 422 entry (a route that declares 422 itself keeps it)."""
    if response is None:
        return False
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    return bool(schema.get("$ref", "").endswith("/HTTPValidationError"))


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ERROR_REF}}}


JSONRPC_MESSAGE = {
    "type": "object",
    "description": "A JSON-RPC 2.0 request (with `id`) or notification (without) — MCP.",
    "required": ["jsonrpc", "method"],
    "properties": {
        "jsonrpc": {"const": "2.0"},
        "id": {"type": ["string", "integer"], "description": "Absent for a notification."},
        "method": {"type": "string", "examples": ["tools/list", "tools/call"]},
        "params": {"type": ["object", "null"]},
    },
}
JSONRPC_ANSWER = {
    "type": "object",
    "description": "A JSON-RPC 2.0 response: `result`, or `error` with `code` and `message`.",
    "required": ["jsonrpc"],
    "properties": {"jsonrpc": {"const": "2.0"}},
}


def _mcp_path_item() -> dict[str, Any]:
    answer = {"application/json": {"schema": JSONRPC_ANSWER}}

    def refused(description: str, **extra: Any) -> dict[str, Any]:
        return {"description": description, "content": answer, **extra}

    return {
        "post": {
            "tags": ["mcp"],
            "summary": "The federated MCP endpoint (streamable HTTP)",
            "description": (
                "Serves MCP 2025-11-25 clients (initialize, no session id needed) and "
                "2026-07-28 clients (stateless, server/discover, Mcp-Method/Mcp-Name) alike. "
                "tools/list is every healthy upstream's tools named <server>__<tool>. "
                "POST only: there is no event stream to GET and no session to DELETE (405). "
                "Every refusal carries a JSON-RPC error object."
            ),
            "operationId": "mcp",
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": JSONRPC_MESSAGE}},
            },
            "responses": {
                "200": {"description": "JSON-RPC response.", "content": answer},
                "202": {"description": "Notification accepted."},
                "400": refused("Not JSON, or not a valid JSON-RPC request (-32700, -32600)."),
                "401": refused(
                    "Missing or rejected bearer token.",
                    headers=GUARD_ANSWERS["401"]["headers"],
                ),
                "403": refused("Out of scope or address not allowed."),
                "404": refused("Unknown session id."),
                "406": refused("Accept must allow application/json."),
                "413": refused(TOO_LARGE),
                "429": refused(
                    "Rate limit exceeded (Retry-After).", headers=GUARD_ANSWERS["429"]["headers"]
                ),
                "503": refused("The gateway is starting, or its token store is unreachable."),
            },
        },
    }
