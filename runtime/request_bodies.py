"""Request bodies at the ASGI level: read one ahead of the app, and ``curl -d`` as JSON.

``curl -d '{"text": "…"}'`` without ``-H 'Content-Type: application/json'`` sends the
JSON as ``application/x-www-form-urlencoded``; the seed plan's examples are written that
way. No mcpfleet API takes form bodies, so :class:`CurlJsonBodies` relabels such a body
as JSON when it is one (it starts with ``{`` or ``[``) and leaves everything else alone:
a real form, or a body too large to look at, reaches the app unchanged and gets the
app's own answer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

__all__ = ["BufferedBody", "CurlJsonBodies", "read_body", "replay", "with_header"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

PEEK_LIMIT = 1 << 20
"""Bodies up to 1 MiB are read ahead; larger ones pass through untouched."""
_FORM = b"application/x-www-form-urlencoded"


@dataclass(frozen=True)
class BufferedBody:
    """The messages read so far and, when the whole body fitted, the body itself."""

    messages: list[Message]
    body: bytes | None


async def read_body(receive: Receive, limit: int = PEEK_LIMIT) -> BufferedBody:
    """Read the request body ahead of the app, up to ``limit`` bytes."""
    messages: list[Message] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return BufferedBody(messages, None)
        size += len(message.get("body", b""))
        if size > limit:
            return BufferedBody(messages, None)
        if not message.get("more_body", False):
            return BufferedBody(messages, b"".join(m.get("body", b"") for m in messages))


def replay(messages: list[Message], receive: Receive) -> Receive:
    """A ``receive`` that hands out ``messages`` first, then reads on."""
    pending = list(messages)

    async def receive_again() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return receive_again


def with_header(scope: Scope, name: bytes, value: bytes) -> Scope:
    """A copy of ``scope`` with header ``name`` set to ``value`` (replacing any)."""
    headers = [(k, v) for k, v in scope.get("headers", []) if k.lower() != name]
    return {**scope, "headers": [*headers, (name, value)]}


def _content_type(scope: Scope) -> bytes:
    for key, value in scope.get("headers", []):
        if key.lower() == b"content-type":
            return bytes(value).split(b";", 1)[0].strip().lower()
    return b""


class CurlJsonBodies:
    """ASGI middleware: a JSON body sent as a form (``curl -d``) is read as JSON."""

    def __init__(self, app: ASGIApp, prefix: str = "/api/") -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope.get("method") not in ("POST", "PUT", "PATCH")
            or not str(scope.get("path", "")).startswith(self.prefix)
            or _content_type(scope) != _FORM
        ):
            await self.app(scope, receive, send)
            return
        buffered = await read_body(receive)
        if buffered.body is not None and buffered.body.lstrip()[:1] in (b"{", b"["):
            scope = with_header(scope, b"content-type", b"application/json")
        await self.app(scope, replay(buffered.messages, receive), send)
