"""The JSON-RPC 2.0 envelope a POST to ``/mcp`` must have, checked before anything else.

The SDK's 2025-era path validates a message against a union of request, notification and
response models; a request whose ``id`` is an object (or ``null``, ``true``, ``1.5``)
fails the request model and then passes as a notification, so it got 202 and no answer.
JSON-RPC 2.0 (§4, §5.1) says such a message is an Invalid Request and must be answered
with error -32600 and ``id: null``; MCP narrows ``id`` further to a string or an integer.
Both the SDK path and the fast path apply this one check.
"""

from __future__ import annotations

import json
from typing import Any

from mcp_types import INVALID_REQUEST

__all__ = ["envelope_problem", "invalid_request_body"]


def envelope_problem(message: Any) -> str | None:
    """Why ``message`` (a parsed body) is not a JSON-RPC request or notification, or None.

    Batches and responses are left to the SDK, which answers them itself.
    """
    if not isinstance(message, dict):
        return None
    if "method" not in message:
        if "result" in message or "error" in message:
            return None
        return 'a JSON-RPC request needs `jsonrpc: "2.0"` and a `method`'
    if message.get("jsonrpc") != "2.0":
        return 'a JSON-RPC request needs `jsonrpc: "2.0"`'
    if not isinstance(message["method"], str):
        return "`method` must be a string"
    if "id" in message and not _valid_id(message["id"]):
        return "`id` must be a string or an integer"
    return None


def invalid_request_body(reason: str) -> bytes:
    """The JSON-RPC error answering an unusable envelope (its id cannot be trusted: null)."""
    error = {"code": INVALID_REQUEST, "message": f"Invalid Request: {reason}"}
    return json.dumps({"jsonrpc": "2.0", "id": None, "error": error}).encode()


def _valid_id(value: Any) -> bool:
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))
