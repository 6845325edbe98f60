"""The ``/mcp`` route: the SDK's streamable-HTTP manager, with the gateway's three rules.

* It serves POST only (the route is declared so): stateless serving has no standalone
  event stream to GET and no session to DELETE, so both answer 405 with ``Allow: POST``
  (the transport spec allows it) rather than holding open a stream nothing writes to.
* A body that is not a JSON-RPC request or notification envelope (``{}``, an object
  ``id``) is answered -32600 Invalid Request here (:mod:`runtime.gateway.envelope`); the
  SDK's 2025-era path would otherwise take an object ``id`` for a notification (202).
* Every refusal is JSON. The SDK answers a few HTTP-level refusals in plain text or with
  no body (406 Accept); those are rewritten into a JSON-RPC error object with the same
  status, so a client never has to parse anything else.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp_types import INVALID_REQUEST
from starlette.types import Message, Receive, Scope, Send

from runtime.gateway.envelope import envelope_problem, invalid_request_body

__all__ = ["McpRoute", "read_body", "replay"]


class McpRoute:
    """ASGI app for ``POST /mcp``; the session manager lives on ``app.state.mcp`` (lifespan)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await read_body(receive)
        if body is None:
            return  # the client went away before sending its body
        problem = _problem(body)
        if problem is not None:
            await _send_json(send, 400, [], invalid_request_body(problem))
            return
        manager: StreamableHTTPSessionManager = scope["app"].state.mcp
        await manager.handle_request(scope, replay(body, receive), _JsonRefusals(send))


async def read_body(receive: Receive) -> bytes | None:
    """The whole request body (the BodyLimit guard bounds it), or None on disconnect."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


def replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that yields the already-read body once, then the real channel."""
    pending = True

    async def replayed() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


def _problem(body: bytes) -> str | None:
    try:
        message = json.loads(body)
    except (ValueError, RecursionError):
        return None  # the SDK answers -32700 Parse error
    return envelope_problem(message)


async def _send_json(
    send: Send, status: int, headers: list[tuple[bytes, bytes]], payload: bytes
) -> None:
    headers = [
        *headers,
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


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
        await _send_json(self._send, status, headers, payload)
