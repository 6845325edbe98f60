"""The ``/mcp`` route: the SDK's streamable-HTTP manager, with the gateway's two rules.

* Stateless serving has no standalone event stream to GET and no session to DELETE, so
  both answer 405 at once (the transport spec allows it) rather than holding open a
  stream nothing will ever write to.
* Every refusal is JSON. The SDK answers a few HTTP-level refusals in plain text or with
  no body (413 body too large, 406 Accept); those are rewritten into a JSON-RPC error
  object with the same status, so a client never has to parse anything else.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp_types import INVALID_REQUEST
from starlette.responses import JSONResponse
from starlette.types import Message, Receive, Scope, Send

__all__ = ["McpRoute"]


class McpRoute:
    """ASGI app for ``/mcp``; the session manager lives on ``app.state.mcp`` (lifespan)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] != "POST":
            body = {
                "error": {
                    "code": "method_not_allowed",
                    "reason": "the gateway serves stateless MCP: POST only",
                }
            }
            response = JSONResponse(body, status_code=405, headers={"Allow": "POST"})
            await response(scope, receive, send)
            return
        manager: StreamableHTTPSessionManager = scope["app"].state.mcp
        await manager.handle_request(scope, receive, _JsonRefusals(send))


class _JsonRefusals:
    """Wraps ``send``: an error response that is not JSON is replaced by a JSON-RPC error."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self._held: dict[str, Any] | None = None
        self._body = b""

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            content_type = dict(headers).get(b"content-type", b"")
            if message["status"] >= 400 and not content_type.startswith(b"application/json"):
                kept = [
                    (k, v)
                    for k, v in headers
                    if k.lower() not in (b"content-type", b"content-length")
                ]
                self._held = {"status": message["status"], "headers": kept}
                return
        elif message["type"] == "http.response.body" and self._held is not None:
            self._body += message.get("body", b"")
            if message.get("more_body"):
                return
            await self._send_json(self._held["status"], self._held["headers"])
            return
        await self._send(message)

    async def _send_json(self, status: int, headers: list[tuple[bytes, bytes]]) -> None:
        text = self._body.decode("utf-8", "replace").strip() or HTTPStatus(status).phrase
        payload = json.dumps(
            {"jsonrpc": "2.0", "id": None, "error": {"code": INVALID_REQUEST, "message": text}}
        ).encode()
        headers = [
            *headers,
            (b"content-type", b"application/json"),
            (b"content-length", str(len(payload)).encode()),
        ]
        await self._send({"type": "http.response.start", "status": status, "headers": headers})
        await self._send({"type": "http.response.body", "body": payload})
