"""One request-body limit for every HTTP route of the gateway, present and future.

A pure ASGI guard outside every route, so the REST API, ``/mcp`` (both the SDK path and
the fast path), the registry, and any router another service mounts later get the same
bound and the same answer: 413 with the JSON error body (a JSON-RPC error object on
``/mcp``), before a byte past the limit is buffered. A declared ``Content-Length`` over
the limit is refused unread; a chunked body is counted as it arrives, and the read that
crosses the limit answers 413 and unwinds whatever was reading it.

The limit is the catalog's ``gateway.maxRequestBody`` (``app.state.max_request_body``,
set by the lifespan); until the lifespan has run, the default applies.
"""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from runtime.gateway.errors import TooLarge
from runtime.gateway.security import refuse

__all__ = ["DEFAULT_MAX_REQUEST_BODY", "BodyLimit", "too_large"]

logger = logging.getLogger(__name__)
DEFAULT_MAX_REQUEST_BODY = 4 * 1024 * 1024
"""4 MiB, the MCP SDK's own default."""


def too_large(limit: int) -> TooLarge:
    """The refusal, saying what the limit is (a client can split its request)."""
    return TooLarge(f"the request body is larger than {limit} bytes", limit=limit)


class _Overflow(HTTPException):
    """Raised from ``receive`` to stop a reader; an HTTPException, so frameworks between
    here and the route pass it on (or answer it, which the guard then drops)."""

    def __init__(self) -> None:
        super().__init__(413, "request body too large")


class BodyLimit:
    """ASGI middleware: 413 for any request body over ``app.state.max_request_body``."""

    def __init__(self, app: ASGIApp, default: int = DEFAULT_MAX_REQUEST_BODY) -> None:
        self.app = app
        self.default = default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = int(getattr(scope["app"].state, "max_request_body", self.default))
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await refuse(too_large(limit), scope, send)
            return
        counted = _Counted(limit, receive, send, scope)
        try:
            await self.app(scope, counted.receive, counted.send)
        except Exception:
            if not counted.refused:
                raise
            # The reader failed because the guard cut it off; the client has its 413.
            logger.debug("request body over the limit", extra={"path": scope["path"]})


class _Counted:
    """The request's ``receive`` and ``send``, counting body bytes against the limit."""

    def __init__(self, limit: int, receive: Receive, send: Send, scope: Scope) -> None:
        self.limit, self._receive, self._send, self._scope = limit, receive, send, scope
        self.received = 0
        self.started = False
        self.refused = False

    async def receive(self) -> Message:
        message = await self._receive()
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.received > self.limit:
                if not self.started and not self.refused:
                    self.refused = True
                    await refuse(too_large(self.limit), self._scope, self._send)
                raise _Overflow()
        return message

    async def send(self, message: Message) -> None:
        if self.refused:
            return  # the 413 is already on the wire; what the app answers next is moot
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)


def _content_length(scope: Scope) -> int | None:
    for key, value in scope["headers"]:
        if key == b"content-length":
            return int(value) if value.isdigit() else None
    return None
