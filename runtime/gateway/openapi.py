"""The OpenAPI document, made to say what the app really does.

FastAPI documents the routes it serves; three things it cannot know are added here: the
``/mcp`` endpoint (served by the MCP SDK, not a FastAPI route), the bearer security the
middleware enforces on ``/mcp`` and ``/api/…`` (not on health and metrics), and that
request validation failures answer 400 with the gateway's error body, not FastAPI's 422.
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
            if responses.pop("422", None) is not None:
                responses.setdefault("400", _error("Malformed request."))
            if protected:
                operation["security"] = [{"bearer": []}]
    return doc


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ERROR_REF}}}


def _mcp_path_item() -> dict[str, Any]:
    jsonrpc = {"type": "object", "description": "A JSON-RPC 2.0 message (MCP)."}
    json_body = {"application/json": {"schema": jsonrpc}}
    refused = {"application/json": {"schema": jsonrpc}}
    return {
        "post": {
            "tags": ["mcp"],
            "summary": "The federated MCP endpoint (streamable HTTP)",
            "description": (
                "Serves MCP 2025-11-25 clients (initialize, no session id needed) and "
                "2026-07-28 clients (stateless, server/discover, Mcp-Method/Mcp-Name) alike. "
                "tools/list is every healthy upstream's tools named <server>__<tool>. "
                "Gateway refusals (401, 403, 429) carry a JSON-RPC error object."
            ),
            "operationId": "mcp",
            "requestBody": {"required": True, "content": json_body},
            "responses": {
                "200": {"description": "JSON-RPC response.", "content": json_body},
                "202": {"description": "Notification accepted."},
                "400": {"description": "Not a valid JSON-RPC message.", "content": refused},
                "401": {"description": "Missing or rejected bearer token.", "content": refused},
                "403": {"description": "Out of scope or address not allowed.", "content": refused},
                "404": {"description": "Unknown session id.", "content": refused},
                "406": {"description": "Accept must allow application/json."},
                "413": {"description": "Request body too large.", "content": refused},
                "429": {"description": "Rate limit exceeded (Retry-After).", "content": refused},
            },
        },
        "get": {
            "tags": ["mcp"],
            "summary": "No standalone event stream: the gateway serves stateless MCP (405)",
            "operationId": "mcp_get",
            "responses": {
                "401": {"description": "Missing or rejected bearer token.", "content": refused},
                "405": {"description": "Method not allowed."},
            },
        },
        "delete": {
            "tags": ["mcp"],
            "summary": "No sessions to end: the gateway serves stateless MCP (405)",
            "operationId": "mcp_delete",
            "responses": {
                "401": {"description": "Missing or rejected bearer token.", "content": refused},
                "405": {"description": "Method not allowed."},
            },
        },
    }
